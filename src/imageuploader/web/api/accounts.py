"""JSON API for tokens, the current user, and admin management of users, plans, sizes."""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from imageuploader.accounts import plans, sizes, tokens, users
from imageuploader.accounts.cache import AccountCache
from imageuploader.accounts.plans import PlanService
from imageuploader.accounts.schemas import (
    PasswordChange,
    PlanIn,
    PlanOut,
    PlanPatch,
    SizeIn,
    SizeOut,
    SizePatch,
    TokenInfo,
    TokenIssued,
    TokenRequest,
    UserIn,
    UserOut,
    UserPatch,
)
from imageuploader.accounts.sizes import SizeService
from imageuploader.accounts.users import CurrentUser, UserService
from imageuploader.images.library import ImageLibrary
from imageuploader.web.auth import admin_only, start_session
from imageuploader.web.reads import ME, fast_read, me_json


def _token_id(request: Request[CurrentUser, Any, Any]) -> int | None:
    """The bearer token a request was made with (None: a session)."""
    auth = request.auth if isinstance(request.auth, dict) else {}
    token_id = auth.get("token_id")
    return token_id if isinstance(token_id, int) else None


class AuthController(Controller):
    path = "/api/auth"
    tags = ["auth"]

    # Public, and free of CSRF: credentials in a JSON body cannot be posted
    # cross-site without a CORS preflight we never grant.
    @post(
        "/token",
        status_code=HTTP_200_OK,
        security=[],
        exclude_from_auth=True,
        exclude_from_csrf=True,
    )
    async def issue(self, data: JSONBody[TokenRequest]) -> TokenIssued:
        """Exchange a username and password for a bearer token."""
        user_id = await users.authenticate(data.username, data.password)
        if user_id is None:
            raise NotAuthorizedException("Invalid username or password.")
        raw, token_id = await tokens.issue_token(user_id, data.name)
        return TokenIssued(access_token=raw, token_type="bearer", token_id=token_id)  # noqa: S106

    @delete("/token", status_code=HTTP_204_NO_CONTENT)
    async def revoke_current(
        self, request: Request[CurrentUser, Any, Any], accounts: NamedDependency[AccountCache]
    ) -> None:
        """Revoke the token this request was made with."""
        token_id = _token_id(request)
        if token_id is None:
            raise NotAuthorizedException("This request was not made with a bearer token.")
        await tokens.revoke_token(request.user.id, token_id, accounts=accounts)

    @get("/tokens")
    async def list_tokens(self, request: Request[CurrentUser, Any, Any]) -> list[TokenInfo]:
        return await tokens.list_tokens(request.user.id)

    @delete("/tokens/{token_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def revoke(
        self,
        request: Request[CurrentUser, Any, Any],
        token_id: FromPath[int],
        accounts: NamedDependency[AccountCache],
    ) -> None:
        await tokens.revoke_token(request.user.id, token_id, accounts=accounts)


class MeController(Controller):
    path = "/api/me"
    tags = ["auth"]

    @get(opt=fast_read(ME))
    async def me(
        self, request: Request[CurrentUser, Any, Any], images: NamedDependency[ImageLibrary]
    ) -> Response[dict[str, Any]]:
        """The current user, their plan (with its limits) and their usage."""
        return Response(await me_json(request.user, images), media_type=MediaType.JSON)

    @post("/password", status_code=HTTP_204_NO_CONTENT)
    async def change_password(
        self,
        request: Request[CurrentUser, Any, Any],
        data: JSONBody[PasswordChange],
        user_service: NamedDependency[UserService],
    ) -> None:
        """Change your password: every other session and token ends; this one carries on."""
        token_id = _token_id(request)
        epoch = await user_service.change_own_password(
            request.user, data.current_password, data.new_password, keep_token=token_id
        )
        if token_id is None:
            start_session(request, request.user.id, epoch)


class AdminUsersController(Controller):
    path = "/api/admin/users"
    guards = [admin_only]
    tags = ["admin"]

    @get()
    async def list(self) -> list[UserOut]:
        return await users.list_users()

    @post()
    async def create(
        self, data: JSONBody[UserIn], user_service: NamedDependency[UserService]
    ) -> UserOut:
        return await user_service.create(data)

    @get("/{username:str}")
    async def read(self, username: FromPath[str]) -> UserOut:
        return await users.get_user(username)

    @patch("/{username:str}")
    async def update(
        self,
        request: Request[CurrentUser, Any, Any],
        username: FromPath[str],
        data: JSONBody[UserPatch],
        user_service: NamedDependency[UserService],
    ) -> UserOut:
        return await user_service.update(username, data, acting_user_id=request.user.id)

    @delete("/{username:str}", status_code=HTTP_204_NO_CONTENT)
    async def deactivate(
        self,
        request: Request[CurrentUser, Any, Any],
        username: FromPath[str],
        user_service: NamedDependency[UserService],
    ) -> None:
        """Deactivate (never erase): the user can no longer log in; tokens are revoked."""
        await user_service.deactivate(username, acting_user_id=request.user.id)


class AdminPlansController(Controller):
    path = "/api/admin/plans"
    guards = [admin_only]
    tags = ["admin"]

    @get()
    async def list(self) -> list[PlanOut]:
        return await plans.list_plans()

    @post()
    async def create(
        self, data: JSONBody[PlanIn], plan_service: NamedDependency[PlanService]
    ) -> PlanOut:
        return await plan_service.create(data)

    @get("/{name:str}")
    async def read(self, name: FromPath[str]) -> PlanOut:
        return await plans.get_plan(name)

    @patch("/{name:str}")
    async def update(
        self,
        name: FromPath[str],
        data: JSONBody[PlanPatch],
        plan_service: NamedDependency[PlanService],
    ) -> PlanOut:
        return await plan_service.update(name, data)

    @delete("/{name:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete(self, name: FromPath[str], plan_service: NamedDependency[PlanService]) -> None:
        await plan_service.delete(name)


class AdminSizesController(Controller):
    path = "/api/admin/sizes"
    guards = [admin_only]
    tags = ["admin"]

    @get()
    async def list(self) -> list[SizeOut]:
        return await sizes.list_sizes()

    @post()
    async def create(
        self, data: JSONBody[SizeIn], size_service: NamedDependency[SizeService]
    ) -> SizeOut:
        return await size_service.create(data)

    @get("/{slug:str}")
    async def read(self, slug: FromPath[str]) -> SizeOut:
        return await sizes.get_size(slug)

    @patch("/{slug:str}")
    async def update(
        self,
        slug: FromPath[str],
        data: JSONBody[SizePatch],
        size_service: NamedDependency[SizeService],
    ) -> SizeOut:
        return await size_service.update(slug, data)

    @delete("/{slug:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete(self, slug: FromPath[str], size_service: NamedDependency[SizeService]) -> None:
        await size_service.delete(slug)
