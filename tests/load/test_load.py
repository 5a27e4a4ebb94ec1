"""A short run of bench/load.py in CI: zero 5xx and every accepted upload complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.faults.stack import REDIS_SERVER, postgres_bindir


def test_short_load_run_has_no_5xx_and_loses_nothing() -> None:
    missing = []
    if postgres_bindir() is None:
        missing.append("initdb/pg_ctl (set PG_BIN)")
    if not Path(REDIS_SERVER).exists():
        missing.append(REDIS_SERVER)
    if missing:
        (pytest.fail if IN_CI else pytest.skip)(f"missing: {', '.join(missing)}")
    from bench.load import run

    summary = run(seconds=10, uploaders=4, readers=4)
    assert summary["accepted_uploads"] > 0, summary
    assert summary["five_xx"] == 0, summary
    assert summary["client_errors"] == [], summary
    assert summary["all_complete"], summary
    assert summary["renditions_failed"] == 0, summary
    assert summary["renditions"] == 2 * summary["accepted_uploads"], summary  # h200, h400
