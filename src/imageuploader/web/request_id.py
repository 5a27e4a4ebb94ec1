"""Request ids: taken from X-Request-ID or made, returned, logged, and carried into jobs."""

from __future__ import annotations

import logging
import random
import re
import time

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from imageuploader.images.links import SHARED_PATH
from imageuploader.logs import ACCESS_LOGGER, request_id

HEADER = b"x-request-id"
# A client's id is kept only if it is short and plain: it ends up in every log line.
VALID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

access_log = logging.getLogger(ACCESS_LOGGER)
REDACTED = "[redacted]"


def redact_path(path: str) -> str:
    """The path as logs may show it: an expiring link's token is a credential."""
    if path.startswith(SHARED_PATH):
        return SHARED_PATH + REDACTED
    return path


def _incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = value.decode("latin-1")
            return text if VALID.match(text) else None
    return None


class RequestIdMiddleware:
    """Outermost middleware: sets the request id for everything below and logs the request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A label, not a secret: 128 random bits without a system call per request.
        rid = _incoming(scope) or f"{random.getrandbits(128):032x}"
        token = request_id.set(rid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = message.get("headers")
                if not isinstance(headers, list):
                    headers = message["headers"] = list(headers or ())
                headers.append((HEADER, rid.encode("latin-1")))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if access_log.isEnabledFor(logging.INFO):
                path = redact_path(scope["path"])
                access_log.info(
                    "%s %s %s",
                    scope["method"],
                    path,
                    status,
                    extra={
                        "method": scope["method"],
                        "path": path,
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
            request_id.reset(token)
