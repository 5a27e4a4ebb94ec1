"""After a restart of the embedded default: queue again the messages still being delivered.

The in-process queue, delayed retries included, dies with the process, while
a Redis broker keeps them; so this runs at start-up with the in-process queue
only, when nothing of ours can be queued twice.
"""

from __future__ import annotations

import logging

from imageuploader.images.jobs import Jobs
from imageuploader.webhooks import delivery
from imageuploader.webhooks.tables import WebhookMessage

log = logging.getLogger(__name__)


async def requeue_pending(jobs: Jobs) -> int:
    """Queue every pending message once; return how many."""
    rows = await WebhookMessage.select(WebhookMessage.id).where(WebhookMessage.status == "pending")
    ids = [r["id"] for r in rows]
    if ids:
        await jobs.send_each(delivery.deliver, ids)
        log.info("queued %d webhook messages again after a restart", len(ids))
    return len(ids)
