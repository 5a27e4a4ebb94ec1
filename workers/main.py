"""Entry module for `dramatiq workers.main`: a separate worker process.

The dramatiq CLI imports this module and then runs the actors declared on the
global broker, so this is the one module that configures at import: it is a
process entry point, never imported by the app.
"""

from __future__ import annotations

import os

from imageuploader import db
from imageuploader.images.cache import cache_from_url
from imageuploader.images.renditions import WorkerContext
from imageuploader.logs import configure_logging
from imageuploader.settings import Settings
from imageuploader.storage import storage_from_url
from workers.actors import declare_actors
from workers.broker import make_broker

settings = Settings.from_env(os.environ)
configure_logging(settings.log_level)
broker = make_broker(settings)
engine = db.engine_for(settings.database_url)
db.use_engine(engine)
storage = storage_from_url(
    settings.storage_url, buckets=settings.s3_buckets, public_url=settings.s3_public_url
)
# Web processes read the same cache: invalidations must reach it (Redis in production).
cache = cache_from_url(settings.image_cache_url)
actors = declare_actors(
    broker,
    WorkerContext(
        storage=storage,
        max_pixels=settings.max_pixels,
        cache=cache,
        # Opened on the worker's own event loop by the first job (see pool_starter).
        prepare=db.pool_starter(engine, settings.database_pool_size),
    ),
)
