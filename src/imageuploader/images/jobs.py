"""What services ask of the background queue: send a task, by the function that does it.

Tasks are plain async functions of the domain (`renditions.make_rendition`...);
`tasks.registry` declares each one as a Dramatiq actor and binds them here, so
a caller names the function it wants run and never an actor or a queue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import anyio

log = logging.getLogger(__name__)

Task = Callable[..., Any]


class Jobs:
    """Senders for background work; messages carry ids only, so they stay small."""

    def __init__(self) -> None:
        self._senders: dict[Task, Callable[..., object]] = {}

    def bind(self, senders: Mapping[Task, Callable[..., object]]) -> None:
        """Called once by the composition root with each task's actor `send`."""
        self._senders.update(senders)

    def _sender(self, task: Task) -> Callable[..., object]:
        try:
            return self._senders[task]
        except KeyError:
            raise LookupError(f"{task.__qualname__} is not a registered task") from None

    async def send(self, task: Task, *args: Any) -> None:
        """Queue one run of `task`; raises if the broker cannot take it."""
        await anyio.to_thread.run_sync(lambda: self._sender(task)(*args))

    async def send_each(self, task: Task, each: Iterable[Any]) -> None:
        """Queue `task` once per value (in one thread hop). A failure is logged, not raised:
        the rows are committed, and the reconciler queues pending work again later."""
        values: Sequence[Any] = list(each)
        if not values:
            return
        send = self._sender(task)

        def send_all() -> None:
            for value in values:
                send(value)

        try:
            await anyio.to_thread.run_sync(send_all)
        except Exception:
            log.exception("could not queue %s for %s; the reconciler will", task.__name__, values)
