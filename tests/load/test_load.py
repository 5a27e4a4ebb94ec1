"""A short run of bench/load.py in CI: zero 5xx and every accepted upload complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import IN_CI


def test_short_load_run_has_no_5xx_and_loses_nothing() -> None:
    for path in ("/usr/local/bin/pg_ctl", "/usr/bin/redis-server"):
        if not Path(path).exists():
            (pytest.fail if IN_CI else pytest.skip)(f"{path} is missing")
    from bench.load import run

    summary = run(seconds=10, uploaders=4, readers=4)
    assert summary["accepted_uploads"] > 0, summary
    assert summary["five_xx"] == 0, summary
    assert summary["client_errors"] == [], summary
    assert summary["all_complete"], summary
    assert summary["renditions_failed"] == 0, summary
    assert summary["renditions"] == 2 * summary["accepted_uploads"], summary  # Premium
