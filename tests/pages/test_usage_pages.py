"""Usage on the pages: the gallery's meter, the admin users table, the plan limit fields,
and a duplicate upload told as such."""

from __future__ import annotations

from imageuploader.web.pages.views import human_bytes
from tests.pages.conftest import LogIn, photo, soup


def gauges(page) -> dict[str, str]:
    return {
        g["data-gauge"]: g.select_one(".gauge-text").get_text(strip=True)
        for g in page.select(".usage .gauge")
    }


async def test_gallery_meter_shows_usage_against_the_plan(login: LogIn, client) -> None:
    alice = await login("alice", plan="Basic")
    page = await alice.page("/")
    assert gauges(page) == {"images": "0 images of 100", "bytes": "0 bytes of 1.0 GB"}
    meter = page.select_one(".usage [data-gauge=images] meter")
    assert (meter["max"], meter["value"]) == ("100", "0")

    r = await alice.upload(photo(640, 480))
    assert r.status_code == 200, r.text
    me = (await client.get("/api/me")).json()  # the same session cookie
    used = me["usage"]["bytes"]
    assert used > 0
    page = await alice.page("/")
    assert gauges(page) == {
        "images": "1 image of 100",
        "bytes": f"{human_bytes(used)} of 1.0 GB",
    }
    assert page.select_one(".usage [data-gauge=bytes] meter")["value"] == str(used)
    assert page.select_one(".gauge-note") is None


async def test_gallery_meter_unlimited_and_full(login: LogIn, client) -> None:
    studio = await login("sam", plan="Studio")
    page = await studio.page("/")
    assert gauges(page) == {"images": "0 images (unlimited)", "bytes": "0 bytes (unlimited)"}
    assert page.select(".usage meter") == []

    admin = await login("admin")
    r = await admin.form(
        "/admin/plans/edit",
        {"original_name": "Basic", "name": "Basic", "sizes": "h200", "max_images": "1"},
    )
    assert r.status_code == 200, r.text
    bea = await login("bea", plan="Basic")
    assert (await bea.upload(photo(640, 480))).status_code == 200
    page = await bea.page("/")
    assert "gauge-over" in page.select_one("[data-gauge=images]")["class"]
    assert "reached a limit" in page.select_one(".gauge-note").get_text()
    refused = await bea.upload(photo(650, 480))
    assert refused.status_code == 403
    assert "max_images" in refused.text


async def test_admin_users_page_shows_each_users_usage(login: LogIn, client) -> None:
    alice = await login("alice", plan="Basic")
    assert (await alice.upload(photo(640, 480))).status_code == 200
    alice_bytes = (await client.get("/api/me")).json()["usage"]["bytes"]
    await login("bob", plan="Studio")
    admin = await login("admin")
    page = await admin.page("/admin/users")
    assert [th.get_text(strip=True) for th in page.select("table.users thead th")][:4] == [
        "User",
        "Plan",
        "Usage",
        "Status",
    ]

    def cells(username: str) -> list[str]:
        row = page.select_one(f"tr[data-username={username}]")
        return [c.get_text(strip=True) for c in row.select(".user-usage .usage-cell")]

    assert cells("alice") == ["1 image of 100", f"{human_bytes(alice_bytes)} of 1.0 GB"]
    assert cells("bob") == ["0 images (unlimited)", "0 bytes (unlimited)"]


async def test_plan_form_edits_limits_and_empty_is_unlimited(login: LogIn, client) -> None:
    admin = await login("admin")
    page = await admin.page("/admin/plans")
    basic = page.select_one("section[data-plan=Basic]")
    assert basic.select_one("input[name=max_images]")["value"] == "100"
    assert basic.select_one("input[name=max_bytes]")["value"] == str(1024**3)
    assert basic.select_one("input[name=max_upload_bytes]")["value"] == ""
    assert "(1.0 GB)" in basic.get_text()

    form = {"original_name": "Basic", "name": "Basic", "sizes": "h200"}
    r = await admin.form(
        "/admin/plans/edit",
        {**form, "max_images": "7", "max_bytes": "", "max_upload_bytes": "5000"},
    )
    assert r.status_code == 200, r.text
    plan = (await client.get("/api/admin/plans/Basic")).json()
    assert (plan["max_images"], plan["max_bytes"], plan["max_upload_bytes"]) == (7, None, 5000)

    r = await admin.form("/admin/plans/edit", {**form, "max_images": "-3"})
    assert r.status_code == 422
    assert "max images" in soup(r).get_text()
    r = await admin.form("/admin/plans/edit", {**form, "max_upload_bytes": str(10**12)})
    assert r.status_code == 422
    assert "MAX_UPLOAD_BYTES" in soup(r).get_text()
    plan = (await client.get("/api/admin/plans/Basic")).json()
    assert (plan["max_images"], plan["max_upload_bytes"]) == (7, 5000)


async def test_a_duplicate_upload_is_told_as_such(login: LogIn) -> None:
    alice = await login("alice", plan="Basic")
    data = photo(640, 480)
    first = await alice.upload(data, caption="once")
    assert first.status_code == 200, first.text
    assert soup(first).select_one(".duplicate") is None
    again = await alice.upload(data, caption="twice")
    assert again.status_code == 200, again.text
    card = soup(again).select_one("li.result")
    assert card["data-image"] == soup(first).select_one("li.result")["data-image"]
    assert "uploaded this file before" in card.select_one(".duplicate").get_text()
    page = await alice.page("/")
    assert len(page.select("ul.gallery li")) == 1
