"""The fast lane for the reads clients make most: the image list, `/media/...` and
`/api/me` by bearer token, and `/s/...`.

It runs after routing, the request id, the NUL check and the metrics, so those
see every request as before. A request routed to one of those read handlers
(marked with `fast_read(kind)`) is answered here by the very functions the
handlers call (`delivery`, `ImageLibrary.list_json`, `me_json`), minus
what the handler machinery adds on a cached read: a Request, dependency
resolution, a signature model and a response conversion, which together cost
more than the read. Anything but the plain case goes on, untouched, to the
handler, which answers it as always: a session cookie, a missing or bad
credential, any error (the handler raises it again and it is rendered as
everywhere else), an object to stream, a query string it would parse
differently, a repeated header.
"""

from __future__ import annotations

import re

import msgspec
from litestar.enums import MediaType
from litestar.response.base import ASGIResponse
from litestar.types import ASGIApp, Receive, Scope, Send

from imageuploader.accounts.cache import AccountCache
from imageuploader.accounts.users import CurrentUser
from imageuploader.errors import DomainError
from imageuploader.images.library import DEFAULT_PAGE, DEFAULT_PER_PAGE, ImageLibrary
from imageuploader.images.media import MediaService
from imageuploader.web import delivery
from imageuploader.web.delivery import VERSION_MAX, Prepared
from imageuploader.web.deps import ServiceSlot

OPT = "fast_read"
MEDIA, SHARED, LIST, ME = "media", "shared", "list", "me"
# Characters a query string needs no decoding for.
_PLAIN = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~=&")
# An integer query parameter the lane reads itself; anything else is the handler's.
_DIGITS = re.compile(rb"0|[1-9][0-9]{0,8}")


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


def _json(body: bytes) -> ASGIResponse:
    """A 200 of JSON, with the headers ASGIResponse would set."""
    return Prepared(200, {"content-type": MediaType.JSON, "content-length": str(len(body))}, body)


async def me_json(user: CurrentUser, images: ImageLibrary) -> bytes:
    """The body of `/api/me`: the user, their plan (with its limits) and their usage.
    Encoded here rather than by Litestar, whose serialisation of a returned value
    costs as much as the rest of this cached read."""
    me = {
        "id": user.id,
        "username": user.username,
        "is_admin": user.is_admin,
        "plan": user.plan,
        "usage": await images.usage(user.id),
    }
    return msgspec.json.encode(me)


def fast_read(kind: str) -> dict[str, str]:
    """Route options that hand a read handler's plain requests to the lane."""
    return {OPT: kind}


def _query(query: bytes, names: frozenset[bytes]) -> dict[bytes, bytes] | None:
    """The named parameters of a plain query string (no escapes, none repeated); None
    if it is not plain: the handler's own parser decides those."""
    found: dict[bytes, bytes] = {}
    if not query:
        return found
    if not _PLAIN.issuperset(query):
        return None
    for pair in query.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name in names:
            if name in found:
                return None
            found[name] = value
    return found


# The query parameters each read takes.
_MEDIA_QUERY = frozenset({b"v"})
_LIST_QUERY = frozenset({b"page", b"per_page"})


class FastReads:
    """Answers plain list, media, `/api/me` and expiring-link reads; passes all else on."""

    def __init__(self, app: ASGIApp, slot: ServiceSlot) -> None:
        self.app = app
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            kind = scope["route_handler"].opt.get(OPT)
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
        services = self.slot.services  # read per request: `rebind` may refill the slot
        try:
            if kind == SHARED:
                token = scope["path_params"]["token"]
                answer = await delivery.shared_read(services.links, token, scope["method"], headers)
                return answer if isinstance(answer, ASGIResponse) else None
            user = await self._bearer(services.accounts, headers)
            if user is None:
                return None  # a session cookie, or no or a bad credential: the handler's case
            if kind == LIST:
                return await self._list(services.images, user, scope)
            if kind == ME:
                return _json(await me_json(user, services.images))
            return await self._media(services.media, user, scope, headers)
        except DomainError:
            return None

    async def _bearer(self, accounts: AccountCache, headers: dict[str, str]) -> CurrentUser | None:
        authorization = headers.get("authorization")
        if authorization is None:
            return None
        scheme, _, raw = authorization.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return None
        found = await accounts.for_token(raw.strip())
        return None if found is None else found[0]

    async def _media(
        self, media: MediaService, user: CurrentUser, scope: Scope, headers: dict[str, str]
    ) -> ASGIResponse | None:
        query = _query(scope["query_string"], _MEDIA_QUERY)
        if query is None or len(query.get(b"v", b"")) > VERSION_MAX:
            return None
        version = query.get(b"v", b"").decode("ascii") or None
        params = scope["path_params"]
        answer = await delivery.media_read(
            media, user, params["image_id"], params["slug"], version, scope["method"], headers
        )
        return answer if isinstance(answer, ASGIResponse) else None

    async def _list(
        self, images: ImageLibrary, user: CurrentUser, scope: Scope
    ) -> ASGIResponse | None:
        query = _query(scope["query_string"], _LIST_QUERY)
        if query is None or not all(_DIGITS.fullmatch(value) for value in query.values()):
            return None
        page = int(query.get(b"page", DEFAULT_PAGE))
        per_page = int(query.get(b"per_page", DEFAULT_PER_PAGE))
        return _json(await images.list_json(user, page, per_page))
