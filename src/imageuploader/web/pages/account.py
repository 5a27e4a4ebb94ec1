"""The signed-in user's own account page: changing their password."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.response import Template

from imageuploader.accounts.users import CurrentUser, UserService
from imageuploader.errors import InvalidInput
from imageuploader.web.auth import start_session

PAGE = "accounts/password.html"


class AccountPages(Controller):
    path = "/account"
    include_in_schema = False

    @get("/password")
    async def password_form(self, request: Request[CurrentUser, Any, Any]) -> Template:
        return Template(PAGE, context={"user": request.user, "error": None, "done": False})

    @post("/password", status_code=200)
    async def change_password(
        self,
        request: Request[CurrentUser, Any, Any],
        data: URLEncodedBody[dict[str, str]],
        user_service: NamedDependency[UserService],
    ) -> Template:
        """Every other session and token of the user ends; this session carries on."""
        try:
            epoch = await user_service.change_own_password(
                request.user, data.get("current_password", ""), data.get("new_password", "")
            )
        except InvalidInput as exc:
            context = {"user": request.user, "error": exc.detail, "done": False}
            return Template(PAGE, context=context, status_code=400)
        start_session(request, request.user.id, epoch)
        return Template(PAGE, context={"user": request.user, "error": None, "done": True})
