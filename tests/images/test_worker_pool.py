"""The server's in-process workers query through a pool of their own, closed at shutdown."""

from __future__ import annotations

import asyncio

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from imageuploader.app import create_app
from imageuploader.postgres_pool import LoopBoundPostgresEngine
from imageuploader.settings import Settings
from tests.conftest import bearer

from .conftest import DONE_WITHIN_SECONDS, FINISHED, photo

POSTGRES = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)


async def upload_and_wait(client: AsyncTestClient, width: int = 320) -> None:
    """The admin (Enterprise) uploads: the h400 rendition and both WebP variants are
    worker jobs. Returns once every one is ready."""
    admin = await bearer(client, "admin", "admin")
    data = photo(width, 240)  # a width of its own: the same bytes again are a duplicate
    r = await client.post(
        "/api/images", files={"file": ("p.jpg", data, "image/jpeg")}, headers=admin
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


@POSTGRES
async def test_workers_pool_their_connections_on_their_own_loop(app: Litestar) -> None:
    engine = app.state.slot.services.engine
    assert isinstance(engine, LoopBoundPostgresEngine)
    async with AsyncTestClient(app=app) as client:
        await upload_and_wait(client)
        # The web requests' pool, and the one the worker loop opened with its first job.
        pools = list(engine._pools.values())
        assert len(pools) == 2, engine._pools
        assert not any(pool._closed for pool in pools)
    # Each pool was closed on its own loop when the app and its workers stopped.
    assert engine._pools == {}
    assert all(pool._closed for pool in pools)


@POSTGRES
async def test_two_servers_in_one_process_leave_no_pool_open(
    app: Litestar, settings: Settings
) -> None:
    """Dramatiq runs every worker's async jobs on the latest worker's loop: once the
    second server starts, the first one's jobs open a pool on the second's loop."""
    second = create_app(settings)
    engines = [a.state.slot.services.engine for a in (app, second)]
    pools = []
    async with AsyncTestClient(app=app) as first_client:
        await upload_and_wait(first_client)
        async with AsyncTestClient(app=second) as second_client:
            await upload_and_wait(second_client, 321)
            await upload_and_wait(first_client, 322)
            pools = [pool for engine in engines for pool in engine._pools.values()]
            assert len(pools) == 5  # the first app's: web, its loop, the second's loop
    assert [engine._pools for engine in engines] == [{}, {}]
    assert all(pool._closed for pool in pools)
