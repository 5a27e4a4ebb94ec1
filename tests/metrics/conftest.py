"""Metrics fixtures: SQLite only (metrics do not depend on the database), a photo, polling."""

from __future__ import annotations

import re
import time

import anyio
import pytest
import pyvips
from litestar.testing import AsyncTestClient

# Liveness bound for background work, not a speed target: a stuck job fails here.
DONE_WITHIN_SECONDS = 60


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('metrics-db') / 'test.sqlite'}"


def photo() -> bytes:
    xy = pyvips.Image.xyz(320, 240)
    image = (xy[0] * 0.7).bandjoin([xy[1], xy[0] * 0 + 90])
    return image.cast("uchar").copy(interpretation="srgb").write_to_buffer(".jpg")


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text format, or None when absent."""
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$", line)
        if not match or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match[3] or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match[4])
    return None


async def wait_until_finished(client: AsyncTestClient, headers: dict, image_id: str) -> dict:
    deadline = time.monotonic() + DONE_WITHIN_SECONDS
    while True:
        view = (await client.get(f"/api/images/{image_id}", headers=headers)).json()
        if all(r["status"] in ("ready", "failed") for r in view["renditions"]):
            return view
        assert time.monotonic() < deadline, f"renditions still pending: {view}"
        await anyio.sleep(0.1)
