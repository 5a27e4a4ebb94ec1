"""Authentication (session cookie or bearer token), CSRF where cookies are used, guards.

Both credentials are checked through the process's AccountCache (one
generation read, then memory). The session store is touched only by requests
that carry a session cookie (or log in), CSRF only by cookie requests that
change something or may render a form.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection, Request
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import DefineMiddleware
from litestar.middleware._internal.exceptions import ExceptionHandlerMiddleware
from litestar.middleware.authentication import AuthenticationResult
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.security.session_auth import SessionAuth, SessionAuthMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from imageuploader.accounts.cache import AccountCache
from imageuploader.accounts.users import CurrentUser
from imageuploader.web.sessions import rotate_session_id

SESSION_USER_KEY = "user_id"
SESSION_EPOCH_KEY = "epoch"
# The only requests that may start a session without bringing a cookie.
SESSION_STARTERS = frozenset({("POST", "/login")})
# Safe requests here never render a form, so they need no CSRF token handed out.
NO_FORMS = ("/api/", "/media/", "/s/", "/static/", "/health", "/metrics", "/schema")

# Reachable without logging in.
PUBLIC_PATHS = [
    "^/login",
    "^/static/",
    "^/health$",
    "^/metrics$",
    "^/schema",
    "^/favicon.ico$",
    "^/s/",
]


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return value.decode("latin-1")
    return None


def _has_cookie(scope: Scope, cookie: bytes) -> bool:
    return any(name == b"cookie" and cookie in value for name, value in scope.get("headers", ()))


def accounts_of(connection: ASGIConnection) -> AccountCache:
    cache: AccountCache = connection.app.state.services.accounts
    return cache


class TokenOrSessionMiddleware(SessionAuthMiddleware):
    """A request with an Authorization header is judged by it alone.

    Never falling back to the cookie when a header is present is what makes
    skipping CSRF for header-authenticated requests safe.
    """

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if header is None:
            return await super().authenticate_request(connection)
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise NotAuthorizedException("The Authorization header must be 'Bearer <token>'.")
        found = await accounts_of(connection).for_token(raw.strip())
        if found is None:
            raise NotAuthorizedException("The token is invalid or has been revoked.")
        user, token_id = found
        return AuthenticationResult(user=user, auth={"token_id": token_id})


class BearerAwareCSRFMiddleware(CSRFMiddleware):
    """CSRF protects cookie sessions; a bearer header cannot be forged cross-site."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            _bearer(scope)
            or (scope["method"] in self.config.safe_methods and scope["path"].startswith(NO_FORMS))
        ):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


async def retrieve_user(session: dict[str, Any], connection: ASGIConnection) -> CurrentUser | None:
    """The session's user, if still active and the session began in their current epoch."""
    user_id = session.get(SESSION_USER_KEY)
    if not isinstance(user_id, int):
        return None
    user = await accounts_of(connection).user(user_id)
    if user is None or session.get(SESSION_EPOCH_KEY, 0) != user.epoch:
        return None
    return user


def session_values(user_id: int, epoch: int) -> dict[str, Any]:
    """What a session holds: whose it is and the epoch it began in."""
    return {SESSION_USER_KEY: user_id, SESSION_EPOCH_KEY: epoch}


def start_session(request: Request[Any, Any, Any], user_id: int, epoch: int) -> None:
    """A session for the user under a fresh id (never keep an id someone may have planted)."""
    rotate_session_id(request)
    request.set_session(session_values(user_id, epoch))


class CookieSessionAuth:
    """Litestar's session-auth stack (session store, error handling, authentication), with
    the session store left out for requests that bring no session cookie or a bearer
    header: they get an empty session, and only the authentication runs."""

    def __init__(self, app: ASGIApp, config: SessionAuth[Any, Any]) -> None:
        backend_config = config.session_backend_config
        self.cookie = f"{backend_config.key}=".encode()
        authenticate = ExceptionHandlerMiddleware(
            app=config.authentication_middleware_class(
                app=app,
                exclude=config.exclude,
                exclude_http_methods=config.exclude_http_methods,
                exclude_opt_key=config.exclude_opt_key,
                scopes=config.scopes,
                retrieve_user_handler=config.retrieve_user_handler,  # type: ignore[arg-type]
            ),
            debug=None,
        )
        self.without_store = authenticate
        self.with_store = backend_config.middleware.middleware(
            app=authenticate, backend=config.session_backend
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._uses_session(scope):
            scope["session"] = {}
            await self.without_store(scope, receive, send)
            return
        await self.with_store(scope, receive, send)

    def _uses_session(self, scope: Scope) -> bool:
        if _bearer(scope):
            return False
        return _has_cookie(scope, self.cookie) or (scope["method"], scope["path"]) in (
            SESSION_STARTERS
        )


def session_auth(session_config: ServerSideSessionConfig) -> DefineMiddleware:
    config = SessionAuth[CurrentUser, Any](
        retrieve_user_handler=retrieve_user,
        session_backend_config=session_config,
        authentication_middleware_class=TokenOrSessionMiddleware,
        exclude=PUBLIC_PATHS,
        # Litestar skips HEAD by default; /media answers HEAD and must know who asks.
        exclude_http_methods=["OPTIONS"],
    )
    return DefineMiddleware(CookieSessionAuth, config=config)


def admin_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: only admins pass."""
    if not connection.user.is_admin:
        raise PermissionDeniedException("This needs an administrator account.")
