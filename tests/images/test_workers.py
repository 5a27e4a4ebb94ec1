"""The production worker path: PostgreSQL, a Redis broker, S3 (SeaweedFS standing in
for MinIO), and renditions made by a separate `dramatiq workers.main` process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from imageuploader.app import create_app
from imageuploader.images.tables import Image, Rendition
from imageuploader.settings import Settings

from .conftest import photo

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.parametrize("storage_env", ["s3"], indirect=True), pytest.mark.e2e]


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """PostgreSQL only: several processes share this database."""
    return postgres_url


@pytest.fixture
def env(settings: Settings, storage_env: dict[str, str], redis_url: str) -> dict[str, str]:
    """The environment the web app and the worker process share."""
    redis.Redis.from_url(redis_url).flushdb()  # no messages left by an earlier test
    return {
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
        "DATABASE_POOL_SIZE": "0",
        "BROKER_URL": redis_url,
        # An in-process CACHE_URL beside separate workers: the image cache must
        # move to the broker's Redis, or the app would serve stale statuses.
        "CACHE_URL": "memory://",
        "SECRET_KEY": "w" * 40,
        "RECONCILE_AFTER_SECONDS": "5",
        **storage_env,
    }


@pytest.fixture
def app(env: dict[str, str], clock):
    return create_app(Settings.from_env(env), clock=clock)


@pytest.fixture
def start_worker(env: dict[str, str], tmp_path: Path) -> Iterator[Callable[[], subprocess.Popen]]:
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        # The child keeps its own copy of the descriptor; ours closes at once.
        with (tmp_path / f"worker-{len(started)}.log").open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "dramatiq", "workers.main", "--processes", "1"],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # so teardown can kill the worker's children too
            )
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def statuses(image: dict) -> dict[str, str]:
    return {r["slug"]: r["status"] for r in image["renditions"]}


async def test_separate_worker_process_makes_the_renditions(
    client, make_user, upload, wait_done, start_worker, app
) -> None:
    headers = await make_user("wes", plan="Studio")
    r = await upload(headers, photo(1600, 1200))
    assert r.status_code == 201, r.text
    image = r.json()
    # very-high gives high's 1024x768 on a 4:3 photo: stored with the primary.
    assert statuses(image) == {
        "very-high": "ready",
        "high": "ready",
        "medium": "pending",
        "low": "pending",
    }
    # No worker runs inside the web app with a Redis broker: the rest waits.
    await asyncio.sleep(1.0)
    assert (
        statuses((await client.get(f"/api/images/{image['id']}", headers=headers)).json())["low"]
        == "pending"
    )

    start_worker()
    done = await wait_done(headers, image["id"])
    assert set(statuses(done).values()) == {"ready"}

    # Every object lives in the bucket the ring chose, recorded on the row.
    storage = app.state.services.storage
    row = await Image.select().where(Image.id == image["id"]).first()
    assert row["location"] == storage.locate(image["id"])
    keys = [
        r["key"]
        for r in await Rendition.select(Rendition.key).where(Rendition.image == image["id"])
    ]
    for key in [row["original_key"], row["intermediate_key"], *keys]:
        assert storage.stat(row["location"], key).size > 0
    low = await client.get(f"/media/{image['id']}/low", headers=headers)
    assert low.status_code == 200
    assert low.headers["content-type"] == "image/jpeg"


async def test_reconciler_requeues_lost_messages(
    client, make_user, upload, wait_done, start_worker, redis_url
) -> None:
    headers = await make_user("rex", plan="Studio")
    ids = []
    for n in range(3):
        r = await upload(headers, photo(800 + n, 600))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    # The broker loses every queued message (a restart without persistence).
    lost = redis.Redis.from_url(redis_url)
    assert lost.dbsize() > 0
    lost.flushdb()

    start_worker()
    # Nothing is queued now; only the app's periodic reconciler can bring the
    # work back, once the renditions have been pending for RECONCILE_AFTER_SECONDS.
    for image_id in ids:
        done = await wait_done(headers, image_id)
        assert set(statuses(done).values()) == {"ready"}
