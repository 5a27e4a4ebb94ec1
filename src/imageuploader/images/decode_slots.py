"""A bound on the decodes one process runs at once (each holds a decoded picture in
memory): an upload waits its turn for a while, else is told when to come back."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TypeVar

import anyio

from imageuploader.errors import Busy

T = TypeVar("T")
# Weight of the latest decode in the running average of decode times.
SMOOTHING = 0.2


class DecodeSlots:
    """`size` decodes at once; a caller who would wait longer than `wait_seconds` for a
    slot (judged by the queue ahead and recent decode times, and by the wait itself)
    gets Busy with a Retry-After estimate."""

    def __init__(self, size: int, wait_seconds: float) -> None:
        self.size = size
        self.wait_seconds = wait_seconds
        self.average_seconds = 0.0
        # Made on first use: an anyio limiter belongs to the running event loop.
        self._limiter: anyio.CapacityLimiter | None = None

    def _slots(self) -> anyio.CapacityLimiter:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.size)
        return self._limiter

    def _expected_wait(self, slots: anyio.CapacityLimiter) -> float:
        ahead = slots.statistics().tasks_waiting + 1
        return math.ceil(ahead / self.size) * self.average_seconds

    def _busy(self, estimate: float) -> Busy:
        retry = max(1, math.ceil(max(estimate, self.wait_seconds)))
        return Busy(
            "The server is busy decoding other uploads; try again shortly.", retry_after=retry
        )

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(*args)` in a worker thread once a slot is free."""
        slots = self._slots()
        try:
            slots.acquire_nowait()
        except anyio.WouldBlock:
            expected = self._expected_wait(slots)
            if expected > self.wait_seconds:
                raise self._busy(expected) from None
            acquired = False
            with anyio.move_on_after(self.wait_seconds):
                await slots.acquire()
                acquired = True  # no checkpoint between: a slot got is always noted
            if not acquired:
                raise self._busy(self._expected_wait(slots)) from None
        try:
            started = time.monotonic()
            result = await anyio.to_thread.run_sync(fn, *args)
            took = time.monotonic() - started
            self.average_seconds += SMOOTHING * (took - self.average_seconds)
            return result
        finally:
            slots.release()
