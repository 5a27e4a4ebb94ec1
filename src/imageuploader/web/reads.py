"""The fast lane for the two reads a page makes most: `/media/...` by bearer token, `/s/...`.

It runs after routing, the request id, the NUL check and the metrics, so those
see every request as before. A request routed to one of the two read handlers
is answered here by the very functions the handlers call (`delivery`), minus
what the handler machinery adds on a cached read: a Request, dependency
resolution, a signature model and a response conversion, which together cost
more than the read. Anything but the plain case goes on, untouched, to the
handler, which answers it as always: a session cookie, a missing or bad
credential, any error (the handler raises it again and it is rendered as
everywhere else), an object to stream, a query string it would parse
differently, a repeated header.
"""

from __future__ import annotations

from litestar.response.base import ASGIResponse
from litestar.types import ASGIApp, Receive, Scope, Send

from imageuploader.accounts.cache import AccountCache
from imageuploader.errors import DomainError
from imageuploader.images.links import LinkService
from imageuploader.images.media import MediaService
from imageuploader.web import delivery
from imageuploader.web.api.media import VERSION_MAX

# Characters a plain `v=...` query needs no decoding for.
_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~=&")


def _headers(scope: Scope) -> dict[str, str] | None:
    """The request headers by lower-case name, None if any name repeats (the
    handler's own parsing decides those)."""
    found: dict[str, str] = {}
    for name, value in scope["headers"]:
        key = name.decode("latin-1")
        if key in found:
            return None
        found[key] = value.decode("latin-1")
    return found


def _version(query: bytes) -> tuple[bool, str | None]:
    """(plain, the `v` parameter) of a query string; not plain: leave it to the handler."""
    if not query:
        return True, None
    if not _PLAIN.issuperset(query):
        return False, None
    version = None
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name == b"v":
            if version is not None or len(value) > VERSION_MAX:
                return False, None
            version = value.decode("ascii")
    return True, version or None


class FastReads:
    """Answers plain media and expiring-link reads; passes everything else on."""

    def __init__(
        self, app: ASGIApp, accounts: AccountCache, media: MediaService, links: LinkService
    ) -> None:
        self.app = app
        self.accounts = accounts
        self.media = media
        self.links = links

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            kind = scope["route_handler"].opt.get("fast_read")
            if kind is not None:
                answer = await self._answer(kind, scope)
                if answer is not None:
                    await answer(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _answer(self, kind: str, scope: Scope) -> ASGIResponse | None:
        headers = _headers(scope)
        if headers is None:
            return None
        params = scope["path_params"]
        try:
            if kind == "shared":
                answer = await delivery.shared_read(
                    self.links, params["token"], scope["method"], headers
                )
            else:
                plain, version = _version(scope["query_string"])
                authorization = headers.get("authorization")
                if not plain or authorization is None:
                    return None  # a session cookie, or no credential: the handler's case
                scheme, _, raw = authorization.partition(" ")
                if scheme.lower() != "bearer" or not raw.strip():
                    return None
                found = await self.accounts.for_token(raw.strip())
                if found is None:
                    return None
                answer = await delivery.media_read(
                    self.media,
                    found[0],
                    params["image_id"],
                    params["slug"],
                    version,
                    scope["method"],
                    headers,
                )
        except DomainError:
            return None
        return answer if isinstance(answer, ASGIResponse) else None
