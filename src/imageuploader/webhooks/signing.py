"""Standard Webhooks signing: `whsec_` secrets and the `webhook-*` headers of one attempt."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

SECRET_PREFIX = "whsec_"  # noqa: S105 - the standard prefix, not a secret
SECRET_BYTES = 32


def new_secret() -> str:
    """A signing secret: `whsec_` and the base64 of random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def signature(secret: str, message_id: str, timestamp: int, body: str) -> str:
    """`v1,` and the base64 HMAC-SHA256, keyed by the secret's bytes, of `id.timestamp.body`."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secret: str, message_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The headers of one attempt; the id stays, the timestamp is the attempt's."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret, message_id, timestamp, body),
    }
