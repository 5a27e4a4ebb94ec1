"""Cache fixtures: both cache backends, workers held back, a photo, SQL query counting."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

import dramatiq
import pytest
import pyvips
import redis
from litestar import Litestar
from litestar.testing import AsyncTestClient

from imageuploader.container import Services, make_image_cache
from imageuploader.images.renditions import WorkerContext, make_rendition
from imageuploader.images.tables import Image, Rendition
from imageuploader.settings import Settings
from imageuploader.tasks.registry import QUEUE, TASKS
from tests.conftest import _reset_database


@pytest.fixture(params=["memory", "redis"])
def cache_url(request: pytest.FixtureRequest) -> str:
    """In-process and Redis caches; the Redis db is emptied so ids never meet old keys."""
    if request.param == "memory":
        return "memory://"
    url = request.getfixturevalue("redis_url")
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
async def settings(
    database_url: str, make_settings: Callable[..., Settings], cache_url: str
) -> Settings:
    await _reset_database(database_url)
    # No worker threads: each test decides when renditions are made.
    return make_settings(DATABASE_URL=database_url, CACHE_URL=cache_url, WORKER_THREADS="0")


def photo(width: int = 320, height: int = 240) -> bytes:
    """A small gradient JPEG (a flat image would be suspiciously easy to encode)."""
    xy = pyvips.Image.xyz(width, height)
    image = (xy[0] * (255.0 / width)).bandjoin([xy[1] * (255.0 / height), xy[0] * 0 + 90])
    return image.cast("uchar").copy(interpretation="srgb").write_to_buffer(".jpg")


_uploads = itertools.count()


async def upload(client: AsyncTestClient, headers: dict[str, str], caption: str = "") -> dict:
    # Distinct bytes each time: the same bytes again would be the same image.
    r = await client.post(
        "/api/images",
        files={"file": ("p.jpg", photo(320 + next(_uploads) % 64), "image/jpeg")},
        data={"caption": caption},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()


def worker_context(app: Litestar) -> WorkerContext:
    """The context a worker runs tasks in.

    With Redis the worker gets its own cache client, as a separate worker
    process would: its invalidation must reach the web app through Redis.
    In-process (memory://) workers share the app's cache object.
    """
    services: Services = app.state.services
    settings: Settings = app.state.settings
    cache = services.cache if settings.cache_url == "memory://" else make_image_cache(settings)
    return dataclasses.replace(services.worker, cache=cache)


@asynccontextmanager
async def worker(app: Litestar) -> AsyncIterator[WorkerContext]:
    """`worker_context`, its own cache client closed afterwards."""
    ctx = worker_context(app)
    try:
        yield ctx
    finally:
        if ctx.cache is not None and ctx.cache is not app.state.services.cache:
            await ctx.cache.close()


async def run_workers(app: Litestar) -> list[str]:
    """Make every pending rendition as a worker would; return the outcomes."""
    pending = await Rendition.select(Rendition.id).where(Rendition.status == "pending")
    async with worker(app) as ctx:
        return [await make_rendition(ctx, r["id"]) for r in pending]


async def run_queued(app: Litestar) -> list[str]:
    """One round of the in-process queue: run each message waiting now, as a worker
    would (what they queue waits for the next round); return "actor: outcome"s."""
    queue = app.state.services.broker.queues[QUEUE]
    waiting = []
    while not queue.empty():
        waiting.append(dramatiq.Message.decode(queue.get_nowait()))
        queue.task_done()
    run = {task.name: task.run for task in TASKS}
    async with worker(app) as ctx:
        return [f"{m.actor_name}: {await run[m.actor_name](ctx, *m.args)}" for m in waiting]


class QueryLog:
    """SQL statements run through the Piccolo engine while counting."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @contextmanager
    def counting(self) -> Iterator[list[str]]:
        start = len(self.statements)
        found: list[str] = []
        yield found
        found.extend(self.statements[start:])


@pytest.fixture
def query_log(client: AsyncTestClient, monkeypatch: pytest.MonkeyPatch) -> QueryLog:
    """Hook the engine the app's tables use (bound when the client started the app)."""
    log = QueryLog()
    engine = Image._meta.db
    # Engines use __slots__: wrap the method on the class, count only this engine.
    engine_class = type(engine)
    original = engine_class.run_querystring

    async def run_querystring(self, querystring, in_pool=True):  # type: ignore[no-untyped-def]
        if self is engine:
            log.statements.append(str(querystring))
        return await original(self, querystring, in_pool=in_pool)

    monkeypatch.setattr(engine_class, "run_querystring", run_querystring)
    return log
