"""Never lose work: queue again what a lost message or a dead worker left undone."""

from __future__ import annotations

import logging
from datetime import timedelta

import anyio

from imageuploader.clock import utcnow
from imageuploader.images import backlog, deletions, usage, variants
from imageuploader.images.cache import ImageCache
from imageuploader.images.jobs import Jobs
from imageuploader.images.renditions import make_rendition
from imageuploader.storage import Storage

log = logging.getLogger(__name__)


async def reconcile_once(
    jobs: Jobs,
    older_than: timedelta,
    storage: Storage | None = None,
    cache: ImageCache | None = None,
) -> int:
    """Create rows the plans call for, queue each pending one untouched for `older_than`
    once; return the count queued. With `storage`, also retry recorded object removals
    and record sizes that older images lack for their owners' usage (which `cache`,
    the image views' cache, hears of)."""
    if storage is not None:
        await deletions.sweep(storage)
        if measured := await usage.measure_unmeasured(storage, cache=cache):
            log.info("reconciler measured %d intermediates for usage", measured)
    # Fixed before anything is created or touched, so neither comes back in this sweep.
    cutoff = utcnow() - older_than
    queued = 0
    while created := await backlog.create_missing():
        await jobs.send_each(make_rendition, created)
        queued += len(created)
    after = 0
    while stale := await backlog.stale_pending(cutoff, after_id=after):
        await jobs.send_each(make_rendition, stale)
        queued += len(stale)
        after = stale[-1]
    after = 0
    while stale := await variants.stale_pending(cutoff, after_id=after):
        await jobs.send_each(variants.make_variant, stale)
        queued += len(stale)
        after = stale[-1]
    if queued:
        log.info("reconciler queued %d renditions", queued)
    return queued


async def reconcile_forever(
    jobs: Jobs,
    older_than: timedelta,
    every: float,
    *,
    first: timedelta | None = None,
    storage: Storage | None = None,
    cache: ImageCache | None = None,
) -> None:
    """Sweep with `first` as the age at once (when given), then with `older_than` every
    `every` seconds; a failed sweep is logged, not fatal."""
    if first is not None:
        await _sweep(jobs, first, every, storage, cache)
    while True:
        await anyio.sleep(every)
        await _sweep(jobs, older_than, every, storage, cache)


async def _sweep(
    jobs: Jobs,
    older_than: timedelta,
    every: float,
    storage: Storage | None,
    cache: ImageCache | None,
) -> None:
    # Shielded: cancelling mid-query at shutdown would strand a DB connection.
    with anyio.CancelScope(shield=True):
        try:
            await reconcile_once(jobs, older_than, storage, cache)
        except Exception:
            log.exception("reconciler sweep failed; retrying in %ss", every)
