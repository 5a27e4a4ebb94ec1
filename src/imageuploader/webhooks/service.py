"""A user's webhooks: register (URL and events checked), list, delete, recent deliveries."""

from __future__ import annotations

from imageuploader.accounts.tokens import MAX_ROW_ID
from imageuploader.accounts.users import CurrentUser
from imageuploader.clock import utcnow
from imageuploader.errors import InvalidInput, NotFound
from imageuploader.webhooks import addresses, signing
from imageuploader.webhooks.schemas import (
    EVENTS,
    DeliveryOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
)
from imageuploader.webhooks.tables import Webhook, WebhookAttempt

MAX_PER_USER = 20
RECENT_DELIVERIES = 50


def _events(raw: list[str]) -> list[str]:
    chosen = []
    for name in raw:
        if name not in EVENTS:
            known = ", ".join(EVENTS)
            raise InvalidInput(f"events: {name!r} is not an event; choose from {known}.")
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise InvalidInput(f"events: choose at least one of {', '.join(EVENTS)}.")
    return chosen


def _out(row: dict) -> WebhookOut:
    return WebhookOut(
        id=row["id"], url=row["url"], events=row["events"].split(","), created_at=row["created_at"]
    )


class WebhookService:
    """Every method acts on the caller's own webhooks; another's look like none (404)."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    async def create(self, user: CurrentUser, data: WebhookIn) -> WebhookCreated:
        events = _events(data.events)
        target = addresses.parse(data.url)
        await addresses.resolve(target, allow_private=self.allow_private)
        if await Webhook.count().where(Webhook.owner == user.id) >= MAX_PER_USER:
            raise InvalidInput(f"You have {MAX_PER_USER} webhooks, the most allowed.")
        secret = signing.new_secret()
        now = utcnow()
        rows = await Webhook.insert(
            Webhook(
                owner=user.id,
                url=target.url,
                events=",".join(events),
                secret=secret,
                created_at=now,
            )
        ).returning(Webhook.id)
        return WebhookCreated(
            id=rows[0]["id"], url=target.url, events=events, created_at=now, secret=secret
        )

    async def list(self, user: CurrentUser) -> list[WebhookOut]:
        rows = (
            await Webhook.select(Webhook.id, Webhook.url, Webhook.events, Webhook.created_at)
            .where(Webhook.owner == user.id)
            .order_by(Webhook.id)
        )
        return [_out(r) for r in rows]

    async def _own(self, user: CurrentUser, webhook_id: int) -> None:
        # An id beyond the column (SERIAL) names no row; the database would refuse it.
        found = 0 < webhook_id <= MAX_ROW_ID and await Webhook.exists().where(
            (Webhook.id == webhook_id) & (Webhook.owner == user.id)
        )
        if not found:
            raise NotFound(f"No webhook {webhook_id}.")

    async def delete(self, user: CurrentUser, webhook_id: int) -> None:
        """Remove the webhook; its messages and attempts go with it (cascade)."""
        await self._own(user, webhook_id)
        await Webhook.delete().where((Webhook.id == webhook_id) & (Webhook.owner == user.id))

    async def deliveries(
        self, user: CurrentUser, webhook_id: int, limit: int = RECENT_DELIVERIES
    ) -> list[DeliveryOut]:
        """The latest attempts, newest first."""
        await self._own(user, webhook_id)
        rows = (
            await WebhookAttempt.select(
                WebhookAttempt.id,
                WebhookAttempt.message.id.as_alias("message_id"),
                WebhookAttempt.message.type.as_alias("event"),
                WebhookAttempt.attempt,
                WebhookAttempt.succeeded,
                WebhookAttempt.response_code,
                WebhookAttempt.error,
                WebhookAttempt.attempted_at,
            )
            .where(WebhookAttempt.webhook == webhook_id)
            .order_by(WebhookAttempt.id, ascending=False)
            .limit(limit)
        )
        return [
            DeliveryOut(
                id=r["id"],
                message_id=r["message_id"],
                event=r["event"],
                attempt=r["attempt"],
                status="succeeded" if r["succeeded"] else "failed",
                response_code=r["response_code"],
                error=r["error"],
                attempted_at=r["attempted_at"],
            )
            for r in rows
        ]
