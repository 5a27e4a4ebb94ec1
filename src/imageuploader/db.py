"""Database engine selection from DATABASE_URL, binding tables, and migrations."""

from __future__ import annotations

import asyncio
import logging
import os
import weakref
from pathlib import Path
from urllib.parse import unquote, urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine

from imageuploader.postgres_pool import LoopBoundPostgresEngine
from imageuploader.sqlite_pool import PooledSQLiteEngine

log = logging.getLogger(__name__)

# Piccolo imports its configuration module by this name; the package carries its
# own, so migrations run wherever the package is installed.
PICCOLO_CONF = "imageuploader.piccolo_conf"
_bound: Engine | None = None


def engine_for(database_url: str) -> Engine:
    """Build (but do not connect) the Piccolo engine a DATABASE_URL names."""
    parts = urlsplit(database_url)
    if parts.scheme == "sqlite":
        # sqlite:///relative/path and sqlite:////absolute/path, as SQLAlchemy does.
        path = Path(unquote(database_url[len("sqlite:///") :]))
        path.parent.mkdir(parents=True, exist_ok=True)
        return PooledSQLiteEngine(path=str(path))
    if parts.scheme in ("postgres", "postgresql"):
        return LoopBoundPostgresEngine(config={"dsn": database_url}, log_queries=False)
    raise ValueError(f"DATABASE_URL: unsupported scheme {parts.scheme!r}")


def all_tables() -> list[type]:
    """Every table of every registered Piccolo app, plus Piccolo's own."""
    from piccolo.apps.migrations.tables import Migration

    from imageuploader.accounts.piccolo_app import APP_CONFIG as accounts
    from imageuploader.images.piccolo_app import APP_CONFIG as images
    from imageuploader.webhooks.piccolo_app import APP_CONFIG as webhooks

    return [*accounts.table_classes, *images.table_classes, *webhooks.table_classes, Migration]


def use_engine(engine: Engine) -> None:
    """Point every table, and Piccolo's migration runner, at `engine`.

    Piccolo looks its engine up as `DB` in its configuration module, which
    answers with the engine bound here: the database comes from Settings.
    """
    global _bound
    _bound = engine
    os.environ.setdefault("PICCOLO_CONF", PICCOLO_CONF)
    for table in all_tables():
        table._meta.db = engine


def bound_engine() -> Engine | None:
    """The engine `use_engine` bound last, if any."""
    return _bound


async def migrate() -> None:
    """Apply every pending migration of every app (idempotent)."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not result.success:
        raise RuntimeError(f"database migration failed: {result.message}")


async def ping() -> None:
    """Raise if the database does not answer a trivial query."""
    from imageuploader.accounts.tables import Size

    await Size.raw("SELECT 1").run()


# Dramatiq runs the async actors of every worker in a process on one event loop (a
# global of its AsyncIO middleware), so a job may open its engine's pool on a loop that
# another worker started. Whoever stops a worker loop closes every pool opened on it.
_opened_on: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, list[Engine]] = (
    weakref.WeakKeyDictionary()
)


class WorkerPool:
    """A PostgreSQL pool for a Dramatiq worker's event loop, opened by its first job
    and closed, by `close_worker_pools`, when the worker shuts down.

    A pool belongs to the event loop that opened it, and a Dramatiq worker runs
    its async actors on a loop of its own that only exists once the worker has
    booted, so the pool is opened lazily from inside an actor. Without it every
    query opens a new connection, which dominated the cost of a small rendition.
    Both a worker process and the embedded server's worker threads use one.
    """

    def __init__(self, engine: Engine, max_size: int) -> None:
        self.engine = engine
        self.max_size = max_size
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    async def start(self) -> None:
        """Open the engine's pool on the running loop, unless it has one."""
        engine = self.engine
        if self.max_size <= 0 or not isinstance(engine, PostgresEngine) or engine.pool:
            return
        loop = asyncio.get_running_loop()
        async with self._locks.setdefault(loop, asyncio.Lock()):
            if engine.pool is None:
                await engine.start_connection_pool(min_size=1, max_size=self.max_size)
                _opened_on.setdefault(loop, []).append(engine)


async def close_worker_pools() -> None:
    """On a worker's loop, once its jobs are done: close every pool opened on it."""
    for engine in _opened_on.pop(asyncio.get_running_loop(), []):
        await engine.close_connection_pool()
