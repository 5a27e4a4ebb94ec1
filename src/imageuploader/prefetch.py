"""Redis values read early in a request, in the same round trip as another read,
for later use by the same request.

Authentication reads the accounts generation on every request; the owner's
image-cache generation is needed a moment later. Reading both with one MGET
saves a round trip, which on loopback TCP costs more than the rest of a cached
read. A remembered value is used only by the task that read it (one request),
and only while no cache invalidation has run in this process since: a request
that changes something and then reads must see its own change.
"""

from __future__ import annotations

import asyncio
import itertools
from contextvars import ContextVar

_changes = itertools.count()
_last_change = 0
_values: ContextVar[tuple[asyncio.Task[object], int, dict[str, bytes | None]] | None] = ContextVar(
    "prefetched", default=None
)


def remember(values: dict[str, bytes | None]) -> None:
    task = asyncio.current_task()
    if task is not None:
        _values.set((task, _last_change, values))


def recall(key: str) -> tuple[bool, bytes | None]:
    """(True, value) if `key` was read by this task since the last invalidation."""
    found = _values.get()
    if found is None or found[0] is not asyncio.current_task() or found[1] != _last_change:
        return False, None
    if key not in found[2]:
        return False, None
    return True, found[2][key]


def change_count() -> int:
    """Moves on at every invalidation in this process (see `redis_watch`)."""
    return _last_change


def changed() -> None:
    """Call before any invalidation: every value remembered so far is out of date."""
    global _last_change
    _last_change = next(_changes) + 1
