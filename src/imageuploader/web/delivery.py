"""HTTP answers for stored objects: validators, conditional requests, ranges, redirects.

`media_read` and `shared_read` are the two reads of stored bytes, written once:
the route handlers return what they build, and the fast lane (reads.py) sends
it without the handler machinery. Both get a finished `ASGIResponse`, or a
`Streamed` for an object too large to hold in memory, which only the route
handler opens (`to_response`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import MediaType
from litestar.response.base import ASGIResponse
from litestar.response.streaming import ASGIStreamingResponse
from litestar.status_codes import HTTP_307_TEMPORARY_REDIRECT
from litestar.types import Receive, Scope, Send
from litestar.utils import url_quote

from imageuploader.accounts.users import CurrentUser
from imageuploader.images.keys import VERSION_CHARS
from imageuploader.images.links import LinkService
from imageuploader.images.locate import Located
from imageuploader.images.media import MediaService
from imageuploader.web.conditional import (
    Validators,
    content_range,
    evaluate,
    http_date,
    strong_etag,
)

# The longest `v` a media URL may carry.
VERSION_MAX = 64
# A year: the longest freshness caches are asked to honour (RFC 9111 practice).
IMMUTABLE = "max-age=31536000, immutable"


@dataclass(frozen=True, slots=True)
class Streamed:
    """A 200 or 206 whose bytes are read from storage as they are sent."""

    found: Located
    status: int
    start: int
    length: int
    headers: dict[str, str]


Answer = ASGIResponse | Streamed


class Prepared(ASGIResponse):
    """An answer whose every header is given, sent as two ASGI messages.

    ASGIResponse lower-cases, encodes and scans its headers for a type and a
    length on every response; on a cached media read or a 304 that cost as much
    as finding the image. Here the caller gives all of them (with content-type
    and content-length where a body or a HEAD's length goes), so there is nothing
    to look up. It stays an ASGIResponse, so route handlers return it as they
    would any other.
    """

    __slots__ = ()

    def __init__(self, status: int, headers: Mapping[str, str], body: bytes = b"") -> None:
        self.status_code = status
        self.headers = MutableScopeHeaders()
        self.headers.headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in headers.items()
        ]
        self.body = body
        self.content_length = len(body)
        self.background = None
        self.encoding = "utf-8"
        self.is_head_response = False
        self._encoded_cookies = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": self.headers.headers,
            }
        )
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


def cache_control_private(found: Located, version: str | None) -> str:
    """Permanent links are per user. A URL whose `v` names the current digest is
    versioned: its bytes never change, so it may be kept for good; otherwise
    caches revalidate every time (a remake keeps the URL but not the ETag)."""
    # As long as the URLs we hand out: a short guess must not earn a year of caching.
    if version and len(version) >= VERSION_CHARS and (found.digest or "").startswith(version):
        return f"private, {IMMUTABLE}"
    return "private, no-cache"


def cache_control_shared(seconds_left: int) -> str:
    """Expiring links name one object until expiry: anyone may cache it until then."""
    return f"public, max-age={max(0, seconds_left)}"


async def media_read(
    media: MediaService,
    user: CurrentUser,
    image_id: str,
    name: str,
    version: str | None,
    method: str,
    headers: Mapping[str, str],
) -> Answer:
    """GET or HEAD `/media/{image_id}/{name}` by `user`: the bytes, or a redirect."""
    found = await media.find(user, image_id, name, headers.get("accept"))
    if url := media.redirect_url(found):
        return redirect(
            url, f"private, max-age={media.redirect_fresh_for()}", vary=found.negotiated
        )
    return await serve(method, headers, media, found, cache_control_private(found, version))


async def shared_read(
    links: LinkService, token: str, method: str, headers: Mapping[str, str]
) -> Answer:
    """GET or HEAD `/s/{token}`: the object an expiring link grants, until it expires."""
    media = links.media
    found, target = await links.resolve(token, headers.get("accept"))
    left = int((target.expires_at - links.clock()).total_seconds())
    if url := media.redirect_url(found, not_after=target.expires_at):
        fresh = min(left, media.redirect_fresh_for())
        return redirect(url, cache_control_shared(fresh), vary=found.negotiated)
    return await serve(method, headers, media, found, cache_control_shared(left))


async def serve(
    method: str,
    request_headers: Mapping[str, str],
    media: MediaService,
    found: Located,
    cache_control: str,
) -> Answer:
    """The answer to a GET or HEAD of `found`: 200, 206, 304, 412 or 416."""
    found = await media.with_digest(found)
    size = found.size or 0
    etag = strong_etag(found.digest or "")
    decision = evaluate(method, request_headers, Validators(etag, found.modified), size)
    headers = {
        "ETag": etag,
        "Cache-Control": cache_control,
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
    }
    if found.negotiated:
        # The format (and so the ETag) was chosen from Accept: caches must key on it.
        headers["Vary"] = "Accept"
    if decision.status == 304:
        # Only what updates the cached response (RFC 9110 15.4.5): the stored 200 has the rest.
        kept = {"ETag": etag, "Cache-Control": cache_control}
        if found.negotiated:
            kept["Vary"] = "Accept"
        return Prepared(304, kept)
    if found.modified is not None:
        headers["Last-Modified"] = http_date(found.modified)
    if decision.status == 412:
        return ASGIResponse(status_code=412, headers=headers)
    if decision.status == 416:
        headers["Content-Range"] = content_range(decision, size)
        return ASGIResponse(status_code=416, headers=headers, media_type=MediaType.TEXT)
    headers["Content-Disposition"] = found.disposition
    if decision.status == 206:
        headers["Content-Range"] = content_range(decision, size)
    if method == "HEAD":
        return _bytes(decision.status, headers, found.content_type, decision.length)
    body = await media.small_body(found)
    if body is None:
        return Streamed(found, decision.status, decision.start, decision.length, headers)
    part = body[decision.start : decision.end + 1]
    return _bytes(decision.status, headers, found.content_type, len(part), part)


def _bytes(
    status: int, headers: dict[str, str], content_type: str, length: int, body: bytes = b""
) -> ASGIResponse:
    """A 200 or 206 (HEAD: without its body, with the length a GET would have)."""
    return Prepared(
        status, {"content-type": content_type, "content-length": str(length), **headers}, body
    )


def redirect(url: str, cache_control: str, *, vary: bool = False) -> ASGIResponse:
    """307: the client repeats the same method (HEAD stays HEAD) at the presigned URL.
    `vary`: the target was chosen from Accept, so the redirect depends on it too."""
    headers = {"Cache-Control": cache_control, "Location": url_quote(url)}
    if vary:
        headers["Vary"] = "Accept"
    return ASGIResponse(
        status_code=HTTP_307_TEMPORARY_REDIRECT, headers=headers, media_type=MediaType.TEXT
    )


async def to_response(media: MediaService, answer: Answer) -> ASGIResponse:
    """What a route handler returns: the answer itself, or a stream opened from storage."""
    if isinstance(answer, ASGIResponse):
        return answer
    opened = await media.open_located(answer.found, offset=answer.start, length=answer.length)
    return ASGIStreamingResponse(
        iterator=opened.chunks,
        status_code=answer.status,
        media_type=answer.found.content_type,
        headers={**answer.headers, "Content-Length": str(opened.size)},
    )
