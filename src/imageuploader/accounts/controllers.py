"""JSON API for tokens, the current user, and admin management of users, plans, sizes."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT

from imageuploader.accounts import catalog, users
from imageuploader.accounts.schemas import (
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
from imageuploader.accounts.users import CurrentUser
from imageuploader.web.auth import admin_only
from imageuploader.web.deps import PlanEvents


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
        raw, token_id = await users.issue_token(user_id, data.name)
        return TokenIssued(access_token=raw, token_type="bearer", token_id=token_id)  # noqa: S106

    @delete("/token", status_code=HTTP_204_NO_CONTENT)
    async def revoke_current(self, request: Request[CurrentUser, Any, Any]) -> None:
        """Revoke the token this request was made with."""
        auth = request.auth if isinstance(request.auth, dict) else {}
        if "token_id" not in auth:
            raise NotAuthorizedException("This request was not made with a bearer token.")
        await users.revoke_token(request.user.id, auth["token_id"])

    @get("/tokens")
    async def list_tokens(self, request: Request[CurrentUser, Any, Any]) -> list[TokenInfo]:
        return await users.list_tokens(request.user.id)

    @delete("/tokens/{token_id:int}", status_code=HTTP_204_NO_CONTENT)
    async def revoke(
        self, request: Request[CurrentUser, Any, Any], token_id: FromPath[int]
    ) -> None:
        await users.revoke_token(request.user.id, token_id)


class MeController(Controller):
    path = "/api/me"
    tags = ["auth"]

    @get()
    async def me(self, request: Request[CurrentUser, Any, Any]) -> dict[str, Any]:
        """The current user and their plan."""
        user = request.user
        return {
            "id": user.id,
            "username": user.username,
            "is_admin": user.is_admin,
            "plan": user.plan,
        }


class AdminUsersController(Controller):
    path = "/api/admin/users"
    guards = [admin_only]
    tags = ["admin"]

    @get()
    async def list(self) -> list[UserOut]:
        return await users.list_users()

    @post()
    async def create(self, data: JSONBody[UserIn]) -> UserOut:
        return await users.create_user(data)

    @get("/{username:str}")
    async def read(self, username: FromPath[str]) -> UserOut:
        return await users.get_user(username)

    @patch("/{username:str}")
    async def update(
        self,
        request: Request[CurrentUser, Any, Any],
        username: FromPath[str],
        data: JSONBody[UserPatch],
        plan_events: NamedDependency[PlanEvents],
    ) -> UserOut:
        updated = await users.update_user(username, data, acting_user_id=request.user.id)
        await plan_events.user_plan_changed(updated.id)
        return updated

    @delete("/{username:str}", status_code=HTTP_204_NO_CONTENT)
    async def deactivate(
        self, request: Request[CurrentUser, Any, Any], username: FromPath[str]
    ) -> None:
        """Deactivate (never erase): the user can no longer log in; tokens are revoked."""
        await users.deactivate_user(username, acting_user_id=request.user.id)


class AdminPlansController(Controller):
    path = "/api/admin/plans"
    guards = [admin_only]
    tags = ["admin"]

    @get()
    async def list(self) -> list[PlanOut]:
        return await catalog.list_plans()

    @post()
    async def create(self, data: JSONBody[PlanIn]) -> PlanOut:
        return await catalog.create_plan(data)

    @get("/{name:str}")
    async def read(self, name: FromPath[str]) -> PlanOut:
        return await catalog.get_plan(name)

    @patch("/{name:str}")
    async def update(
        self,
        name: FromPath[str],
        data: JSONBody[PlanPatch],
        plan_events: NamedDependency[PlanEvents],
    ) -> PlanOut:
        plan, gained = await catalog.update_plan(name, data)
        if gained:
            await plan_events.plan_gained_sizes(plan.name, gained)
        return plan

    @delete("/{name:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete(self, name: FromPath[str]) -> None:
        await catalog.delete_plan(name)


class AdminSizesController(Controller):
    path = "/api/admin/sizes"
    guards = [admin_only]
    tags = ["admin"]

    @get()
    async def list(self) -> list[SizeOut]:
        return await catalog.list_sizes()

    @post()
    async def create(self, data: JSONBody[SizeIn]) -> SizeOut:
        return await catalog.create_size(data)

    @get("/{slug:str}")
    async def read(self, slug: FromPath[str]) -> SizeOut:
        return await catalog.get_size(slug)

    @patch("/{slug:str}")
    async def update(self, slug: FromPath[str], data: JSONBody[SizePatch]) -> SizeOut:
        return await catalog.update_size(slug, data)

    @delete("/{slug:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete(self, slug: FromPath[str]) -> None:
        await catalog.delete_size(slug)
