"""/metrics: HTTP metrics from Litestar, worker job counts, durations and queue depth."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import redis
from litestar.testing import AsyncTestClient

from imageuploader.app import create_app
from imageuploader.settings import Settings
from imageuploader.tasks.stats import JobStats

from .conftest import photo, sample, wait_until_finished


async def test_http_requests_are_counted(client: AsyncTestClient) -> None:
    for _ in range(3):
        assert (await client.get("/health")).status_code == 200
    r = await client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    count = sample(r.text, "imageuploader_requests_total", path="/health", status_code="200")
    assert count is not None and count >= 3


async def test_in_process_worker_metrics_move(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    before = (await client.get("/metrics")).text
    ready = {"actor": "make_rendition", "outcome": "ready"}
    assert sample(before, "imageuploader_jobs_total", **ready) is None
    assert sample(before, "imageuploader_worker_metrics_up") == 1

    alice = await make_user("alice", "Premium")
    r = await client.post(
        "/api/images", files={"file": ("p.jpg", photo(), "image/jpeg")}, headers=alice
    )
    assert r.status_code == 201, r.text
    view = await wait_until_finished(client, alice, r.json()["id"])
    assert {x["status"] for x in view["renditions"]} == {"ready"}

    after = (await client.get("/metrics")).text
    assert sample(after, "imageuploader_jobs_total", **ready) == 1
    assert sample(after, "imageuploader_job_duration_seconds_count", actor="make_rendition") == 1
    assert sample(after, "imageuploader_job_duration_seconds_sum", actor="make_rendition") > 0
    assert sample(after, "imageuploader_queue_messages", queue="renditions") == 0


async def test_separate_worker_processes_report_through_redis(
    settings: Settings, make_settings: Callable[..., Settings], redis_url: str
) -> None:
    """What workers record in the broker's Redis shows on any web process's /metrics."""
    redis.Redis.from_url(redis_url).flushdb()
    app = create_app(make_settings(DATABASE_URL=settings.database_url, BROKER_URL=redis_url))
    async with AsyncTestClient(app=app) as client:
        empty = (await client.get("/metrics")).text
        assert sample(empty, "imageuploader_queue_messages", queue="renditions") == 0

        # As a worker process would, with its own connection.
        worker_stats = JobStats(redis.Redis.from_url(redis_url))
        worker_stats.record("make_rendition", "ready", 0.3)
        worker_stats.record("make_rendition", "ready", 2.0)
        worker_stats.record("make_rendition", "failed", 0.01)
        app.state.services.actors["make_rendition"].send(999_999)  # waits: no worker runs

        text = (await client.get("/metrics")).text
    ready = {"actor": "make_rendition", "outcome": "ready"}
    assert sample(text, "imageuploader_jobs_total", **ready) == 2
    assert sample(text, "imageuploader_jobs_total", actor="make_rendition", outcome="failed") == 1
    bucket = "imageuploader_job_duration_seconds_bucket"
    assert sample(text, bucket, actor="make_rendition", le="0.05") == 1
    assert sample(text, bucket, actor="make_rendition", le="0.5") == 2
    assert sample(text, bucket, actor="make_rendition", le="+Inf") == 3
    assert sample(text, "imageuploader_queue_messages", queue="renditions") == 1


async def test_unreadable_worker_metrics_do_not_break_the_scrape(
    settings: Settings, make_settings: Callable[..., Settings]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    broker = f"redis://127.0.0.1:{port}/0"
    app = create_app(make_settings(DATABASE_URL=settings.database_url, BROKER_URL=broker))
    async with AsyncTestClient(app=app) as client:
        r = await client.get("/metrics")
    assert r.status_code == 200
    assert sample(r.text, "imageuploader_worker_metrics_up") == 0
