"""Limits hold under real parallel requests: 20 uploads at once against 2 free slots
store exactly 2, on a live server (uvicorn, its own threads and database connections)
over PostgreSQL and over SQLite."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from bench.photos import tagged
from tests.conftest import POSTGRES_URL, require_service
from tests.faults.stack import Processes

from .conftest import photo

PARALLEL = 20
PASSWORD = "racer-pass"


@dataclass
class Live:
    base: str
    media: Path
    admin: dict[str, str]

    def token(self, username: str) -> dict[str, str]:
        r = httpx.post(
            f"{self.base}/api/auth/token",
            json={"username": username, "password": PASSWORD},
            timeout=30,
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def user(self, username: str, plan: str) -> dict[str, str]:
        body = {"username": username, "password": PASSWORD, "plan": plan}
        r = httpx.post(f"{self.base}/api/admin/users", json=body, headers=self.admin, timeout=30)
        assert r.status_code == 201, r.text
        return self.token(username)

    def plan(self, name: str, **limits: object) -> None:
        r = httpx.patch(
            f"{self.base}/api/admin/plans/{name}", json=limits, headers=self.admin, timeout=30
        )
        assert r.status_code == 200, r.text

    def upload(self, headers: dict[str, str], data: bytes) -> httpx.Response:
        return httpx.post(
            f"{self.base}/api/images",
            files={"file": ("p.jpg", data, "image/jpeg")},
            headers=headers,
            timeout=120,
        )

    def me(self, headers: dict[str, str]) -> dict:
        r = httpx.get(f"{self.base}/api/me", headers=headers, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def image_dirs(self) -> set[str]:
        """Image ids that have objects in local storage (metadata sidecars aside)."""
        return {
            p.parent.name
            for p in self.media.rglob("*")
            if p.is_file() and ".meta" not in p.relative_to(self.media).parts
        }


async def _empty_postgres(url: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE")
        await connection.execute("CREATE SCHEMA public")
    finally:
        await connection.close()


@pytest.fixture(scope="module", params=["postgres", "sqlite"])
def live(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Live]:
    workdir = tmp_path_factory.mktemp("usage-live")
    if request.param == "postgres":
        require_service(POSTGRES_URL, "PostgreSQL")
        asyncio.run(_empty_postgres(POSTGRES_URL))
        database_url = POSTGRES_URL
        # The session's fixtures recreate the schema they expect on their next use.
        from tests import conftest

        conftest._migrated.discard(POSTGRES_URL)
    else:
        database_url = f"sqlite:///{workdir / 'live.sqlite'}"
    procs = Processes(workdir)
    try:
        _, base = procs.app(
            {
                "DATABASE_URL": database_url,
                "DATA_DIR": str(workdir / "data"),
                "STORAGE_URL": f"file://{workdir / 'data' / 'media'}",
                "BROKER_URL": "memory://",
                "CACHE_URL": "memory://",
                "APP_ENV": "embedded",
                "LOG_LEVEL": "WARNING",
            },
            fast_passwords=True,
        )
        r = httpx.post(
            f"{base}/api/auth/token", json={"username": "admin", "password": "admin"}, timeout=30
        )
        assert r.status_code == 200, r.text
        admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        yield Live(base=base, media=workdir / "data" / "media", admin=admin)
    finally:
        procs.close()


def in_parallel(live: Live, headers: dict[str, str], bodies: list[bytes]) -> list[httpx.Response]:
    """Every upload released at the same instant from its own thread and connection."""
    start = threading.Barrier(len(bodies))

    def one(body: bytes) -> httpx.Response:
        start.wait()
        return live.upload(headers, body)

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(one, bodies))


def test_twenty_parallel_uploads_against_two_free_image_slots(live: Live) -> None:
    live.plan("Premium", max_images=3)
    headers = live.user("racer", "Premium")
    first = live.upload(headers, photo(320, 240))
    assert first.status_code == 201, first.text
    before = live.image_dirs()

    bodies = [photo(96 + i, 64) for i in range(PARALLEL)]  # distinct bytes: no duplicates
    answers = in_parallel(live, headers, bodies)

    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] * 2 + [403] * (PARALLEL - 2), [
        (r.status_code, r.text[:200]) for r in answers
    ]
    for refused in (r for r in answers if r.status_code == 403):
        assert "max_images" in refused.json()["detail"]
    stored = {r.json()["id"] for r in answers if r.status_code == 201}
    assert live.me(headers)["usage"]["images"] == 3
    # Exactly the accepted images have objects: the refused ones left nothing behind.
    assert live.image_dirs() == before | stored


def test_twenty_parallel_uploads_against_room_for_two_by_bytes(live: Live) -> None:
    # Basic: only the primary size, made in the request, so no worker adds bytes later.
    headers = live.user("packer", "Basic")
    base = photo(200, 150)
    first = live.upload(headers, tagged(base, 0))
    assert first.status_code == 201, first.text
    each = live.me(headers)["usage"]["bytes"]  # every tagged copy stores within bytes of this
    live.plan("Basic", max_bytes=each + 2 * each + each // 2)
    before = live.image_dirs()

    answers = in_parallel(live, headers, [tagged(base, n) for n in range(1, PARALLEL + 1)])

    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201] * 2 + [403] * (PARALLEL - 2), [
        (r.status_code, r.text[:200]) for r in answers
    ]
    for refused in (r for r in answers if r.status_code == 403):
        assert "max_bytes" in refused.json()["detail"]
    stored = {r.json()["id"] for r in answers if r.status_code == 201}
    usage = live.me(headers)["usage"]
    assert usage["images"] == 3
    assert usage["bytes"] <= each + 2 * each + each // 2
    assert live.image_dirs() == before | stored
