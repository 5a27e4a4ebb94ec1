"""Pages for logging in and out; the signed-in start page is the gallery (pages.images)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromQuery, URLEncodedBody
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from imageuploader.accounts import users
from imageuploader.web.auth import accounts_of, start_session


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a link send users anywhere.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


class LoginPages(Controller):
    include_in_schema = False

    @get("/login")
    async def login_form(self, next: FromQuery[str | None] = None) -> Template:
        return Template("accounts/login.html", context={"next": _safe_next(next), "error": None})

    @post("/login", status_code=HTTP_303_SEE_OTHER)
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: URLEncodedBody[dict[str, str]],
    ) -> Redirect | Template:
        username = data.get("username", "")
        password = data.get("password", "")
        target = _safe_next(data.get("next"))
        user_id = await users.authenticate(username, password)
        if user_id is None:
            return Template(
                "accounts/login.html",
                context={
                    "next": target,
                    "error": "Invalid username or password.",
                    "username": username,
                },
                status_code=400,
            )
        user = await accounts_of(request).user(user_id)
        if user is None:  # deactivated between the two reads
            return Redirect(path="/login", status_code=HTTP_303_SEE_OTHER)
        start_session(request, user.id, user.epoch)
        return Redirect(path=target, status_code=HTTP_303_SEE_OTHER)

    @post("/logout", status_code=HTTP_303_SEE_OTHER)
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        request.clear_session()
        return Redirect(path="/login", status_code=HTTP_303_SEE_OTHER)
