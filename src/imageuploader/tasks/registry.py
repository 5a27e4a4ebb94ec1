"""Every background task in one place: the domain function that does the work, and its
Dramatiq options. Adding a task means writing its function and listing it here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from imageuploader.images import renditions
from imageuploader.images.renditions import WorkerContext
from imageuploader.webhooks import delivery

QUEUE = "renditions"
MAX_RETRIES = 5
RENDER_TIME_LIMIT_MS = 5 * 60 * 1000
BACKFILL_TIME_LIMIT_MS = 30 * 60 * 1000
# A queue of their own: a slow receiver never holds up renditions.
WEBHOOK_QUEUE = "webhooks"
WEBHOOK_OPTIONS: dict[str, Any] = {
    "queue_name": WEBHOOK_QUEUE,
    # One lookup and one POST, each bounded by delivery.TIMEOUT_SECONDS.
    "time_limit": 30_000,
    # Retries come after 5-10 s, then twice as long each time up to 1-2 h apart;
    # `deliver` stops raising once the message is a day old, well within these.
    "min_backoff": 5_000,
    "max_backoff": 2 * 3600 * 1000,
    "max_retries": 60,
}


@dataclass(frozen=True)
class Task:
    """`run(ctx, *args)` declared as the actor `name` with these options."""

    name: str
    run: Callable[..., Awaitable[Any]]
    options: dict[str, Any] = field(default_factory=dict)


async def _rendition_gave_up(ctx: WorkerContext, message: dict, retries: dict) -> str:
    # Dramatiq's on_retry_exhausted callback gets the failed message and its retry count.
    return await renditions.give_up(ctx, message["args"][0])


COMMON: dict[str, Any] = {
    "queue_name": QUEUE,
    "max_retries": MAX_RETRIES,
    "min_backoff": 1_000,
    "max_backoff": 60_000,
}

TASKS: tuple[Task, ...] = (
    Task(
        "make_rendition",
        renditions.make_rendition,
        {
            **COMMON,
            "time_limit": RENDER_TIME_LIMIT_MS,
            # Retried while the error may pass (storage down); then marked failed.
            "on_retry_exhausted": "rendition_gave_up",
        },
    ),
    Task("rendition_gave_up", _rendition_gave_up, {**COMMON, "time_limit": RENDER_TIME_LIMIT_MS}),
    Task(
        "backfill_plan", renditions.backfill_plan, {**COMMON, "time_limit": BACKFILL_TIME_LIMIT_MS}
    ),
    Task(
        "backfill_user", renditions.backfill_user, {**COMMON, "time_limit": BACKFILL_TIME_LIMIT_MS}
    ),
    Task("remake_size", renditions.remake_size, {**COMMON, "time_limit": BACKFILL_TIME_LIMIT_MS}),
    Task("deliver_webhook", delivery.deliver, WEBHOOK_OPTIONS),
)
