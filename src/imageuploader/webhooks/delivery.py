"""Sending one webhook message: one signed POST per attempt, every attempt recorded.

A failed attempt raises, and the queue retries it with growing delays (the
options in `tasks.registry`); once the message is a day old, a failure is
final. Every attempt carries the same `webhook-id`, so receivers can drop
repeats.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio
import httpx

from imageuploader.clock import utcnow
from imageuploader.errors import InvalidInput
from imageuploader.images.renditions import WorkerContext
from imageuploader.webhooks import addresses, signing
from imageuploader.webhooks.tables import WebhookAttempt, WebhookMessage

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
GIVE_UP_AFTER = timedelta(hours=24)
MAX_ERROR = 500
USER_AGENT = "imageuploader-webhooks"


class DeliveryFailed(Exception):
    """This attempt failed; raised so that the queue tries again later."""


@dataclass(frozen=True)
class Outcome:
    response_code: int | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Pending:
    message_id: str
    webhook_id: int
    url: str
    secret: str
    body: str
    status: str
    created_at: datetime


async def _load(message_id: str) -> Pending | None:
    row = (
        await WebhookMessage.select(
            WebhookMessage.id,
            WebhookMessage.webhook.id.as_alias("webhook_id"),
            WebhookMessage.webhook.url.as_alias("url"),
            WebhookMessage.webhook.secret.as_alias("secret"),
            WebhookMessage.body,
            WebhookMessage.status,
            WebhookMessage.created_at,
        )
        .where(WebhookMessage.id == message_id)
        .first()
    )
    if row is None or row["webhook_id"] is None:
        return None
    return Pending(
        message_id=row["id"],
        webhook_id=row["webhook_id"],
        url=row["url"],
        secret=row["secret"],
        body=row["body"],
        status=row["status"],
        created_at=row["created_at"],
    )


async def deliver(ctx: WorkerContext, message_id: str) -> str:
    """Make the next attempt of a message; idempotent once it is delivered or given up."""
    message = await _load(message_id)
    if message is None:
        return "gone"  # the webhook was deleted
    if message.status != "pending":
        return f"already-{message.status}"
    attempt = await WebhookAttempt.count().where(WebhookAttempt.message == message_id) + 1
    outcome = await send(message, allow_private=ctx.webhook_allow_private)
    await WebhookAttempt.insert(
        WebhookAttempt(
            message=message_id,
            webhook=message.webhook_id,
            attempt=attempt,
            succeeded=outcome.succeeded,
            response_code=outcome.response_code,
            error=outcome.error,
            attempted_at=utcnow(),
        )
    )
    if outcome.succeeded:
        await _set_status(message_id, "delivered")
        return "delivered"
    if utcnow() - message.created_at >= GIVE_UP_AFTER:
        await _set_status(message_id, "failed")
        return "failed"
    raise DeliveryFailed(f"attempt {attempt} of {message_id}: {outcome.error}")


async def _set_status(message_id: str, status: str) -> None:
    await WebhookMessage.update({WebhookMessage.status: status}).where(
        WebhookMessage.id == message_id
    )


async def send(message: Pending, *, allow_private: bool) -> Outcome:
    """POST the message to an address checked now, trying each one the name resolves to."""
    try:
        target = addresses.parse(message.url)
        checked = await addresses.resolve(target, allow_private=allow_private)
    except InvalidInput as exc:
        return Outcome(None, exc.detail)
    headers = {
        **signing.headers(message.secret, message.message_id, int(time.time()), message.body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": target.authority,
    }
    # TLS is checked against the name, though we connect to the address.
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    error = "no address to connect to"
    # No proxies from the environment: the connection must go to the checked address.
    async with httpx.AsyncClient(
        timeout=TIMEOUT_SECONDS, follow_redirects=False, trust_env=False
    ) as client:
        for ip in checked:
            try:
                with anyio.fail_after(TIMEOUT_SECONDS):
                    url = target.url_for(ip)
                    return await _post(client, url, message.body, headers, extensions)
            except httpx.ConnectError as exc:
                error = f"could not connect to {ip}: {exc}"
                continue
            except (TimeoutError, httpx.TimeoutException):
                return Outcome(None, f"no answer within {TIMEOUT_SECONDS:g} s")
            except httpx.HTTPError as exc:
                return Outcome(None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR])
    return Outcome(None, error[:MAX_ERROR])


async def _post(
    client: httpx.AsyncClient, url: str, body: str, headers: dict, extensions: dict
) -> Outcome:
    # Streamed and closed unread: only the status matters, whatever the receiver sends.
    async with client.stream(
        "POST", url, content=body.encode(), headers=headers, extensions=extensions
    ) as response:
        code = response.status_code
        if 200 <= code < 300:
            return Outcome(code, None)
        if 300 <= code < 400:
            return Outcome(code, f"answered {code}: redirects are not followed")
        return Outcome(code, f"answered {code}")
