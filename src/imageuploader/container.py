"""The composition root: every client and service a process needs, built from Settings.

The web app, a worker process and the CLI all call `build_services`; nothing
else constructs storage, caches, the broker or the services, so each backend
is chosen in one place (by the Settings properties) and a new task, listener
or service is wired here once for every entry point.
"""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from piccolo.engine.base import Engine

from imageuploader import db
from imageuploader.accounts.cache import GENERATION_KEY as ACCOUNTS_GENERATION_KEY
from imageuploader.accounts.cache import AccountCache, LocalGeneration, RedisGeneration
from imageuploader.accounts.plans import PlanService
from imageuploader.accounts.sizes import SizeService
from imageuploader.accounts.users import UserService
from imageuploader.clock import Clock, utcnow
from imageuploader.events import EventBus
from imageuploader.images import listeners
from imageuploader.images.cache import (
    GENERATION_PREFIX,
    ImageCache,
    MemoryBackend,
    RedisBackend,
    SharedGenerations,
    generation_key,
)
from imageuploader.images.jobs import Jobs
from imageuploader.images.library import ImageLibrary
from imageuploader.images.links import LinkService
from imageuploader.images.media import MediaService
from imageuploader.images.renditions import WorkerContext
from imageuploader.images.upload import UploadService
from imageuploader.redis_watch import WatchedKeys
from imageuploader.settings import ConfigError, Settings
from imageuploader.storage import Storage, storage_from_url
from imageuploader.tasks.actors import Actors, declare_actors
from imageuploader.tasks.broker import make_broker
from imageuploader.tasks.middleware import CloseOnWorkerLoop
from imageuploader.webhooks import listeners as webhook_listeners
from imageuploader.webhooks.service import WebhookService


@dataclass(frozen=True)
class Services:
    """The long-lived collaborators of one process (constructed, not yet connected)."""

    settings: Settings
    engine: Engine
    storage: Storage
    cache: ImageCache
    accounts: AccountCache
    broker: dramatiq.Broker
    actors: Actors
    jobs: Jobs
    events: EventBus
    worker: WorkerContext
    users: UserService
    plans: PlanService
    sizes: SizeService
    images: ImageLibrary
    uploads: UploadService
    media: MediaService
    links: LinkService
    webhooks: WebhookService


def make_storage(settings: Settings) -> Storage:
    try:
        return storage_from_url(
            settings.storage_url, buckets=settings.s3_buckets, public_url=settings.s3_public_url
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def watched_generations(settings: Settings) -> WatchedKeys | None:
    """The generation counters every request reads, kept in memory while Redis says
    they are unchanged (redis_watch.py); None without Redis."""
    url = settings.image_cache_url
    if not url:
        return None
    return WatchedKeys(url, [ACCOUNTS_GENERATION_KEY, GENERATION_PREFIX])


def make_image_cache(settings: Settings, watch: WatchedKeys | None = None) -> ImageCache:
    url = settings.image_cache_url
    if url:
        return ImageCache(RedisBackend(url, watch=watch))
    # The command line changes rows behind an embedded server's back: both see DATA_DIR.
    shared = SharedGenerations(settings.data_dir / "cache-generations")
    return ImageCache(MemoryBackend(shared=shared))


def make_account_cache(settings: Settings, watch: WatchedKeys | None = None) -> AccountCache:
    """Checked against Redis whenever processes share one, else against this process.
    With Redis, each check also reads the user's image-cache generation (one round trip
    for both: most requests want that next)."""
    url = settings.image_cache_url
    if not url:
        return AccountCache(LocalGeneration())
    return AccountCache(
        RedisGeneration(url, read_along=lambda user: [generation_key(user)], watch=watch)
    )


def session_store(settings: Settings) -> Store:
    """Redis in production, a file store under DATA_DIR in the embedded default."""
    backend = settings.session_backend
    if backend == "redis" and settings.shared_redis_url:
        return RedisStore.with_client(
            url=settings.shared_redis_url, namespace="imageuploader:sessions"
        )
    if backend == "memory":
        return MemoryStore()
    return FileStore(path=settings.data_dir / "sessions", create_directories=True)


def rate_limit_store(settings: Settings) -> Store:
    """Counters every web process shares (Redis), else this process's memory."""
    if settings.shared_redis_url:
        return RedisStore.with_client(
            url=settings.shared_redis_url, namespace="imageuploader:ratelimit"
        )
    return MemoryStore()


def build_services(settings: Settings, *, clock: Clock = utcnow) -> Services:
    """Construct everything from settings; connections open later, where they are used.

    Workers, in their own process or in the server's, open a database pool of their
    own from inside their first job: a pool belongs to one event loop, and a Dramatiq
    worker's loop exists only then.
    """
    settings = settings.with_secret()
    engine = db.engine_for(settings.database_url)
    pool = db.WorkerPool(engine, settings.database_pool_size)
    storage = make_storage(settings)
    broker = make_broker(settings.broker_redis_url)
    broker.add_middleware(CloseOnWorkerLoop(db.close_worker_pools))
    # One cache object for the app and its in-process workers (memory://).
    watch = watched_generations(settings)
    cache = make_image_cache(settings, watch)
    jobs = Jobs()
    events = EventBus()
    worker = WorkerContext(
        storage=storage,
        max_pixels=settings.max_pixels,
        jobs=jobs,
        cache=cache,
        prepare=pool.start,
        events=events,
        webhook_allow_private=settings.webhook_allow_private,
    )
    actors = declare_actors(broker, worker)
    listeners.subscribe(events, jobs)
    images = ImageLibrary(storage, cache, events)
    webhook_listeners.subscribe(events, webhook_listeners.Dispatcher(images, jobs))
    accounts = make_account_cache(settings, watch)
    media = MediaService(
        storage,
        cache=cache,
        owners=accounts,
        redirect_window=settings.media_redirect_window,
        clock=clock,
    )
    return Services(
        settings=settings,
        engine=engine,
        storage=storage,
        cache=cache,
        accounts=accounts,
        broker=broker,
        actors=actors,
        jobs=jobs,
        events=events,
        worker=worker,
        users=UserService(events, accounts),
        plans=PlanService(events, accounts, settings.max_upload_bytes),
        sizes=SizeService(events),
        images=images,
        uploads=UploadService(settings, storage, jobs, cache, images, events),
        media=media,
        links=LinkService(storage, settings.secret_key, media, clock=clock),
        webhooks=WebhookService(allow_private=settings.webhook_allow_private),
    )


def build_worker(settings: Settings) -> Services:
    """For `dramatiq workers.main`: the services, with every table bound to the engine."""
    services = build_services(settings)
    db.use_engine(services.engine)
    return services
