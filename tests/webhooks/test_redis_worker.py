"""The production shape: a Redis broker and a separate `dramatiq workers.main` process
announce, sign, retry and deliver the events (the web app runs no worker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from standardwebhooks.webhooks import Webhook

from imageuploader.app import create_app
from imageuploader.settings import Settings

from .conftest import Receiver, Upload

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """PostgreSQL only: the worker process shares the database."""
    return postgres_url


@pytest.fixture
def env(settings: Settings, redis_url: str) -> dict[str, str]:
    redis.Redis.from_url(redis_url).flushdb()  # no messages left by an earlier test
    return {
        "DATA_DIR": str(settings.data_dir),  # local storage under it, shared
        "DATABASE_URL": settings.database_url,
        "DATABASE_POOL_SIZE": "0",
        "BROKER_URL": redis_url,
        "CACHE_URL": "memory://",
        "SECRET_KEY": "w" * 40,
        "WEBHOOK_ALLOW_PRIVATE": "true",
    }


@pytest.fixture
def app(env: dict[str, str]):
    return create_app(Settings.from_env(env))


@pytest.fixture
def worker(env: dict[str, str], tmp_path: Path) -> Iterator[subprocess.Popen]:
    with (tmp_path / "worker.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dramatiq", "workers.main", "--processes", "1"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so teardown can kill the worker's children too
        )
    yield proc
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


async def test_worker_process_delivers_and_retries(
    client, make_user, receiver: Receiver, upload: Upload, worker
) -> None:
    alice = await make_user("alice", "Premium")
    r = await client.post(
        "/api/webhooks",
        json={"url": receiver.url, "events": ["image.ready", "image.deleted"]},
        headers=alice,
    )
    hook = r.json()
    receiver.answers = [500]
    image = await upload(alice)
    assert any(x["status"] == "pending" for x in image["renditions"])

    first, second = await receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    event = Webhook(hook["secret"]).verify(second.body, second.headers)
    assert event["type"] == "image.ready"
    assert {x["status"] for x in event["data"]["renditions"]} == {"ready"}

    assert (await client.delete(f"/api/images/{image['id']}", headers=alice)).status_code == 204
    *_, third = await receiver.wait_for(3)
    assert Webhook(hook["secret"]).verify(third.body, third.headers)["type"] == "image.deleted"

    r = await client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=alice)
    assert [(d["event"], d["status"], d["response_code"]) for d in r.json()][-2:] == [
        ("image.ready", "succeeded", 204),
        ("image.ready", "failed", 500),
    ]
