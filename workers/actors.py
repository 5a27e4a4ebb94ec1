"""Dramatiq actors: thin wrappers that load ids and call the image services."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.middleware import CurrentMessage

from imageuploader.images import renditions
from imageuploader.images.renditions import WorkerContext

log = logging.getLogger(__name__)

QUEUE = "renditions"
MAX_RETRIES = 5
RENDER_TIME_LIMIT_MS = 5 * 60 * 1000
BACKFILL_TIME_LIMIT_MS = 30 * 60 * 1000


def _final_attempt() -> bool:
    message = CurrentMessage.get_current_message()
    retries = message.options.get("retries", 0) if message else 0
    return retries >= MAX_RETRIES


@dataclass(frozen=True)
class Actors:
    make_rendition: dramatiq.Actor[Any, Any]
    backfill_plan: dramatiq.Actor[Any, Any]
    backfill_user: dramatiq.Actor[Any, Any]


def declare_actors(broker: dramatiq.Broker, ctx: WorkerContext) -> Actors:
    """Declare the actors on `broker`, closing over the worker's context."""

    async def prepare() -> None:
        if ctx.prepare is not None:
            await ctx.prepare()

    async def make_rendition(rendition_id: int) -> str:
        await prepare()
        outcome = await renditions.make_rendition(ctx, rendition_id, final_attempt=_final_attempt())
        log.info("rendition %s: %s", rendition_id, outcome)
        return outcome  # the job's outcome label in the metrics

    async def backfill(user_id: int | None = None, plan_name: str | None = None) -> None:
        await prepare()
        while created := await renditions.create_missing(user_id=user_id, plan_name=plan_name):
            for rendition_id in created:
                render.send(rendition_id)

    async def backfill_plan(plan_name: str) -> None:
        await backfill(plan_name=plan_name)

    async def backfill_user(user_id: int) -> None:
        await backfill(user_id=user_id)

    common: dict[str, Any] = {
        "broker": broker,
        "queue_name": QUEUE,
        "max_retries": MAX_RETRIES,
        "min_backoff": 1_000,
        "max_backoff": 60_000,
    }
    render = dramatiq.actor(
        make_rendition, actor_name="make_rendition", time_limit=RENDER_TIME_LIMIT_MS, **common
    )
    return Actors(
        make_rendition=render,
        backfill_plan=dramatiq.actor(
            backfill_plan,
            actor_name="backfill_plan",
            time_limit=BACKFILL_TIME_LIMIT_MS,
            **common,
        ),
        backfill_user=dramatiq.actor(
            backfill_user,
            actor_name="backfill_user",
            time_limit=BACKFILL_TIME_LIMIT_MS,
            **common,
        ),
    )
