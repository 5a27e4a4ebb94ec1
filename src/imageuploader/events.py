"""Domain events: services publish what changed; listeners react, wired at the composition root.

A plan that gains a size, a user moved to another plan: the services that make
the change publish it here, so the JSON API, the pages and the CLI all get the
same follow-up work without any handler firing it. The bus is an instance (not
module-level signals) so that every app or worker built in one process, as the
tests do, keeps its own listeners.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")
Listener = Callable[[Any], Awaitable[None]]


class EventBus:
    """Listeners per event type, called in the order they subscribed."""

    def __init__(self) -> None:
        self._listeners: dict[type, list[Listener]] = defaultdict(list)

    def subscribe(self, kind: type[E], listener: Callable[[E], Awaitable[None]]) -> None:
        self._listeners[kind].append(listener)

    async def publish(self, event: object) -> None:
        """Run every listener of the event's type. The change is already committed, so a
        failing listener is logged and the others still run (the reconciler repairs
        missed rendition work)."""
        for listener in self._listeners.get(type(event), ()):
            try:
                await listener(event)
            except Exception:
                log.exception(
                    "listener %s failed on %r", getattr(listener, "__name__", listener), event
                )
