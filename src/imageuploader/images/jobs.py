"""What the image services ask of the background queue (Dramatiq behind it)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import anyio

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Jobs:
    """Senders for the background work; each takes ids only (messages stay small)."""

    send_render: Callable[[int], object]
    send_backfill_plan: Callable[[str], object]
    send_backfill_user: Callable[[int], object]

    async def render(self, rendition_ids: Sequence[int]) -> None:
        """Queue renditions; a failure is logged, and the reconciler retries later."""
        if not rendition_ids:
            return

        def send_all() -> None:
            for rendition_id in rendition_ids:
                self.send_render(rendition_id)

        try:
            await anyio.to_thread.run_sync(send_all)
        except Exception:
            log.exception("could not queue renditions %s; the reconciler will", rendition_ids)

    async def backfill_plan(self, plan_name: str) -> None:
        await anyio.to_thread.run_sync(self.send_backfill_plan, plan_name)

    async def backfill_user(self, user_id: int) -> None:
        await anyio.to_thread.run_sync(self.send_backfill_user, user_id)
