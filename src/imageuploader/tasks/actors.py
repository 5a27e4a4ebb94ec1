"""Declaring the registry's tasks as Dramatiq actors bound to one process's context."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import Any

import dramatiq

from imageuploader.images.renditions import WorkerContext
from imageuploader.tasks.registry import TASKS, Task

log = logging.getLogger(__name__)

Actors = dict[str, dramatiq.Actor[Any, Any]]


def _bound(task: Task, ctx: WorkerContext) -> Callable[..., Any]:
    @functools.wraps(task.run)
    async def run(*args: Any) -> Any:
        if ctx.prepare is not None:
            await ctx.prepare()
        outcome = await task.run(ctx, *args)
        if outcome is not None:
            log.info("%s %s: %s", task.name, args, outcome)
        return outcome  # a string outcome becomes the job's label in the metrics

    return run


def declare_actors(
    broker: dramatiq.Broker, ctx: WorkerContext, tasks: Iterable[Task] = TASKS
) -> Actors:
    """Declare every task on `broker` and bind the senders into `ctx.jobs`."""
    actors: Actors = {
        task.name: dramatiq.actor(
            _bound(task, ctx), actor_name=task.name, broker=broker, **task.options
        )
        for task in tasks
    }
    ctx.jobs.bind({task.run: actors[task.name].send for task in tasks})
    return actors
