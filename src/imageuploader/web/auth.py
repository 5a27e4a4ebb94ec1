"""Authentication (session cookie or bearer token), CSRF bypass for tokens, guards."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import AuthenticationResult
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.security.session_auth import SessionAuth, SessionAuthMiddleware
from litestar.types import Receive, Scope, Send

from imageuploader.accounts import tokens, users
from imageuploader.accounts.users import CurrentUser

SESSION_USER_KEY = "user_id"

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
        found = await tokens.user_for_token(raw.strip())
        if found is None:
            raise NotAuthorizedException("The token is invalid or has been revoked.")
        user, token_id = found
        return AuthenticationResult(user=user, auth={"token_id": token_id})


class BearerAwareCSRFMiddleware(CSRFMiddleware):
    """CSRF protects cookie sessions; a bearer header cannot be forged cross-site."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and _bearer(scope):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


async def retrieve_user(session: dict[str, Any], _: ASGIConnection) -> CurrentUser | None:
    user_id = session.get(SESSION_USER_KEY)
    if not isinstance(user_id, int):
        return None
    return await users.load_user(user_id)


def session_auth(session_config: ServerSideSessionConfig) -> SessionAuth[CurrentUser, Any]:
    return SessionAuth[CurrentUser, Any](
        retrieve_user_handler=retrieve_user,
        session_backend_config=session_config,
        authentication_middleware_class=TokenOrSessionMiddleware,
        exclude=PUBLIC_PATHS,
        # Litestar skips HEAD by default; /media answers HEAD and must know who asks.
        exclude_http_methods=["OPTIONS"],
    )


def admin_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: only admins pass."""
    if not connection.user.is_admin:
        raise PermissionDeniedException("This needs an administrator account.")
