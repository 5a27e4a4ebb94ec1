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

from imageuploader.accounts import catalog, users
from imageuploader.accounts.schemas import UserPatch
from imageuploader.pages import forms
from imageuploader.web.auth import admin_only
from imageuploader.web.deps import PlanEvents

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
    return {
        "users": await users.list_users(),
        "plans": [p.name for p in await catalog.list_plans()],
        "message": message,
    }


async def _plans_context(message: str | None = None) -> dict[str, Any]:
    return {
        "plans": await catalog.list_plans(),
        "sizes": [s.slug for s in await catalog.list_sizes()],
        "message": message,
    }


async def _sizes_context(message: str | None = None) -> dict[str, Any]:
    return {"sizes": await catalog.list_sizes(), "message": message}


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
    async def create_user(self, request: Req, data: Form) -> Template | Redirect:
        created = await users.create_user(forms.user_in(data))
        message = f"User {created.username!r} created on plan {data.get('plan')}."
        return await _done(request, "users", message)

    @post("/users/plan", status_code=200)
    async def change_plan(
        self, request: Req, data: Form, plan_events: NamedDependency[PlanEvents]
    ) -> Template | Redirect:
        username = forms.field(data, "username")
        patch = UserPatch(plan=forms.field(data, "plan"))
        updated = await users.update_user(username, patch, acting_user_id=request.user.id)
        await plan_events.user_plan_changed(updated.id)
        plan = updated.plan.name if updated.plan else "none"
        message = f"{updated.username} is now on plan {plan}."
        return await _done(request, "users", message)

    @post("/users/deactivate", status_code=200)
    async def deactivate(self, request: Req, data: Form) -> Template | Redirect:
        username = forms.field(data, "username")
        await users.deactivate_user(username, acting_user_id=request.user.id)
        message = f"{username} was deactivated and their tokens revoked."
        return await _done(request, "users", message)

    # Plans
    @get("/plans")
    async def plans_page(self, request: Req) -> Template:
        context = await _plans_context()
        return Template("pages/admin/plans.html", context={"user": request.user, **context})

    @post("/plans", status_code=200)
    async def create_plan(self, request: Req, data: Form) -> Template | Redirect:
        plan = await catalog.create_plan(forms.plan_in(data))
        message = f"Plan {plan.name!r} created."
        return await _done(request, "plans", message)

    @post("/plans/edit", status_code=200)
    async def edit_plan(
        self, request: Req, data: Form, plan_events: NamedDependency[PlanEvents]
    ) -> Template | Redirect:
        plan, gained = await catalog.update_plan(
            forms.field(data, "original_name"), forms.plan_patch(data)
        )
        if gained:
            await plan_events.plan_gained_sizes(plan.name, gained)
        message = f"Plan {plan.name!r} saved."
        return await _done(request, "plans", message)

    @post("/plans/delete", status_code=200)
    async def delete_plan(self, request: Req, data: Form) -> Template | Redirect:
        name = forms.field(data, "name")
        await catalog.delete_plan(name)
        message = f"Plan {name!r} deleted."
        return await _done(request, "plans", message)

    # Sizes
    @get("/sizes")
    async def sizes_page(self, request: Req) -> Template:
        context = await _sizes_context()
        return Template("pages/admin/sizes.html", context={"user": request.user, **context})

    @post("/sizes", status_code=200)
    async def create_size(self, request: Req, data: Form) -> Template | Redirect:
        size = await catalog.create_size(forms.size_in(data))
        message = f"Size {size.slug!r} created."
        return await _done(request, "sizes", message)

    @post("/sizes/edit", status_code=200)
    async def edit_size(self, request: Req, data: Form) -> Template | Redirect:
        size = await catalog.update_size(forms.field(data, "slug"), forms.size_patch(data))
        message = f"Size {size.slug!r} saved."
        return await _done(request, "sizes", message)

    @post("/sizes/delete", status_code=200)
    async def delete_size(self, request: Req, data: Form) -> Template | Redirect:
        slug = forms.field(data, "slug")
        await catalog.delete_size(slug)
        message = f"Size {slug!r} deleted."
        return await _done(request, "sizes", message)
