"""Rate limits: failed logins per address and per (username, address), uploads per user.

Logins count failures only, after the password was checked, per client address
and per username from that address: nobody can lock a user out by failing on
their behalf from elsewhere, and a right password from an address that has not
failed always gets through. Uploads use Litestar's RateLimitMiddleware. All
counters live in the `rate_limit` store that the composition root builds: Redis
when CACHE_URL is Redis, so every web process counts together; in memory
otherwise. Over a limit: 429 with `Retry-After` and a JSON `detail`.
Only the requests a limit may count (POSTs to the login and upload paths) enter
the limiters (OnlyWhereLimited); the rest pass by at the cost of one comparison.
"""

from __future__ import annotations

import time
from typing import Any

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import DURATION_VALUES, RateLimitConfig, RateLimitMiddleware
from litestar.stores.base import Store
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from imageuploader.settings import Rate, Settings

STORE = "rate_limit"
LOGIN_PATHS = frozenset({"/login", "/api/auth/token"})
# The JSON API and the upload page share one budget per user.
UPLOAD_PATHS = frozenset({"/api/images", "/upload"})
LIMITED_PATHS = LOGIN_PATHS | UPLOAD_PATHS
MAX_USERNAME = 200


class OnlyWhereLimited:
    """The limiters, wrapped around the app, entered only by POSTs to a limited path."""

    def __init__(self, app: ASGIApp, limits: list[DefineMiddleware]) -> None:
        self.app = app
        limited = app
        for limit in reversed(limits):
            limited = limit(limited)
        self.limited = limited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and (scope["path"].rstrip("/") or "/") in LIMITED_PATHS
        ):
            await self.limited(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _Limiter(RateLimitMiddleware):
    """Litestar's limiter; a refusal says what was limited and when to retry."""

    what = "requests"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        except TooManyRequestsException as exc:
            headers = dict(exc.headers or {})
            if "Retry-After" not in headers:
                reset = headers.get(self.config.rate_limit_reset_header_key)
                wait = max(1, int(reset)) if reset else 1
                headers["Retry-After"] = str(wait)
                raise TooManyRequestsException(
                    detail=f"Too many {self.what}; try again in {wait} seconds.",
                    headers=headers,
                ) from None
            raise


class LoginFailures:
    """Refuse logins from an address, or for a username from an address, that failed
    too often in the current window; count a failure when the credentials are wrong."""

    def __init__(self, app: ASGIApp, per_address: Rate, per_username: Rate) -> None:
        self.app = app
        self.per_address = per_address
        self.per_username = per_username

    def _counters(self, address: str, username: str | None) -> list[tuple[str, Rate, str]]:
        counters = [(f"address:{address}", self.per_address, "from this address")]
        if username is not None:
            counters.append(
                (
                    f"username:{username}:address:{address}",
                    self.per_username,
                    "for this username from this address",
                )
            )
        return [(key, rate, what) for key, rate, what in counters if rate is not None]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope, receive)
        if not _is_login(request):
            await self.app(scope, receive, send)
            return
        # Read here, parsed once: Litestar keeps the body for the handler.
        username = await _username_of(request)
        address = request.client.host if request.client else "unknown"
        store: Store = scope["litestar_app"].stores.get(STORE)
        counters = self._counters(address, username)
        now = time.time()
        for key, rate, what in counters:
            count, reset = await _read(store, key, rate, now)
            if count >= rate[1]:  # type: ignore[index]
                wait = max(1, int(reset - now + 0.999))
                raise TooManyRequestsException(
                    detail=f"Too many failed logins {what}; try again in {wait} seconds.",
                    headers={"Retry-After": str(wait)},
                )
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, watch)
        if _wrong_credentials(request, status, username):
            for key, rate, _ in counters:
                await _add_failure(store, key, rate, now)


def _window(rate: Rate, now: float) -> tuple[int, float]:
    """The fixed window `now` falls in for `rate`: its number and when it ends."""
    seconds = DURATION_VALUES[rate[0]]  # type: ignore[index]
    number = int(now // seconds)
    return number, (number + 1) * seconds


async def _read(store: Store, key: str, rate: Rate, now: float) -> tuple[int, float]:
    number, reset = _window(rate, now)
    raw = await store.get(f"login-failures:{key}:{number}")
    return (int(raw) if raw else 0), reset


async def _add_failure(store: Store, key: str, rate: Rate, now: float) -> None:
    number, reset = _window(rate, now)
    name = f"login-failures:{key}:{number}"
    raw = await store.get(name)
    count = (int(raw) if raw else 0) + 1
    await store.set(name, str(count).encode(), expires_in=max(1, int(reset - now) + 1))


def _wrong_credentials(request: Request[Any, Any, Any], status: int, username: str | None) -> bool:
    """The API answers wrong credentials with 401, the login page re-renders with 400."""
    if request.url.path == "/api/auth/token":
        return status == 401
    return status == 400 and username is not None


class UploadsPerUser(_Limiter):
    what = "uploads"


def _is_login(request: Request[Any, Any, Any]) -> bool:
    return request.method == "POST" and request.url.path in LOGIN_PATHS


async def _username_of(request: Request[Any, Any, Any]) -> str | None:
    """The username a login request names. Litestar keeps the parsed body for the handler."""
    try:
        if request.url.path == "/api/auth/token":
            body = await request.json()
            name = body.get("username") if isinstance(body, dict) else None
        else:
            name = (await request.form()).get("username")
    except Exception:
        # A malformed body is the handler's to refuse (400/422), not ours.
        return None
    return name[:MAX_USERNAME] if isinstance(name, str) and name else None


def _is_upload(request: Request[Any, Any, Any]) -> bool:
    return (
        request.method == "POST"
        and request.url.path in UPLOAD_PATHS
        and getattr(request.scope.get("user"), "id", None) is not None
    )


def _user_identifier(request: Request[Any, Any, Any]) -> str:
    return f"user:{request.scope['user'].id}"


def rate_limit_middleware(settings: Settings) -> list[DefineMiddleware]:
    """The enabled limits; list them after authentication (uploads count per user)."""
    middleware = []
    if settings.rate_limit_login_per_ip or settings.rate_limit_login_per_username:
        middleware.append(
            DefineMiddleware(
                LoginFailures,
                per_address=settings.rate_limit_login_per_ip,
                per_username=settings.rate_limit_login_per_username,
            )
        )
    if settings.rate_limit_uploads_per_user is not None:
        middleware.append(
            RateLimitConfig(
                rate_limit=settings.rate_limit_uploads_per_user,  # type: ignore[arg-type]
                store=STORE,
                middleware_class=UploadsPerUser,
                check_throttle_handler=_is_upload,
                identifier_for_request=_user_identifier,
            ).middleware
        )
    return [DefineMiddleware(OnlyWhereLimited, limits=middleware)] if middleware else []
