"""In-request decoding is bounded per process (DECODE_CONCURRENCY); an upload that would
wait longer than DECODE_WAIT_SECONDS for a decode slot gets 503 with Retry-After."""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import anyio
import httpx
import pytest
from litestar.testing import AsyncTestClient

from imageuploader.app import create_app
from imageuploader.images import upload as upload_module
from imageuploader.images.decode_slots import DecodeSlots
from imageuploader.settings import ConfigError, Settings

from ..conftest import bearer
from .conftest import photo

GATHER_WITHIN_SECONDS = 30


class Decodes:
    """Wraps the upload's decode: counts how many run at once; may hold them.

    With `gather`, each decode is held until that many uploads have asked for a decode
    slot (running or waiting), so they all pile up at the cap however slowly a loaded
    machine brings them there: without a cap all of them would be decoding at once."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, gather: int = 0) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.peak = 0
        self.asked = 0
        self.all_asked = threading.Event()
        if not gather:
            self.all_asked.set()
        self.started = threading.Event()
        self.release = threading.Event()
        self.release.set()
        real = upload_module._process
        real_run = DecodeSlots.run

        async def run(slots: DecodeSlots, fn: Any, *args: Any) -> Any:
            with self.lock:
                self.asked += 1
                if gather and self.asked >= gather:
                    self.all_asked.set()
            return await real_run(slots, fn, *args)

        def counted(*args: Any) -> Any:
            with self.lock:
                self.running += 1
                self.peak = max(self.peak, self.running)
            self.started.set()
            try:
                # A liveness bound: every upload reaches the slots well within it.
                assert self.all_asked.wait(GATHER_WITHIN_SECONDS), f"{self.asked} of {gather}"
                time.sleep(0.3)  # long enough for the others to pile up
                self.release.wait(30)
                return real(*args)
            finally:
                with self.lock:
                    self.running -= 1

        monkeypatch.setattr(upload_module, "_process", counted)
        monkeypatch.setattr(DecodeSlots, "run", run)


async def client_for(settings: Settings, make_settings: Any, **env: str) -> AsyncTestClient:
    app = create_app(make_settings(DATABASE_URL=settings.database_url, WORKER_THREADS="0", **env))
    return AsyncTestClient(app=app)


async def user_headers(client: AsyncTestClient) -> dict[str, str]:
    admin = await bearer(client, "admin", "admin")
    r = await client.post(
        "/api/admin/users",
        json={"username": "dec", "password": "secret-pass", "plan": "Basic"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return await bearer(client, "dec", "secret-pass")


async def post_image(client: AsyncTestClient, headers: dict[str, str], n: int) -> Any:
    """POST through httpx's ASGI transport on this event loop: the test client runs one
    request at a time, and these must overlap."""
    body = photo(400 + n, 300)  # distinct bytes
    transport = httpx.ASGITransport(app=client.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as direct:
        return await direct.post(
            "/api/images", files={"file": ("p.jpg", body, "image/jpeg")}, headers=headers
        )


async def test_concurrent_decodes_are_capped(
    settings: Settings, make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = 6
    decodes = Decodes(monkeypatch, gather=uploads)
    async with await client_for(
        settings, make_settings, DECODE_CONCURRENCY="2", DECODE_WAIT_SECONDS="60"
    ) as client:
        headers = await user_headers(client)
        statuses: list[int] = []

        async def one(n: int) -> None:
            statuses.append((await post_image(client, headers, n)).status_code)

        async with anyio.create_task_group() as tg:
            for n in range(uploads):
                tg.start_soon(one, n)
    assert statuses == [201] * uploads
    assert decodes.asked == uploads
    assert decodes.peak == 2


async def test_an_upload_that_would_wait_too_long_gets_503_with_retry_after(
    settings: Settings, make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    decodes = Decodes(monkeypatch)
    decodes.release.clear()  # the first decode holds the only slot
    async with await client_for(
        settings, make_settings, DECODE_CONCURRENCY="1", DECODE_WAIT_SECONDS="1"
    ) as client:
        headers = await user_headers(client)
        first: list[Any] = []
        async with anyio.create_task_group() as tg:

            async def hold() -> None:
                first.append(await post_image(client, headers, 0))

            tg.start_soon(hold)
            assert await anyio.to_thread.run_sync(decodes.started.wait, 30)
            refused = await post_image(client, headers, 1)
            decodes.release.set()
        listed = (await client.get("/api/images", headers=headers)).json()
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["retry-after"]) >= 1
    assert "busy" in refused.json()["detail"].lower()
    assert first[0].status_code == 201, first[0].text
    assert listed["total"] == 1  # nothing of the refused upload was kept


def test_decode_settings_default_to_the_cores_and_refuse_zero(tmp_path: Any) -> None:
    base = {"DATA_DIR": str(tmp_path)}
    assert Settings.from_env(base).decode_concurrency == len(os.sched_getaffinity(0))
    assert Settings.from_env({**base, "DECODE_CONCURRENCY": "3"}).decode_concurrency == 3
    with pytest.raises(ConfigError, match="DECODE_CONCURRENCY"):
        Settings.from_env({**base, "DECODE_CONCURRENCY": "0"})
