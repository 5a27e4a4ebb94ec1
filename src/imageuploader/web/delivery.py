"""HTTP responses for stored objects: validators, conditional requests, ranges, redirects."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.response import Redirect, Stream
from litestar.status_codes import HTTP_307_TEMPORARY_REDIRECT

from imageuploader.images.keys import VERSION_CHARS
from imageuploader.images.locate import Located
from imageuploader.images.media import MediaService
from imageuploader.web.conditional import (
    Validators,
    content_range,
    evaluate,
    http_date,
    strong_etag,
)

# A year: the longest freshness caches are asked to honour (RFC 9111 practice).
IMMUTABLE = "max-age=31536000, immutable"


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


async def serve(
    request: Request[Any, Any, Any],
    media: MediaService,
    found: Located,
    cache_control: str,
) -> Response[Any]:
    """The answer to a GET or HEAD of `found`: 200, 206, 304, 412 or 416."""
    found = await media.with_digest(found)
    size = found.size or 0
    etag = strong_etag(found.digest or "")
    decision = evaluate(request.method, request.headers, Validators(etag, found.modified), size)
    headers = {
        "ETag": etag,
        "Cache-Control": cache_control,
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
    }
    if found.negotiated:
        # The format (and so the ETag) was chosen from Accept: caches must key on it.
        headers["Vary"] = "Accept"
    if found.modified is not None:
        headers["Last-Modified"] = http_date(found.modified)
    if decision.status in (304, 412):
        return Response(b"", status_code=decision.status, headers=headers)
    if decision.status == 416:
        headers["Content-Range"] = content_range(decision, size)
        return Response(b"", status_code=416, headers=headers, media_type="text/plain")
    headers["Content-Disposition"] = found.disposition
    if decision.status == 206:
        headers["Content-Range"] = content_range(decision, size)
    if request.method == "HEAD":
        # Lower case: Response only sets its own (zero) length when the key is absent.
        headers["content-length"] = str(decision.length)
        return Response(
            b"", status_code=decision.status, headers=headers, media_type=found.content_type
        )
    body = await media.small_body(found)
    if body is not None:
        return Response(
            body[decision.start : decision.end + 1],
            status_code=decision.status,
            media_type=found.content_type,
            headers=headers,
        )
    opened = await media.open_located(found, offset=decision.start, length=decision.length)
    headers["Content-Length"] = str(opened.size)
    return Stream(
        opened.chunks,
        status_code=decision.status,
        media_type=found.content_type,
        headers=headers,
    )


def redirect(url: str, cache_control: str, *, vary: bool = False) -> Redirect:
    """307: the client repeats the same method (HEAD stays HEAD) at the presigned URL.
    `vary`: the target was chosen from Accept, so the redirect depends on it too."""
    headers = {"Cache-Control": cache_control}
    if vary:
        headers["Vary"] = "Accept"
    return Redirect(url, status_code=HTTP_307_TEMPORARY_REDIRECT, headers=headers)
