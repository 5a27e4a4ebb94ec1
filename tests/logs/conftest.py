"""Log tests run on SQLite only: logging does not depend on the database."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('logs-db') / 'test.sqlite'}"
