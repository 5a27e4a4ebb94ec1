"""Admin pages: users, plans, sizes; the guard, and the conflicts shown in the form."""

from __future__ import annotations

import pytest

from tests.pages.conftest import Browser, LogIn, soup

ADMIN_PAGES = ["/admin/", "/admin/users", "/admin/plans", "/admin/sizes"]
ADMIN_FORMS = [
    ("/admin/users", {"username": "eve2", "password": "pw", "plan": "Studio"}),
    ("/admin/users/plan", {"username": "admin", "plan": "Basic"}),
    ("/admin/users/deactivate", {"username": "admin"}),
    ("/admin/plans", {"name": "Evil", "sizes": "h200"}),
    ("/admin/plans/edit", {"original_name": "Basic", "name": "Basic", "sizes": "h400"}),
    ("/admin/plans/delete", {"name": "Studio"}),
    ("/admin/sizes", {"slug": "evil", "width": "10"}),
    ("/admin/sizes/edit", {"slug": "h200", "height": "1"}),
    ("/admin/sizes/delete", {"slug": "low"}),
]


def _message(r) -> str:
    return soup(r).select_one("[role=status], [role=alert]").get_text(strip=True)


@pytest.fixture
async def admin(login: LogIn) -> Browser:
    return await login("admin")


async def test_admins_see_the_admin_link(admin: Browser) -> None:
    page = await admin.page("/")
    assert [a["href"] for a in page.select("header nav a")] == [
        "/",
        "/upload",
        "/webhooks",
        "/admin/users",
        "/account/password",
    ]


@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_admin_pages_are_forbidden_to_others(login: LogIn, path: str) -> None:
    alice = await login("alice")
    page = await alice.page(path, status=403)
    assert page.select_one("h1").get_text() == "Error 403"
    assert not [a for a in page.select("a[href]") if a["href"].startswith("/admin")]


async def test_admin_forms_are_forbidden_to_others(login: LogIn) -> None:
    alice = await login("alice")
    for path, data in ADMIN_FORMS:
        r = await alice.form(path, data)
        assert r.status_code == 403, path
    admin = await login("admin")
    users = await admin.page("/admin/users")
    assert [tr["data-username"] for tr in users.select("tr[data-username]")] == ["admin", "alice"]
    plans = await admin.page("/admin/plans")
    assert "Evil" not in [s["data-plan"] for s in plans.select("section[data-plan]")]


async def test_no_admin_links_for_others_anywhere(login: LogIn) -> None:
    alice = await login("alice")
    for path in ("/", "/upload"):
        page = await alice.page(path)
        assert [a["href"] for a in page.select("a[href^='/admin']")] == []


async def test_users_create_change_plan_deactivate(admin: Browser) -> None:
    page = await admin.page("/admin/users")
    form = page.select_one("form.create-form")
    assert form["hx-post"] == "/admin/users" and form["hx-target"] == "#admin-users"
    plans = [o["value"] for o in form.select("select[name=plan] option")]
    assert plans == ["Basic", "Premium", "Enterprise", "Studio"]
    r = await admin.form(
        "/admin/users", {"username": "carol", "password": "pw-carol", "plan": "Premium"}
    )
    assert r.status_code == 200
    section = soup(r).select_one("#admin-users")
    assert _message(r) == "User 'carol' created on plan Premium."
    row = section.select_one("tr[data-username=carol]")
    assert row.select_one("select[name=plan] option[selected]")["value"] == "Premium"
    assert row.select_one(".user-status").get_text() == "active"

    r = await admin.form("/admin/users/plan", {"username": "carol", "plan": "Studio"})
    assert _message(r) == "carol is now on plan Studio."
    row = soup(r).select_one("tr[data-username=carol]")
    assert row.select_one("select[name=plan] option[selected]")["value"] == "Studio"

    deactivate = row.select("form")[1]
    assert deactivate["hx-confirm"].startswith("Deactivate carol?")
    r = await admin.form("/admin/users/deactivate", {"username": "carol"})
    row = soup(r).select_one("tr[data-username=carol]")
    assert row.select_one(".user-status").get_text() == "deactivated"
    assert len(row.select("form")) == 1  # nothing left to deactivate


async def test_user_errors_are_shown_in_the_form(admin: Browser) -> None:
    r = await admin.form("/admin/users", {"username": "admin", "password": "x", "plan": "Basic"})
    assert (r.status_code, _message(r)) == (409, "A user named 'admin' already exists.")
    r = await admin.form("/admin/users", {"username": "a b", "password": "x", "plan": "Basic"})
    assert r.status_code == 422
    assert _message(r).startswith("username: a username is")
    r = await admin.form("/admin/users", {"username": "dan", "password": "x", "plan": "Gold"})
    assert (r.status_code, _message(r)) == (422, "No plan named 'Gold'.")
    page = await admin.page("/admin/users")
    assert page.select_one("tr[data-username=admin] form[action='/admin/users/deactivate']") is None


async def test_plans_show_checkboxes_primary_and_flags(admin: Browser) -> None:
    page = await admin.page("/admin/plans")
    studio = page.select_one("section[data-plan=Studio]")
    checked = [i["value"] for i in studio.select("input[name=sizes][checked]")]
    assert checked == ["very-high", "high", "medium", "low"]
    unchecked = [i["value"] for i in studio.select("input[name=sizes]:not([checked])")]
    assert unchecked == ["h200", "h400"]
    assert studio.select_one("select[name=primary_size] option[selected]")["value"] == "high"
    assert studio.select_one("input[name=original_link]").has_attr("checked")
    assert studio.select_one("input[name=expiring_links]").has_attr("checked")
    basic = page.select_one("section[data-plan=Basic]")
    assert not basic.select_one("input[name=expiring_links]").has_attr("checked")
    # Each checkbox is inside its label; every other field has a label for its id.
    for field in page.select("input:not([type=hidden]):not([type=checkbox]), select"):
        assert page.select_one(f"label[for='{field['id']}']") is not None, field


async def test_plan_create_edit_delete(admin: Browser) -> None:
    r = await admin.form(
        "/admin/plans",
        {"name": "Tiny", "sizes": ["h200", "low"], "primary_size": "low", "expiring_links": "1"},
    )
    assert (r.status_code, _message(r)) == (200, "Plan 'Tiny' created.")
    tiny = soup(r).select_one("section[data-plan=Tiny]")
    assert [i["value"] for i in tiny.select("input[name=sizes][checked]")] == ["h200", "low"]
    assert tiny.select_one("select[name=primary_size] option[selected]")["value"] == "low"
    assert not tiny.select_one("input[name=original_link]").has_attr("checked")

    r = await admin.form(
        "/admin/plans/edit",
        {"original_name": "Tiny", "name": "Small", "sizes": "h400", "original_link": "1"},
    )
    assert (r.status_code, _message(r)) == (200, "Plan 'Small' saved.")
    small = soup(r).select_one("section[data-plan=Small]")
    assert [i["value"] for i in small.select("input[name=sizes][checked]")] == ["h400"]
    assert small.select_one("input[name=original_link]").has_attr("checked")
    assert not small.select_one("input[name=expiring_links]").has_attr("checked")
    assert soup(r).select_one("section[data-plan=Tiny]") is None

    delete = small.select("form")[1]
    assert delete["hx-confirm"] == "Delete plan Small?"
    r = await admin.form("/admin/plans/delete", {"name": "Small"})
    assert _message(r) == "Plan 'Small' deleted."
    assert soup(r).select_one("section[data-plan=Small]") is None


async def test_plan_conflicts_have_clear_messages(admin: Browser, login: LogIn) -> None:
    r = await admin.form("/admin/plans", {"name": "Basic", "sizes": "h200"})
    assert (r.status_code, _message(r)) == (409, "A plan named 'Basic' already exists.")
    r = await admin.form(
        "/admin/plans/edit", {"original_name": "Premium", "name": "Basic", "sizes": "h200"}
    )
    assert (r.status_code, _message(r)) == (409, "A plan named 'Basic' already exists.")
    await login("alice", plan="Premium")
    admin = await login("admin")
    r = await admin.form("/admin/plans/delete", {"name": "Premium"})
    assert r.status_code == 409
    assert _message(r) == "Plan 'Premium' is held by 1 user(s); move them to another plan first."
    r = await admin.form("/admin/plans", {"name": "Empty"})
    assert (r.status_code, _message(r)) == (422, "A plan needs at least one size.")
    r = await admin.form("/admin/plans", {"name": "Odd", "sizes": "h200", "primary_size": "low"})
    assert r.status_code == 422
    assert _message(r) == "The primary size 'low' must be one of the plan's sizes."


async def test_sizes_create_edit_delete_and_in_use(admin: Browser) -> None:
    page = await admin.page("/admin/sizes")
    h200 = page.select_one("section[data-size=h200]")
    assert h200.select_one("input[name=width]")["value"] == ""
    assert h200.select_one("input[name=height]")["value"] == "200"
    assert h200.select_one("select[name=fit] option[selected]")["value"] == "contain"

    r = await admin.form(
        "/admin/sizes", {"slug": "square", "width": "300", "height": "300", "fit": "cover"}
    )
    assert (r.status_code, _message(r)) == (200, "Size 'square' created.")
    square = soup(r).select_one("section[data-size=square]")
    assert square.select_one("select[name=fit] option[selected]")["value"] == "cover"

    r = await admin.form(
        "/admin/sizes/edit", {"slug": "square", "width": "", "height": "320", "fit": "contain"}
    )
    assert (r.status_code, _message(r)) == (200, "Size 'square' saved.")
    square = soup(r).select_one("section[data-size=square]")
    assert square.select_one("input[name=width]")["value"] == ""
    assert square.select_one("input[name=height]")["value"] == "320"

    r = await admin.form("/admin/sizes", {"slug": "square", "width": "1"})
    assert (r.status_code, _message(r)) == (409, "A size named 'square' already exists.")
    r = await admin.form("/admin/sizes", {"slug": "Bad Slug", "width": "1"})
    assert r.status_code == 422 and _message(r).startswith("slug: a slug is")
    r = await admin.form("/admin/sizes", {"slug": "nobox"})
    assert (r.status_code, _message(r)) == (422, "A size needs a width, a height, or both.")
    r = await admin.form("/admin/sizes/delete", {"slug": "h200"})
    assert r.status_code == 409 and _message(r).startswith("Size 'h200' is used by plan(s)")

    r = await admin.form("/admin/sizes/delete", {"slug": "square"})
    assert (r.status_code, _message(r)) == (200, "Size 'square' deleted.")
    assert soup(r).select_one("section[data-size=square]") is None


async def test_plain_admin_posts_redirect_back(admin: Browser) -> None:
    r = await admin.form("/admin/sizes", {"slug": "plain", "width": "10"}, htmx=False)
    assert r.status_code == 303 and r.headers["location"] == "/admin/sizes"
    page = await admin.page("/admin/sizes")
    assert page.select_one("section[data-size=plain]") is not None
