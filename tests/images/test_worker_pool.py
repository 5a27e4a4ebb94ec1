"""The server's in-process workers query through a pool of their own, closed at shutdown."""

from __future__ import annotations

import asyncio

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from imageuploader.postgres_pool import LoopBoundPostgresEngine
from tests.conftest import bearer

from .conftest import DONE_WITHIN_SECONDS, FINISHED, photo


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_workers_pool_their_connections_on_their_own_loop(app: Litestar) -> None:
    engine = app.state.slot.services.engine
    assert isinstance(engine, LoopBoundPostgresEngine)
    async with AsyncTestClient(app=app) as client:
        admin = await bearer(client, "admin", "admin")
        # Enterprise: the h400 rendition and both WebP variants are worker jobs.
        r = await client.post(
            "/api/images", files={"file": ("p.jpg", photo(640, 480), "image/jpeg")}, headers=admin
        )
        assert r.status_code == 201, r.text
        url = f"/api/images/{r.json()['id']}"
        deadline = asyncio.get_running_loop().time() + DONE_WITHIN_SECONDS
        while True:
            body = (await client.get(url, headers=admin)).json()
            statuses = [f["status"] for x in body["renditions"] for f in [x, *x["formats"]]]
            if all(s in FINISHED for s in statuses) or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.05)
        assert set(statuses) == {"ready"}, statuses
        # The web requests' pool, and the one the worker loop opened with its first job.
        pools = list(engine._pools.values())
        assert len(pools) == 2, engine._pools
        assert not any(pool._closed for pool in pools)
    # Each pool was closed on its own loop when the app and its workers stopped.
    assert engine._pools == {}
    assert all(pool._closed for pool in pools)
