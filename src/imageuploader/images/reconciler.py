"""Never lose work: queue again what a lost message or a dead worker left undone."""

from __future__ import annotations

import logging
from datetime import timedelta

import anyio

from imageuploader.images import renditions, usage
from imageuploader.images.jobs import Jobs
from imageuploader.images.renditions import make_rendition
from imageuploader.storage import Storage

log = logging.getLogger(__name__)


async def reconcile_once(jobs: Jobs, older_than: timedelta, storage: Storage | None = None) -> int:
    """Create rows the plans call for, re-queue stale pending ones; return the count.
    With `storage`, also record sizes that older images lack for their owners' usage."""
    if storage is not None and (measured := await usage.measure_unmeasured(storage)):
        log.info("reconciler measured %d intermediates for usage", measured)
    queued = 0
    while created := await renditions.create_missing():
        await jobs.send_each(make_rendition, created)
        queued += len(created)
    while stale := await renditions.stale_pending(older_than):
        await jobs.send_each(make_rendition, stale)
        queued += len(stale)
    if queued:
        log.info("reconciler queued %d renditions", queued)
    return queued


async def reconcile_forever(
    jobs: Jobs, older_than: timedelta, every: float, storage: Storage | None = None
) -> None:
    """Run `reconcile_once` every `every` seconds (after a first wait: the app runs one
    sweep at start-up); a failed sweep is logged, not fatal."""
    while True:
        await anyio.sleep(every)
        # Shielded: cancelling mid-query at shutdown would strand a DB connection.
        with anyio.CancelScope(shield=True):
            try:
                await reconcile_once(jobs, older_than, storage)
            except Exception:
                log.exception("reconciler sweep failed; retrying in %ss", every)
