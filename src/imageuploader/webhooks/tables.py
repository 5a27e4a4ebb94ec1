"""Piccolo tables: a user's webhook endpoints, the messages due to them, and each attempt."""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from imageuploader.accounts.tables import User


class Webhook(Table, tablename="webhooks"):
    """An endpoint; `events` is the comma-separated list of event types it receives."""

    owner = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    url = Varchar(length=2000)
    events = Varchar(length=200)
    # Needed in the clear to sign each message; shown to its owner once, at creation.
    secret = Varchar(length=100, secret=True)
    created_at = Timestamptz()


class WebhookMessage(Table, tablename="webhook_messages"):
    """One event for one endpoint; its id is the `webhook-id` every attempt repeats."""

    id = Varchar(length=40, primary_key=True)
    webhook = ForeignKey(Webhook, on_delete=OnDelete.cascade, index=True)
    # Unique: the same outcome announced twice (two workers finishing together) is sent once.
    event_key = Varchar(length=200, unique=True)
    type = Varchar(length=30)
    body = Text()
    status = Varchar(length=10, default="pending")
    created_at = Timestamptz()


class WebhookAttempt(Table, tablename="webhook_attempts"):
    """One POST of a message: its outcome as the receiver (or the network) gave it."""

    message = ForeignKey(WebhookMessage, on_delete=OnDelete.cascade, index=True)
    webhook = ForeignKey(Webhook, on_delete=OnDelete.cascade, index=True)
    attempt = Integer()
    succeeded = Boolean()
    response_code = Integer(null=True, default=None)
    error = Text(null=True, default=None)
    attempted_at = Timestamptz(index=True)
