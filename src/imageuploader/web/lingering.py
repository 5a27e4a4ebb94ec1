"""Lingering close for refused bodies: read and discard the rest before answering 413.

A body refused as too large is refused while it still streams in. If the server
answers and closes with unread bytes in its receive buffer, the kernel resets
the connection, and a client that sends the whole body before reading the
answer (Python's urllib, many simple scripts) sees ECONNRESET instead of the
413. Like nginx's lingering close, the rest of the body is read and thrown away
first, up to a bound in bytes and in time, so every client reads the error.
"""

from __future__ import annotations

import anyio
from litestar.types import ASGIApp, Message, Receive, Scope, Send

DRAIN_SECONDS = 10.0
_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})


def _has_body(scope: Scope) -> bool:
    """Whether the request says a body follows (HTTP/1.1 frames one only by these two)."""
    return any(name in _BODY_HEADERS for name, _ in scope["headers"])


class DrainRefusedBody:
    """Before a 413 goes out, discard what is left of the request body (bounded)."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_seconds: float = DRAIN_SECONDS) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        finished = False

        async def watched_receive() -> Message:
            nonlocal finished
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                finished = True
            return message

        async def draining_send(message: Message) -> None:
            nonlocal finished
            refused = message["type"] == "http.response.start" and message["status"] == 413
            if refused and not finished:
                await self._drain(receive)
                finished = True
            await send(message)

        await self.app(scope, watched_receive, draining_send)

    async def _drain(self, receive: Receive) -> None:
        discarded = 0
        with anyio.move_on_after(self.max_seconds):
            while discarded <= self.max_bytes:
                message = await receive()
                if message["type"] != "http.request":
                    return
                discarded += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return
