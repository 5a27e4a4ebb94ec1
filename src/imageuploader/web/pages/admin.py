"""Admin pages: users, plans and sizes, over the same services as the admin API.

Every form posts to the page's URL (plus an action); htmx swaps the section
fragment back in with a message, a plain post is redirected to the page.
Conflicts and bad input are DomainErrors shown under the form that sent them.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import URLEncodedBody
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from imageuploader.accounts import plans, sizes, users
from imageuploader.accounts.plans import PlanService
from imageuploader.accounts.schemas import UserPatch
from imageuploader.accounts.sizes import SizeService
from imageuploader.accounts.users import UserService
from imageuploader.images.usage import NO_USAGE, usage_by_user
from imageuploader.web.auth import admin_only
from imageuploader.web.pages import forms
from imageuploader.web.pages.views import human_bytes, usage_view

# Not generic: request.user is the CurrentUser that web.auth put there.
Req = HTMXRequest
Form = URLEncodedBody[dict[str, Any]]


async def _done(request: Req, section: str, message: str) -> Template | Redirect:
    """The section fragment with a message for htmx; a redirect back to the page otherwise."""
    if not request.htmx:
        return Redirect(f"/admin/{section}", status_code=HTTP_303_SEE_OTHER)
    context = await SECTIONS[section](message)
    return Template(f"fragments/admin/_{section}.html", context={"user": request.user, **context})


async def _users_context(message: str | None = None) -> dict[str, Any]:
    found = await users.list_users()
    used = await usage_by_user()
    return {
        "users": found,
        "usage": {u.id: usage_view(used.get(u.id, NO_USAGE), u.plan) for u in found},
        "plans": [p.name for p in await plans.list_plans()],
        "message": message,
    }


async def _plans_context(message: str | None = None) -> dict[str, Any]:
    found = await plans.list_plans()
    return {
        "plans": found,
        "sizes": [s.slug for s in await sizes.list_sizes()],
        # Byte limits as a person reads them, beside the exact numbers in the inputs.
        "readable": {
            p.name: {
                "max_bytes": human_bytes(p.max_bytes),
                "max_upload_bytes": human_bytes(p.max_upload_bytes),
            }
            for p in found
        },
        "message": message,
    }


async def _sizes_context(message: str | None = None) -> dict[str, Any]:
    return {"sizes": await sizes.list_sizes(), "message": message}


SECTIONS = {"users": _users_context, "plans": _plans_context, "sizes": _sizes_context}


class AdminPages(Controller):
    path = "/admin"
    include_in_schema = False
    request_class = HTMXRequest
    guards = [admin_only]

    @get("/")
    async def index(self) -> Redirect:
        return Redirect("/admin/users")

    # Users
    @get("/users")
    async def users_page(self, request: Req) -> Template:
        context = await _users_context()
        return Template("pages/admin/users.html", context={"user": request.user, **context})

    @post("/users", status_code=200)
    async def create_user(
        self, request: Req, data: Form, user_service: NamedDependency[UserService]
    ) -> Template | Redirect:
        created = await user_service.create(forms.user_in(data))
        message = f"User {created.username!r} created on plan {data.get('plan')}."
        return await _done(request, "users", message)

    @post("/users/plan", status_code=200)
    async def change_plan(
        self, request: Req, data: Form, user_service: NamedDependency[UserService]
    ) -> Template | Redirect:
        username = forms.field(data, "username")
        patch = UserPatch(plan=forms.field(data, "plan"))
        updated = await user_service.update(username, patch, acting_user_id=request.user.id)
        plan = updated.plan.name if updated.plan else "none"
        message = f"{updated.username} is now on plan {plan}."
        return await _done(request, "users", message)

    @post("/users/deactivate", status_code=200)
    async def deactivate(
        self, request: Req, data: Form, user_service: NamedDependency[UserService]
    ) -> Template | Redirect:
        username = forms.field(data, "username")
        await user_service.deactivate(username, acting_user_id=request.user.id)
        message = f"{username} was deactivated and their tokens revoked."
        return await _done(request, "users", message)

    # Plans
    @get("/plans")
    async def plans_page(self, request: Req) -> Template:
        context = await _plans_context()
        return Template("pages/admin/plans.html", context={"user": request.user, **context})

    @post("/plans", status_code=200)
    async def create_plan(
        self, request: Req, data: Form, plan_service: NamedDependency[PlanService]
    ) -> Template | Redirect:
        plan = await plan_service.create(forms.plan_in(data))
        message = f"Plan {plan.name!r} created."
        return await _done(request, "plans", message)

    @post("/plans/edit", status_code=200)
    async def edit_plan(
        self, request: Req, data: Form, plan_service: NamedDependency[PlanService]
    ) -> Template | Redirect:
        plan = await plan_service.update(forms.field(data, "original_name"), forms.plan_patch(data))
        message = f"Plan {plan.name!r} saved."
        return await _done(request, "plans", message)

    @post("/plans/delete", status_code=200)
    async def delete_plan(
        self, request: Req, data: Form, plan_service: NamedDependency[PlanService]
    ) -> Template | Redirect:
        name = forms.field(data, "name")
        await plan_service.delete(name)
        message = f"Plan {name!r} deleted."
        return await _done(request, "plans", message)

    # Sizes
    @get("/sizes")
    async def sizes_page(self, request: Req) -> Template:
        context = await _sizes_context()
        return Template("pages/admin/sizes.html", context={"user": request.user, **context})

    @post("/sizes", status_code=200)
    async def create_size(
        self, request: Req, data: Form, size_service: NamedDependency[SizeService]
    ) -> Template | Redirect:
        size = await size_service.create(forms.size_in(data))
        message = f"Size {size.slug!r} created."
        return await _done(request, "sizes", message)

    @post("/sizes/edit", status_code=200)
    async def edit_size(
        self, request: Req, data: Form, size_service: NamedDependency[SizeService]
    ) -> Template | Redirect:
        size = await size_service.update(forms.field(data, "slug"), forms.size_patch(data))
        message = f"Size {size.slug!r} saved."
        return await _done(request, "sizes", message)

    @post("/sizes/delete", status_code=200)
    async def delete_size(
        self, request: Req, data: Form, size_service: NamedDependency[SizeService]
    ) -> Template | Redirect:
        slug = forms.field(data, "slug")
        await size_service.delete(slug)
        message = f"Size {slug!r} deleted."
        return await _done(request, "sizes", message)
