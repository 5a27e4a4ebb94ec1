"""The reconciler: one message per pending rendition per sweep, in the background, at the
interval RECONCILE_AFTER_SECONDS asks for."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from litestar.testing import AsyncTestClient

from imageuploader import app as app_module
from imageuploader import db
from imageuploader.app import create_app
from imageuploader.container import build_services
from imageuploader.images import reconciler
from imageuploader.images.records import RenditionStatus
from imageuploader.images.tables import Rendition, Variant
from imageuploader.settings import Settings
from imageuploader.tasks.registry import QUEUE

from ..conftest import bearer
from .conftest import photo

# A liveness bound, not a speed target: a sweep that loops forever fails here.
STARTS_WITHIN_SECONDS = 20


def queued(services: Any) -> int:
    return services.broker.queues[QUEUE].qsize()


async def pending_ids() -> set[tuple[str, int]]:
    """Pending work: each rendition, and each WebP/AVIF variant workers are to make."""
    found: set[tuple[str, int]] = set()
    for kind, table in (("rendition", Rendition), ("variant", Variant)):
        rows = await table.select(table.id).where(table.status == RenditionStatus.PENDING.value)
        found |= {(kind, r["id"]) for r in rows}
    return found


async def make_pending(settings: Settings) -> set[tuple[str, int]]:
    """With no worker threads, an upload leaves its non-primary renditions pending."""
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        admin = await bearer(client, "admin", "admin")
        r = await client.post(
            "/api/admin/users",
            json={"username": "pat", "password": "secret-pass", "plan": "Studio"},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        headers = await bearer(client, "pat", "secret-pass")
        for n in range(2):
            r = await client.post(
                "/api/images",
                files={"file": ("p.jpg", photo(800 + n, 600), "image/jpeg")},
                headers=headers,
            )
            assert r.status_code == 201, r.text
    found = await pending_ids()
    assert {kind for kind, _ in found} == {"rendition", "variant"}
    return found


@pytest.fixture
def idle_settings(settings: Settings, make_settings: Any) -> Settings:
    """No in-process worker: whatever is queued stays in the queue to be counted."""
    return make_settings(DATABASE_URL=settings.database_url, WORKER_THREADS="0")


async def test_one_sweep_queues_each_pending_rendition_once(idle_settings: Settings) -> None:
    pending = await make_pending(idle_settings)
    services = build_services(idle_settings)
    db.use_engine(services.engine)
    with anyio.fail_after(STARTS_WITHIN_SECONDS):
        sent = await reconciler.reconcile_once(services.jobs, timedelta(0))
    assert sent == len(pending)
    assert queued(services) == len(pending)
    with anyio.fail_after(STARTS_WITHIN_SECONDS):
        sent = await reconciler.reconcile_once(services.jobs, timedelta(0))
    assert sent == len(pending)
    assert queued(services) == 2 * len(pending)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.e2e
async def test_server_with_pending_work_and_no_worker_threads_listens(
    idle_settings: Settings, tmp_path: Path
) -> None:
    """A real `imageuploader serve`: the start-up sweep must not hold the socket back."""
    await make_pending(idle_settings)
    port = free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(idle_settings.data_dir),
        "DATABASE_URL": idle_settings.database_url,
        "DATABASE_POOL_SIZE": "0",
        "CACHE_URL": "memory://",
        "WORKER_THREADS": "0",
        "PORT": str(port),
    }
    with (tmp_path / "serve.log").open("wb") as log:
        proc = subprocess.Popen(  # noqa: ASYNC220 - started once, not awaited on
            [sys.executable, "-m", "imageuploader", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        status = None
        async with httpx.AsyncClient() as client:
            with anyio.move_on_after(STARTS_WITHIN_SECONDS):
                while status is None and proc.poll() is None:
                    try:
                        r = await client.get(f"http://127.0.0.1:{port}/health", timeout=2)
                        status = r.status_code
                    except httpx.TransportError:
                        await anyio.sleep(0.2)
        log_text = (tmp_path / "serve.log").read_text()[-2000:]
        assert status == 200, log_text
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


async def test_reconcile_interval_uses_the_whole_duration(
    make_settings: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    intervals: list[float] = []

    async def record(jobs: Any, older_than: timedelta, every: float, **kw: Any) -> None:
        intervals.append(every)

    monkeypatch.setattr(app_module, "reconcile_forever", record)
    day = make_settings(DATABASE_URL=settings.database_url, RECONCILE_AFTER_SECONDS="86400")
    async with AsyncTestClient(app=create_app(day)):
        pass
    # A day between sweeps would be too long to pick up lost work: capped at a minute.
    assert intervals == [60.0]
