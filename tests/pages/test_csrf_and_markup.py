"""Across every page: CSRF on each form and request, no inline script, labelled fields."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from tests.pages.conftest import Browser, LogIn, photo, soup

FORM_POSTS = [
    "/admin/users",
    "/admin/users/plan",
    "/admin/users/deactivate",
    "/admin/plans",
    "/admin/plans/edit",
    "/admin/plans/delete",
    "/admin/sizes",
    "/admin/sizes/edit",
    "/admin/sizes/delete",
    "/images/{id}/links",
    "/images/{id}/delete",
    "/logout",
    "/webhooks",
]


@pytest.fixture
async def admin_with_image(login: LogIn) -> tuple[Browser, str]:
    await login("alice")  # someone the admin could deactivate
    admin = await login("admin")
    r = await admin.upload(photo(), caption="mine")
    assert r.status_code == 200, r.text
    return admin, soup(r).select_one("li.result")["data-image"]


async def _pages(browser: Browser, image_id: str) -> dict[str, BeautifulSoup]:
    paths = [
        "/",
        "/upload",
        f"/images/{image_id}",
        "/admin/users",
        "/admin/plans",
        "/admin/sizes",
        "/webhooks",
    ]
    return {p: await browser.page(p) for p in paths}


async def test_every_post_form_carries_the_token(admin_with_image) -> None:
    admin, image_id = admin_with_image
    seen = set()
    for path, page in (await _pages(admin, image_id)).items():
        token = page.body["hx-headers"]
        assert admin.csrf in token, path
        for form in page.select("form"):
            assert form["method"] == "post", (path, form)
            field = form.select_one("input[type=hidden][name=_csrf_token]")
            assert field is not None and field["value"], (path, form)
            seen.add(form["action"].replace(image_id, "{id}"))
    assert set(FORM_POSTS) <= seen


@pytest.mark.parametrize("path", FORM_POSTS)
async def test_a_post_without_the_token_is_refused(admin_with_image, path: str) -> None:
    admin, image_id = admin_with_image
    r = await admin.client.post(
        path.replace("{id}", image_id),
        data={"name": "X", "slug": "xx", "width": "5", "username": "admin", "seconds": "600"},
        headers={"Accept": "text/html"},
    )
    assert r.status_code == 403
    assert soup(r).select_one("[role=alert]").get_text() == "CSRF token verification failed"
    # Nothing happened: the image is still there and the admin still logged in.
    assert (await admin.page(f"/images/{image_id}")).select_one("h1").get_text() == "mine"


async def test_a_wrong_token_is_refused_too(admin_with_image) -> None:
    admin, image_id = admin_with_image
    r = await admin.client.post(
        f"/images/{image_id}/delete",
        data={"_csrf_token": admin.csrf[:-4] + "AAAA"},
        headers={"Accept": "text/html", "HX-Request": "true", "X-CSRFToken": "forged"},
    )
    assert r.status_code == 403


async def test_no_inline_script_or_handler_attribute(admin_with_image) -> None:
    admin, image_id = admin_with_image
    for path, page in (await _pages(admin, image_id)).items():
        for script in page.select("script"):
            assert script.get("src", "").startswith("/static/"), (path, script)
            assert script.get_text(strip=True) == "", (path, script)
        for tag in page.find_all(True):
            assert not [a for a in tag.attrs if a.startswith(("on", "hx-on"))], (path, tag)
            assert "style" not in tag.attrs, (path, tag)


async def test_fields_have_labels_and_buttons_are_buttons(admin_with_image) -> None:
    admin, image_id = admin_with_image
    for path, page in (await _pages(admin, image_id)).items():
        for field in page.select("input:not([type=hidden]), select, textarea"):
            labelled = field.get("id") and page.select_one(f"label[for='{field['id']}']")
            wrapped = field.find_parent("label") is not None
            assert labelled or wrapped, (path, field)
        for button in page.select("button"):
            assert button.get("type") in ("submit", "button"), (path, button)
            assert button.get_text(strip=True), (path, button)
        ids = [t["id"] for t in page.select("[id]")]
        assert len(ids) == len(set(ids)), path
