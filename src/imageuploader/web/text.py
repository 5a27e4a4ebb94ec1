"""One check for every piece of text a client sends: no NUL characters.

PostgreSQL text cannot hold NUL, so a NUL in any field that reaches a query is a
driver error (a 500) instead of a refusal. This middleware refuses it (400) in
the path, the query string, JSON and urlencoded bodies, before any handler
runs; multipart text fields are checked where the form is read (web/uploads.py),
because a multipart body also carries the file, whose bytes may hold anything.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar.exceptions import ClientException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

DETAIL = "Text must not contain NUL characters."
# A NUL as it appears percent-encoded in a URL's query string.
_ENCODED = re.compile(rb"%00")
JSON, FORM = "application/json", "application/x-www-form-urlencoded"


def refuse_nul(text: str | None, field: str) -> None:
    """400 naming `field` if `text` holds a NUL character."""
    if text and "\x00" in text:
        raise ClientException(f"{field}: {DETAIL}")


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


def _json_has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_json_has_nul(k) or _json_has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_json_has_nul(v) for v in value)
    return False


def _has_nul(body: bytes, content_type: str) -> bool:
    """Whether any decoded string of the body holds a NUL; a body that does not
    parse is left to the handler to refuse."""
    if b"\x00" in body:
        return True
    if content_type == FORM:
        text = body.decode("latin-1")
        return any("\x00" in k or "\x00" in v for k, v in parse_qsl(text, keep_blank_values=True))
    try:
        return _json_has_nul(msgspec.json.decode(body))
    except msgspec.DecodeError:
        return False


class RejectNulMiddleware:
    """400 for a NUL in the path, the query string, or a JSON or urlencoded body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query: bytes = scope.get("query_string", b"")
        if "\x00" in scope["path"] or b"\x00" in query or _ENCODED.search(query):
            raise ClientException(DETAIL)
        content_type = _content_type(scope)
        if content_type not in (JSON, FORM):
            await self.app(scope, receive, send)
            return
        # Read the (size-limited) body once, check it, and hand the same bytes on.
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        if _has_nul(body, content_type):
            raise ClientException(DETAIL)

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)
