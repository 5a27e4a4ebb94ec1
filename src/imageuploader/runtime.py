"""The long-lived collaborators a process needs: storage, broker, actors, jobs, cache."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import dramatiq

from imageuploader.images.cache import ImageCache, cache_from_url
from imageuploader.images.jobs import Jobs
from imageuploader.images.renditions import WorkerContext
from imageuploader.settings import ConfigError, Settings
from imageuploader.storage import Storage, storage_from_url
from imageuploader.web.deps import PlanEvents
from workers.actors import Actors, declare_actors
from workers.broker import make_broker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    storage: Storage
    broker: dramatiq.Broker
    actors: Actors
    jobs: Jobs
    cache: ImageCache

    @property
    def in_process_workers(self) -> bool:
        return not self.settings.broker_url.startswith("redis")


def build_runtime(settings: Settings) -> Runtime:
    """Construct (without connecting) storage, broker and actors from settings."""
    try:
        storage = storage_from_url(
            settings.storage_url, buckets=settings.s3_buckets, public_url=settings.s3_public_url
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    broker = make_broker(settings)
    # One cache object for the app and its in-process workers (memory://).
    cache = cache_from_url(settings.image_cache_url)
    actors = declare_actors(
        broker, WorkerContext(storage=storage, max_pixels=settings.max_pixels, cache=cache)
    )
    jobs = Jobs(
        send_render=actors.make_rendition.send,
        send_backfill_plan=actors.backfill_plan.send,
        send_backfill_user=actors.backfill_user.send,
    )
    return Runtime(
        settings=settings, storage=storage, broker=broker, actors=actors, jobs=jobs, cache=cache
    )


class QueuedPlanEvents(PlanEvents):
    """Plan changes become background backfills of the missing renditions."""

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs

    async def plan_gained_sizes(self, plan_name: str, slugs: list[str]) -> None:
        log.info("plan %s gained %s; backfilling", plan_name, slugs)
        await self.jobs.backfill_plan(plan_name)

    async def user_plan_changed(self, user_id: int) -> None:
        await self.jobs.backfill_user(user_id)
