"""Request bodies and response shapes of the webhooks API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

EVENTS = ("image.ready", "image.failed", "image.deleted")


class WebhookIn(msgspec.Struct, forbid_unknown_fields=True):
    # Lengths and event names are checked by the service, for a 422 that names the problem.
    url: str
    events: list[str]


class WebhookOut(msgspec.Struct):
    id: int
    url: str
    events: list[str]
    created_at: datetime


class WebhookCreated(msgspec.Struct):
    """As WebhookOut, with the signing secret: shown this once."""

    id: int
    url: str
    events: list[str]
    created_at: datetime
    secret: str


class DeliveryOut(msgspec.Struct):
    """One attempt to deliver one message (`message_id` is its `webhook-id` header)."""

    id: int
    message_id: str
    event: str
    attempt: int
    status: Literal["succeeded", "failed"]
    response_code: int | None
    error: str | None
    attempted_at: datetime
