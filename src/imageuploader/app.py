"""The application factory: wiring only, no handlers and no queries."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import anyio
import dramatiq
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig
from piccolo.engine.postgres import PostgresEngine

from imageuploader import db
from imageuploader.accounts.controllers import (
    AdminPlansController,
    AdminSizesController,
    AdminUsersController,
    AuthController,
    MeController,
)
from imageuploader.accounts.seed import seed
from imageuploader.images.controllers import (
    ImagesController,
    MediaController,
    SharedLinkController,
)
from imageuploader.images.links import Clock, LinkService, utcnow
from imageuploader.images.media import MediaService
from imageuploader.images.reconciler import reconcile_forever, reconcile_once
from imageuploader.images.service import ImageService
from imageuploader.pages import PAGE_CONTROLLERS
from imageuploader.runtime import QueuedPlanEvents, Runtime, build_runtime
from imageuploader.settings import Settings
from imageuploader.sqlite_pool import PooledSQLiteEngine
from imageuploader.web.auth import BearerAwareCSRFMiddleware, session_auth
from imageuploader.web.deps import PlanEvents
from imageuploader.web.errors import exception_handlers
from imageuploader.web.health import HealthController
from imageuploader.web.metrics import MetricsController, prometheus_config, worker_registry
from imageuploader.web.ratelimit import STORE as RATE_LIMIT_STORE
from imageuploader.web.ratelimit import rate_limit_middleware, rate_limit_store
from imageuploader.web.request_id import RequestIdMiddleware
from imageuploader.web.security import security_headers
from imageuploader.web.sessions import RotatingSessionConfig

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
SESSION_DAYS = 14
MULTIPART_OVERHEAD = 64 * 1024


def session_store(settings: Settings) -> Store:
    """Redis in production, a file store under DATA_DIR in the embedded default."""
    if settings.cache_url and settings.cache_url.startswith("redis"):
        return RedisStore.with_client(url=settings.cache_url, namespace="imageuploader:sessions")
    if settings.cache_url == "memory://":
        return MemoryStore()
    return FileStore(path=settings.data_dir / "sessions", create_directories=True)


def health_checks(rt: Runtime) -> dict[str, Callable[[], Awaitable[None]]]:
    async def storage() -> None:
        await anyio.to_thread.run_sync(rt.storage.check, abandon_on_cancel=True)

    async def broker() -> None:
        client = getattr(rt.broker, "client", None)
        if client is not None:
            await anyio.to_thread.run_sync(client.ping, abandon_on_cancel=True)

    return {"storage": storage, "broker": broker, "cache": rt.cache.ping}


def htmx_file() -> str:
    return sorted(p.name for p in (STATIC_DIR / "vendor").glob("htmx-*.min.js"))[-1]


def create_app(
    settings: Settings,
    *,
    plan_events: PlanEvents | None = None,
    runtime: Runtime | None = None,
    clock: Clock = utcnow,
) -> Litestar:
    """Build the app from settings; connections open in the lifespan, not here."""
    settings = settings.with_secret()
    engine = db.engine_for(settings.database_url)
    rt = runtime or build_runtime(settings)
    events = plan_events or QueuedPlanEvents(rt.jobs)
    images = ImageService(settings, rt.storage, rt.jobs, rt.cache)
    media = MediaService(rt.storage)
    links = LinkService(rt.storage, settings.secret_key, clock=clock)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db.use_engine(engine)
        # A pool belongs to one event loop; in-process workers run on another.
        pooled = (
            isinstance(engine, PostgresEngine)
            and settings.database_pool_size > 0
            and not rt.in_process_workers
        )
        if pooled:
            await engine.start_connection_pool(min_size=1, max_size=settings.database_pool_size)
        worker = None
        try:
            await db.migrate()
            await seed(settings)
            await anyio.to_thread.run_sync(rt.storage.ensure_ready)
            if rt.in_process_workers and settings.worker_threads > 0:
                # A short poll timeout keeps shutdown quick; the queue is in memory.
                worker = dramatiq.Worker(
                    rt.broker, worker_threads=settings.worker_threads, worker_timeout=100
                )
                worker.start()
            app.state.worker = worker
            older = timedelta(seconds=settings.reconcile_after_seconds)
            async with anyio.create_task_group() as tg:
                # In-process queues do not survive a restart: queue all pending work now.
                await reconcile_once(rt.jobs, timedelta(0) if rt.in_process_workers else older)
                tg.start_soon(reconcile_forever, rt.jobs, older, min(60.0, older.seconds / 2))
                yield
                tg.cancel_scope.cancel()
        finally:
            if worker is not None:
                await anyio.to_thread.run_sync(worker.stop)
            rt.broker.close()
            if pooled:
                await engine.close_connection_pool()
            if isinstance(engine, PooledSQLiteEngine):
                engine.close_idle()

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
    templates = TemplateConfig(directory=TEMPLATES_DIR, engine=JinjaTemplateEngine)

    def add_globals(engine: JinjaTemplateEngine) -> None:
        engine.engine.globals["htmx_file"] = htmx_file()

    templates.engine_callback = add_globals

    return Litestar(
        route_handlers=[
            *PAGE_CONTROLLERS,
            AuthController,
            MeController,
            AdminUsersController,
            AdminPlansController,
            AdminSizesController,
            ImagesController,
            MediaController,
            SharedLinkController,
            HealthController,
            MetricsController,
            create_static_files_router(path="/static", directories=[STATIC_DIR]),
        ],
        lifespan=[lifespan],
        stores={
            "sessions": session_store(settings),
            RATE_LIMIT_STORE: rate_limit_store(settings),
        },
        middleware=[
            # First: the request id is set for everything below, logs included.
            RequestIdMiddleware,
            prometheus_config().middleware,
            session_auth(session_config).middleware,
            DefineMiddleware(BearerAwareCSRFMiddleware, config=csrf_config),
            # After authentication: upload limits count per user.
            *rate_limit_middleware(settings),
        ],
        dependencies={
            "plan_events": Provide(lambda: events, sync_to_thread=False),
            "images": Provide(lambda: images, sync_to_thread=False),
            "media": Provide(lambda: media, sync_to_thread=False),
            "links": Provide(lambda: links, sync_to_thread=False),
        },
        template_config=templates,
        exception_handlers=exception_handlers(),
        before_send=[security_headers(settings)],
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
        state=State(
            {
                "settings": settings,
                "runtime": rt,
                "health_checks": health_checks(rt),
                "worker_metrics": worker_registry(rt.broker),
            }
        ),
        debug=False,
        # Logging belongs to the process entry points (JSON lines, logs.py); Litestar's
        # default config would replace the root handlers at start-up.
        logging_config=None,
    )
