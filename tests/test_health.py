"""Health (each dependency by name, 503 when one is down), OpenAPI schema."""

from __future__ import annotations

import logging
import socket
import time
import uuid
import warnings
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from litestar.testing import AsyncTestClient

from bench.seaweedfs import SeaweedFS
from imageuploader import db
from imageuploader.app import create_app
from imageuploader.settings import Settings

DEPENDENCIES = {"database", "broker", "storage", "cache"}
pytestmark = pytest.mark.usefixtures("settings")


@pytest.fixture
def closed_port() -> int:
    """A localhost port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def s3_env(server: SeaweedFS) -> dict[str, str]:
    run = uuid.uuid4().hex[:10]
    return {
        "STORAGE_URL": server.storage_url,
        "S3_BUCKETS": ",".join(f"health{run}-{i}" for i in range(4)),
    }


async def health(settings: Settings) -> tuple[int, dict]:
    async with AsyncTestClient(app=create_app(settings)) as client:
        r = await client.get("/health")
        return r.status_code, r.json()


def assert_down(status: int, body: dict, culprit: str) -> None:
    """Anonymous callers learn which component is down, never why (hosts, ports, drivers)."""
    assert status == 503, body
    assert body == {
        "status": "unavailable",
        "checks": {name: "unavailable" if name == culprit else "ok" for name in DEPENDENCIES},
    }


async def health_soon(client: AsyncTestClient, status: int) -> dict:
    """/health once the cached answer (about 2 s) has caught up with a change."""
    deadline = time.monotonic() + 10
    while True:
        r = await client.get("/health")
        if r.status_code == status or time.monotonic() > deadline:
            assert r.status_code == status, r.text
            return r.json()
        await anyio.sleep(0.2)


async def test_health_reports_each_dependency(client: AsyncTestClient) -> None:
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "checks": dict.fromkeys(sorted(DEPENDENCIES), "ok")}


async def test_all_up_on_the_production_services(
    settings: Settings,
    make_settings: Callable[..., Settings],
    redis_url: str,
    seaweedfs: SeaweedFS,
) -> None:
    status, body = await health(
        make_settings(
            DATABASE_URL=settings.database_url,
            BROKER_URL=redis_url,
            CACHE_URL=redis_url,
            **s3_env(seaweedfs),
        )
    )
    assert status == 200, body
    assert set(body["checks"]) == DEPENDENCIES


async def test_broker_down(
    settings: Settings, make_settings: Callable[..., Settings], closed_port: int, redis_url: str
) -> None:
    broker = f"redis://127.0.0.1:{closed_port}/0"
    # A Redis cache of its own: with an in-process CACHE_URL the image cache
    # would follow the broker to its Redis and be reported down too.
    status, body = await health(
        make_settings(DATABASE_URL=settings.database_url, BROKER_URL=broker, CACHE_URL=redis_url)
    )
    assert_down(status, body, "broker")


async def test_cache_down(
    settings: Settings, make_settings: Callable[..., Settings], closed_port: int
) -> None:
    cache = f"redis://127.0.0.1:{closed_port}/1"
    status, body = await health(make_settings(DATABASE_URL=settings.database_url, CACHE_URL=cache))
    assert_down(status, body, "cache")


@pytest.mark.faults
async def test_storage_down(
    settings: Settings, make_settings: Callable[..., Settings], own_seaweedfs: SeaweedFS
) -> None:
    app = create_app(make_settings(DATABASE_URL=settings.database_url, **s3_env(own_seaweedfs)))
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/health")).status_code == 200
        # S3 goes away while the app runs: its port is closed from now on.
        own_seaweedfs.kill()
        body = await health_soon(client, 503)
    assert_down(503, body, "storage")


async def test_database_down(client: AsyncTestClient, closed_port: int) -> None:
    assert (await client.get("/health")).status_code == 200
    # The database goes away while the app runs: point the tables at a dead server.
    live = db.engine_for(client.app.state.settings.database_url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Piccolo warns that it cannot read the version
        dead = db.engine_for(f"postgresql://postgres@127.0.0.1:{closed_port}/gone")
    db.use_engine(dead)
    try:
        body = await health_soon(client, 503)
    finally:
        db.use_engine(live)
    assert_down(503, body, "database")


async def test_the_details_go_to_the_log_and_to_admins_only(
    settings: Settings,
    make_settings: Callable[..., Settings],
    closed_port: int,
    redis_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = f"redis://127.0.0.1:{closed_port}/0"
    app = create_app(
        make_settings(DATABASE_URL=settings.database_url, BROKER_URL=broker, CACHE_URL=redis_url)
    )
    async with AsyncTestClient(app=app) as client:
        with caplog.at_level(logging.WARNING, logger="imageuploader.web.health"):
            r = await client.get("/health")
        assert_down(r.status_code, r.json(), "broker")
        assert str(closed_port) not in r.text
        logged = [rec.getMessage() for rec in caplog.records if "broker" in rec.getMessage()]
        assert any(str(closed_port) in m or "Connection" in m for m in logged), logged

        token = await client.post(
            "/api/auth/token", json={"username": "admin", "password": "admin"}
        )
        admin = {"Authorization": f"Bearer {token.json()['access_token']}"}
        r = await client.get("/api/admin/health", headers=admin)
        assert r.status_code == 503
        assert r.json()["status"] == "unavailable"
        assert r.json()["checks"]["broker"].startswith("error: ")
        assert r.json()["checks"]["database"] == "ok"
        assert (await client.get("/api/admin/health")).status_code == 401


async def test_a_non_admin_gets_no_details(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    alice = await make_user("alice")
    assert (await client.get("/api/admin/health", headers=alice)).status_code == 403


async def test_anonymous_calls_share_one_check_every_two_seconds(
    client: AsyncTestClient,
) -> None:
    calls = 0

    async def counting() -> None:
        nonlocal calls
        calls += 1
        await anyio.sleep(0.05)

    client.app.state.health_checks["counted"] = counting
    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(client.get, "/health")
    for _ in range(10):
        r = await client.get("/health")
        assert r.status_code == 200 and r.json()["checks"]["counted"] == "ok"
    assert calls == 1


async def test_openapi_schema(client: AsyncTestClient) -> None:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in ("/api/auth/token", "/api/me", "/api/admin/plans", "/api/admin/sizes"):
        assert path in paths
