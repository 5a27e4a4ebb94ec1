"""Rate-limit fixtures: SQLite only (the limits do not touch the database), tight limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
import pyvips
from litestar.testing import AsyncTestClient

from imageuploader.app import create_app
from imageuploader.settings import Settings
from tests.conftest import _reset_database


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('ratelimit-db') / 'test.sqlite'}"


@pytest.fixture
async def limited_settings(
    database_url: str, make_settings: Callable[..., Settings]
) -> Callable[..., Settings]:
    """Settings with every limit off unless the test sets it."""
    await _reset_database(database_url)

    def make(**env: str) -> Settings:
        base = {
            "DATABASE_URL": database_url,
            "RATE_LIMIT_LOGIN_PER_IP": "off",
            "RATE_LIMIT_LOGIN_PER_USERNAME": "off",
            "RATE_LIMIT_UPLOADS_PER_USER": "off",
        }
        return make_settings(**{**base, **env})

    return make


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings)) as client:
        client.follow_redirects = False
        yield client


def photo(shade: int = 90) -> bytes:
    """A tiny JPEG; a different `shade` gives different bytes (not a duplicate)."""
    xy = pyvips.Image.xyz(64, 48)
    image = (xy[0] * 4).bandjoin([xy[1] * 5, xy[0] * 0 + shade % 256])
    return image.cast("uchar").copy(interpretation="srgb").write_to_buffer(".jpg")
