"""Rate limits on Litestar's RateLimitMiddleware: login per IP and per username, uploads per user.

Each limit is a RateLimitConfig with its own middleware class (Litestar keys its
counters by the class name), all sharing the `rate_limit` store that the
composition root builds: Redis when CACHE_URL is Redis, so every web process
counts together; in memory otherwise.
Over the limit: 429 with `Retry-After` and a JSON `detail`.
Only the requests a limit may count enter the limiters (OnlyWhereLimited); the
rest pass by at the cost of one comparison.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

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


class LoginPerIP(_Limiter):
    what = "login attempts from this address"


class LoginPerUsername(_Limiter):
    what = "login attempts for this username"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope, receive)
            if _is_login(request):
                # Litestar's limiter builds its Request without `receive`: read the
                # body here; Litestar caches it for the limiter and the handler alike.
                await request.body()
        await super().__call__(scope, receive, send)


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


async def _check_login_username(request: Request[Any, Any, Any]) -> bool:
    if not _is_login(request):
        return False
    username = await _username_of(request)
    if username is None:
        return False
    request.state.rate_limit_username = username
    return True


def _username_identifier(request: Request[Any, Any, Any]) -> str:
    return f"username:{request.state.rate_limit_username}"


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
    configs: list[tuple[Rate, dict[str, Any]]] = [
        (
            settings.rate_limit_login_per_ip,
            {"middleware_class": LoginPerIP, "check_throttle_handler": _is_login},
        ),
        (
            settings.rate_limit_login_per_username,
            {
                "middleware_class": LoginPerUsername,
                "check_throttle_handler": _check_login_username,
                "identifier_for_request": _username_identifier,
            },
        ),
        (
            settings.rate_limit_uploads_per_user,
            {
                "middleware_class": UploadsPerUser,
                "check_throttle_handler": _is_upload,
                "identifier_for_request": _user_identifier,
            },
        ),
    ]
    limits = [
        RateLimitConfig(rate_limit=rate, store=STORE, **options).middleware  # type: ignore[arg-type]
        for rate, options in configs
        if rate is not None
    ]
    return [DefineMiddleware(OnlyWhereLimited, limits=limits)] if limits else []
