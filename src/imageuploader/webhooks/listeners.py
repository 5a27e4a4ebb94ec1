"""Image events -> webhook messages: one per subscribed endpoint, stored, then queued."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from imageuploader.accounts import users
from imageuploader.clock import utcnow
from imageuploader.events import EventBus
from imageuploader.images.events import ImageDeleted, ImageFailed, ImageReady
from imageuploader.images.jobs import Jobs
from imageuploader.images.library import ImageLibrary
from imageuploader.webhooks import delivery, signing
from imageuploader.webhooks.tables import Webhook, WebhookMessage

Data = Callable[[], Awaitable[Any]]


class Dispatcher:
    """Turns an event into messages for the owner's endpoints that asked for it."""

    def __init__(self, library: ImageLibrary, jobs: Jobs) -> None:
        self.library = library
        self.jobs = jobs

    async def image_settled(self, event: ImageReady | ImageFailed) -> None:
        kind = "image.ready" if isinstance(event, ImageReady) else "image.failed"

        async def data() -> Any:
            owner = await users.load_user(event.owner)
            if owner is None:
                return None
            # The image as GET /api/images/{id} shows its owner, read past the cache.
            return msgspec.to_builtins(await self.library.view(owner, event.image_id))

        await self.emit(event.owner, kind, f"{kind}:{event.image_id}:{event.version}", data)

    async def image_deleted(self, event: ImageDeleted) -> None:
        async def data() -> Any:
            return {"id": event.image_id}

        await self.emit(event.owner, "image.deleted", f"image.deleted:{event.image_id}", data)

    async def emit(self, owner: int, kind: str, key: str, data: Data) -> None:
        """Store one message per endpoint (an event key seen before is skipped), then queue."""
        hooks = [
            h["id"]
            for h in await Webhook.select(Webhook.id, Webhook.events).where(Webhook.owner == owner)
            if kind in h["events"].split(",")
        ]
        if not hooks:
            return
        payload = await data()
        if payload is None:
            return
        now = utcnow()
        body = msgspec.json.encode({"type": kind, "timestamp": now, "data": payload}).decode()
        rows = [
            WebhookMessage(
                id=signing.new_message_id(),
                webhook=hook,
                event_key=f"{hook}:{key}",
                type=kind,
                body=body,
                status="pending",
                created_at=now,
            )
            for hook in hooks
        ]
        stored = (
            await WebhookMessage.insert(*rows)
            .on_conflict(action="DO NOTHING")
            .returning(WebhookMessage.id)
        )
        await self.jobs.send_each(delivery.deliver, [r["id"] for r in stored])


def subscribe(events: EventBus, dispatcher: Dispatcher) -> None:
    """Register the webhook listeners on the process's event bus (composition root)."""
    events.subscribe(ImageReady, dispatcher.image_settled)
    events.subscribe(ImageFailed, dispatcher.image_settled)
    events.subscribe(ImageDeleted, dispatcher.image_deleted)
