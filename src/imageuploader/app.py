"""The application factory: wiring only, no handlers and no queries."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from functools import partial

import anyio
import dramatiq
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.template.config import TemplateConfig
from piccolo.engine.postgres import PostgresEngine
from redis.exceptions import RedisError

from imageuploader import db
from imageuploader.accounts.seed import seed
from imageuploader.clock import Clock, utcnow
from imageuploader.container import Services, build_services, rate_limit_store, session_store
from imageuploader.images.reconciler import reconcile_forever
from imageuploader.settings import Settings
from imageuploader.sqlite_pool import PooledSQLiteEngine
from imageuploader.web.api import API_CONTROLLERS
from imageuploader.web.auth import BearerAwareCSRFMiddleware, session_auth
from imageuploader.web.deps import ServiceSlot, SlotStore, dependencies
from imageuploader.web.errors import exception_handlers
from imageuploader.web.health import (
    AdminHealthController,
    HealthController,
    SharedHealth,
    dependency_checks,
)
from imageuploader.web.lingering import DrainRefusedBody
from imageuploader.web.metrics import MetricsController, worker_registry
from imageuploader.web.pages import PAGE_CONTROLLERS
from imageuploader.web.ratelimit import STORE as RATE_LIMIT_STORE
from imageuploader.web.ratelimit import rate_limit_middleware
from imageuploader.web.reads import FastReads
from imageuploader.web.request_id import RequestIdMiddleware
from imageuploader.web.request_metrics import RequestMetricsMiddleware
from imageuploader.web.resources import htmx_file, resource_dir
from imageuploader.web.security import security_headers
from imageuploader.web.sessions import RotatingSessionConfig
from imageuploader.web.text import RejectNulMiddleware
from imageuploader.webhooks.recovery import requeue_pending

log = logging.getLogger(__name__)

SESSION_DAYS = 14
WORKER_POLL_MS = 25
MULTIPART_OVERHEAD = 64 * 1024


async def _shielded(fn: Callable[..., Awaitable[object]], *args: object) -> None:
    """Run a start-up task to its end even if shutdown comes first: cancelling it
    mid-query would strand a database connection."""
    with anyio.CancelScope(shield=True):
        await fn(*args)


def lifespan(slot: ServiceSlot) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """Connect, migrate and seed, start in-process workers and the reconciler; undo on exit."""

    @asynccontextmanager
    async def run(app: Litestar) -> AsyncIterator[None]:
        services = slot.services
        settings, engine = services.settings, services.engine
        db.use_engine(engine)
        # The pool serves this loop only; in-process workers, on another, open a
        # pool of their own with their first job (db.WorkerPool).
        pooled = isinstance(engine, PostgresEngine) and settings.database_pool_size > 0
        if pooled:
            await engine.start_connection_pool(min_size=1, max_size=settings.database_pool_size)
        worker = None
        try:
            if settings.prepare_database:  # else `serve --workers N` did it once
                await db.migrate()
                await seed(settings)
            try:
                # The seed may have changed the catalogue that other processes cache.
                await services.accounts.changed()
            except (RedisError, OSError) as exc:
                log.warning("could not reach the account cache at start-up: %s", exc)
            await anyio.to_thread.run_sync(services.storage.ensure_ready)
            if settings.queue_in_process and settings.worker_threads > 0:
                # The poll timeout bounds how long shutdown waits for each thread; the
                # queue is in memory, so a short one costs next to nothing.
                worker = dramatiq.Worker(
                    services.broker,
                    worker_threads=settings.worker_threads,
                    worker_timeout=WORKER_POLL_MS,
                )
                worker.start()
            app.state.worker = worker
            older = timedelta(seconds=settings.reconcile_after_seconds)
            async with anyio.create_task_group() as tg:
                # In-process queues do not survive a restart: queue all pending work at
                # once, in the background, so the server listens while the sweep runs.
                first = timedelta(0) if settings.queue_in_process else older
                every = min(60.0, older.total_seconds() / 2)
                sweeps = partial(
                    reconcile_forever,
                    services.jobs,
                    older,
                    every,
                    first=first,
                    storage=services.storage,
                    cache=services.cache,
                )
                tg.start_soon(sweeps)
                if settings.queue_in_process:  # webhook messages too, without holding start-up
                    tg.start_soon(_shielded, requeue_pending, services.jobs)
                yield
                tg.cancel_scope.cancel()
        finally:
            if worker is not None:
                await anyio.to_thread.run_sync(worker.stop)
            services.broker.close()
            await services.accounts.close()
            await services.cache.close()
            if pooled:
                await engine.close_connection_pool()
            if isinstance(engine, PooledSQLiteEngine):
                engine.close_idle()

    return run


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    clock: Clock = utcnow,
    fast_reads: bool = True,
) -> Litestar:
    """Build the app from settings; connections open in the lifespan, not here.

    `fast_reads=False` leaves every media read to its route handler, the
    reference the fast lane's answers are tested against."""
    services = services or build_services(settings, clock=clock)
    settings = services.settings  # with its secret key
    slot = ServiceSlot(services, _stores(settings))
    session_config = RotatingSessionConfig(
        store="sessions",
        key="session",
        max_age=SESSION_DAYS * 24 * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.production,
        # Probes carry no session; and /health must answer while the session store is down.
        exclude=["^/health$", "^/metrics$"],
    )
    csrf_config = CSRFConfig(
        secret=settings.secret_key,
        cookie_secure=settings.production,
        cookie_samesite="lax",
        cookie_httponly=True,  # pages get the token rendered into them, never from JS
    )
    static_dir = resource_dir("static")
    templates = TemplateConfig(directory=resource_dir("templates"), engine=JinjaTemplateEngine)
    htmx = htmx_file(static_dir)

    def add_globals(engine: JinjaTemplateEngine) -> None:
        engine.engine.globals["htmx_file"] = htmx

    templates.engine_callback = add_globals

    return Litestar(
        route_handlers=[
            *PAGE_CONTROLLERS,
            *API_CONTROLLERS,
            HealthController,
            AdminHealthController,
            MetricsController,
            create_static_files_router(path="/static", directories=[static_dir]),
        ],
        lifespan=[lifespan(slot)],
        stores={name: SlotStore(slot, name) for name in slot.stores},
        middleware=[
            # Outermost: a refused (413) body is drained before the answer goes out,
            # bounded at twice the upload limit, so clients read the 413, not a reset.
            DefineMiddleware(DrainRefusedBody, max_bytes=2 * settings.max_upload_bytes),
            # Then the request id is set for everything below, logs included.
            RequestIdMiddleware,
            # Before anything reads a parameter or a body: no NUL reaches a query.
            RejectNulMiddleware,
            RequestMetricsMiddleware,
            # The plain list, media, /api/me and expiring-link reads, answered before authentication
            # middleware and the handler machinery (reads.py); all else passes on.
            *([DefineMiddleware(FastReads, slot=slot)] if fast_reads else []),
            session_auth(session_config),
            DefineMiddleware(BearerAwareCSRFMiddleware, config=csrf_config),
            # After authentication: upload limits count per user.
            *rate_limit_middleware(settings),
        ],
        dependencies=dependencies(slot),
        template_config=templates,
        exception_handlers=exception_handlers(),
        before_send=[security_headers(settings, services.media.redirect_origin)],
        # Enforced while the body streams in; the exact file limit is checked after.
        request_max_body_size=settings.max_upload_bytes + MULTIPART_OVERHEAD,
        openapi_config=OpenAPIConfig(
            title="imageuploader",
            version="0.1.0",
            path="/schema",
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(type="http", scheme="bearer"),
                }
            ),
            security=[{"BearerToken": []}],
        ),
        state=State({"slot": slot, **_served(services)}),
        debug=False,
        # Logging belongs to the process entry points (JSON lines, logs.py); Litestar's
        # default config would replace the root handlers at start-up.
        logging_config=None,
    )


def _stores(settings: Settings) -> dict[str, Store]:
    return {"sessions": session_store(settings), RATE_LIMIT_STORE: rate_limit_store(settings)}


def _served(services: Services) -> dict[str, object]:
    """The app state that belongs to the services the app serves."""
    return {
        "settings": services.settings,
        "services": services,
        "health_checks": dependency_checks(services),
        "health": SharedHealth(),
        "worker_metrics": worker_registry(services.broker),
    }


def rebind(app: Litestar, services: Services) -> None:
    """Point an app that is not running at other services built from the same settings,
    with empty session and rate-limit stores: as if `create_app` had built it for them,
    without building the routes again. A test harness reuses apps this way."""
    slot: ServiceSlot = app.state.slot
    if services.settings != slot.services.settings:
        raise ValueError("rebind needs services built from the app's own settings")
    slot.services = services
    slot.stores = _stores(services.settings)
    for key, value in _served(services).items():
        app.state[key] = value
