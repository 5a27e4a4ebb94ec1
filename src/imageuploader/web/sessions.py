"""Server-side sessions whose id is replaced at login (no session fixation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection, Request
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message, ScopeSession

_ROTATE = "imageuploader.rotate_session"
_NEW_ID = "imageuploader.new_session_id"


def rotate_session_id(request: Request[Any, Any, Any]) -> None:
    """Ask for a new session id on this response; the old one is deleted."""
    request.scope.setdefault("state", {})[_ROTATE] = True


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection) -> str:
        state = connection.scope.setdefault("state", {})
        if not state.get(_ROTATE):
            return super().get_session_id(connection)
        if _NEW_ID not in state:
            state[_NEW_ID] = self.generate_session_id()
        return state[_NEW_ID]

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        old = connection.cookies.get(self.config.key)
        has_cookie = bool(old) and old != "null"
        if scope_session is Empty or not scope_session:
            # Litestar would store an empty session under a new id for every
            # anonymous request (a public link opened by thousands of people):
            # remember nothing until there is something to remember, and only
            # clear a cookie the client actually has.
            if not has_cookie:
                return
            scope_session = Empty
        if connection.scope.get("state", {}).get(_ROTATE) and has_cookie:
            await self.delete(old, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend
