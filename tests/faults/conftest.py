"""Fixtures for fault tests: a private PostgreSQL and Redis we may kill, the app and
workers as real processes, and helpers to upload and to read the database directly."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg
import httpx
import pytest
import pyvips

from tests.conftest import IN_CI
from tests.faults.stack import (
    REDIS_SERVER,
    PrivatePostgres,
    Processes,
    free_port,
    postgres_bindir,
)

ADMIN_PASSWORD = "faults-admin-password"
# Liveness bound for background work, not a speed target: lost work fails here.
COMPLETE_WITHIN_SECONDS = 180


def _require(path: str) -> None:
    if Path(path).exists():
        return
    if IN_CI:
        pytest.fail(f"{path} is missing")
    pytest.skip(f"{path} is missing")


@pytest.fixture(scope="module")
def pg() -> Iterator[PrivatePostgres]:
    """A PostgreSQL of our own, so the tests may stop and start it."""
    if postgres_bindir() is None:
        (pytest.fail if IN_CI else pytest.skip)("initdb/pg_ctl not found (set PG_BIN)")
    root = Path(tempfile.mkdtemp(prefix="faults-pg-"))
    os.chmod(root, 0o755)  # noqa: S103 - the postgres user must reach its data dir
    server = PrivatePostgres(root / "data", free_port(), root / "postgres.log")
    server.init()
    server.start()
    try:
        yield server
    finally:
        server.stop_quietly()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    running = Processes(tmp_path)
    try:
        yield running
    finally:
        running.close()  # whatever happened, nothing we started survives the test


@pytest.fixture
def stack_env(tmp_path: Path, pg: PrivatePostgres, procs: Processes) -> dict[str, str]:
    """Production shape: PostgreSQL, a Redis broker of our own, local storage."""
    _require(REDIS_SERVER)
    reset_database(pg.url)
    redis_port = free_port()
    procs.redis(redis_port)
    return {
        "DATABASE_URL": pg.url,
        "BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "REDIS_PORT": str(redis_port),
        "DATA_DIR": str(tmp_path / "data"),
        "STORAGE_URL": f"file://{tmp_path / 'media'}",
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "RECONCILE_AFTER_SECONDS": "5",
        "RATE_LIMIT_LOGIN_PER_IP": "off",
        "RATE_LIMIT_LOGIN_PER_USERNAME": "off",
        "RATE_LIMIT_UPLOADS_PER_USER": "off",
        "DATABASE_POOL_SIZE": "4",
    }


def reset_database(url: str) -> None:
    async def reset() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
        finally:
            await conn.close()

    asyncio.run(reset())


def query(url: str, sql: str) -> list[asyncpg.Record]:
    async def run() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetch(sql)
        finally:
            await conn.close()

    return asyncio.run(run())


def photo(width: int = 640, height: int = 480, seed: int = 0) -> bytes:
    xy = pyvips.Image.xyz(width, height)
    image = (xy[0] * (255.0 / width)).bandjoin([xy[1] * (255.0 / height), xy[0] * 0 + seed % 256])
    return image.cast("uchar").copy(interpretation="srgb").jpegsave_buffer(Q=80)


def login(base: str, username: str, password: str) -> dict[str, str]:
    r = httpx.post(
        f"{base}/api/auth/token", json={"username": username, "password": password}, timeout=30
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def make_user(base: str, username: str, plan: str = "Premium") -> dict[str, str]:
    admin = login(base, "admin", ADMIN_PASSWORD)
    r = httpx.post(
        f"{base}/api/admin/users",
        json={"username": username, "password": "user-password", "plan": plan},
        headers=admin,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    return login(base, username, "user-password")


def upload_many(
    base: str, headers: dict[str, str], count: int, *, clients: int = 6, on_done=None
) -> list[httpx.Response]:
    """Upload `count` small photos from `clients` threads; `on_done(n)` after each."""
    bodies = [photo(seed=i) for i in range(count)]
    done = 0

    def one(i: int) -> httpx.Response:
        nonlocal done
        r = httpx.post(
            f"{base}/api/images",
            files={"file": (f"p{i}.jpg", bodies[i], "image/jpeg")},
            data={"caption": f"fault {i}"},
            headers=headers,
            timeout=120,
        )
        done += 1
        if on_done is not None:
            on_done(done)
        return r

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, range(count)))


def wait_all_ready(url: str, images: int, seconds: float = COMPLETE_WITHIN_SECONDS) -> dict:
    """Poll the database until `images` images have every plan rendition ready."""
    import time

    deadline = time.monotonic() + seconds
    while True:
        rows = query(
            url,
            "SELECT (SELECT count(*) FROM images) AS images, "
            "(SELECT count(*) FROM renditions) AS renditions, "
            "(SELECT count(*) FROM renditions WHERE status = 'ready') AS ready, "
            "(SELECT count(*) FROM renditions WHERE status = 'failed') AS failed",
        )
        state = dict(rows[0])
        if state["images"] == images and state["ready"] == state["renditions"] > 0:
            return state
        if state["failed"] or time.monotonic() > deadline:
            return state
        time.sleep(0.5)
