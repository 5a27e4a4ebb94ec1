"""The image detail page: links with copy buttons, expiring links, delete."""

from __future__ import annotations

from tests.pages.conftest import PASSWORD, Browser, LogIn, log_in, photo, soup


async def _uploaded(browser: Browser, caption: str = "Pier") -> str:
    r = await browser.upload(photo(1200, 900), caption=caption)
    assert r.status_code == 200, r.text
    image_id = soup(r).select_one("li.result")["data-image"]
    await browser.wait_done(image_id)
    return image_id


async def test_every_link_of_the_plan_with_a_copy_button(login: LogIn) -> None:
    alice = await login("alice", plan="Studio")
    image_id = await _uploaded(alice)
    page = await alice.page(f"/images/{image_id}")
    assert page.select_one("h1").get_text() == "Pier"
    assert page.select_one(".fact-dims").get_text() == "1200\u00d7900"
    copies = page.select(".copy")
    links = {}
    for copy in copies:
        field = copy.select_one("input[readonly]")
        button = copy.select_one("button[type=button].copy-button")
        assert button["data-copy"] == field["id"]
        assert copy.select_one(f"label[for='{field['id']}']") is not None
        links[field["id"]] = field["value"]
    base = f"http://testserver.local/media/{image_id}"
    expected = {f"link-{image_id}-{s}": f"{base}/{s}" for s in ("very-high", "high", "medium")}
    expected[f"link-{image_id}-low"] = f"{base}/low"
    expected["link-original"] = f"{base}/original"
    assert links == expected
    hero = page.select_one("img.detail-hero")["src"]
    digest = (await alice.client.get(hero)).headers["etag"].strip('"')
    assert hero == f"/media/{image_id}/very-high?v={digest[:16]}"


async def test_basic_plan_has_no_original_and_no_expiring_link_form(login: LogIn) -> None:
    bob = await login("bob", plan="Basic")
    image_id = await _uploaded(bob)
    page = await bob.page(f"/images/{image_id}")
    ids = [i["id"] for i in page.select(".copy input[readonly]")]
    assert ids == [f"link-{image_id}-h200"]
    assert page.select_one("form.share-form") is None
    r = await bob.form(f"/images/{image_id}/links", {"seconds": "600"})
    assert r.status_code == 403
    assert soup(r).select_one("[role=alert]").get_text() == (
        "Your plan does not include expiring links."
    )


async def test_the_expiring_link_form_checks_the_range_in_the_page(login: LogIn) -> None:
    alice = await login("alice", plan="Studio")
    image_id = await _uploaded(alice)
    form = (await alice.page(f"/images/{image_id}")).select_one("form.share-form")
    assert form["hx-post"] == form["action"] == f"/images/{image_id}/links"
    seconds = form.select_one("input[name=seconds]")
    assert (seconds["type"], seconds["min"], seconds["max"]) == ("number", "300", "30000")
    assert seconds.has_attr("required")
    options = [o["value"] for o in form.select("select[name=rendition] option")]
    assert options == ["original", "very-high", "high", "medium", "low"]


async def test_an_expiring_link_is_shown_with_its_expiry_and_opens_without_login(
    login: LogIn,
) -> None:
    alice = await login("alice", plan="Studio")
    image_id = await _uploaded(alice)
    r = await alice.form(f"/images/{image_id}/links", {"seconds": "600", "rendition": "low"})
    assert r.status_code == 200, r.text
    fragment = soup(r)
    url = fragment.select_one("input#expiring-link")["value"]
    assert fragment.select_one("button[data-copy=expiring-link]") is not None
    expiry = fragment.select_one("time")
    assert expiry["datetime"].endswith("+00:00") and expiry.get_text().endswith("UTC")
    alice.client.cookies.clear()
    got = await alice.client.get(url)
    assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
    own = await log_in(alice.client, "alice", PASSWORD)
    assert got.content == (await own.client.get(f"/media/{image_id}/low")).content


async def test_out_of_range_seconds_are_refused_by_the_server(login: LogIn) -> None:
    alice = await login("alice", plan="Studio")
    image_id = await _uploaded(alice)
    for seconds, status in (("299", 422), ("30001", 422), ("soon", 422)):
        r = await alice.form(f"/images/{image_id}/links", {"seconds": seconds})
        assert r.status_code == status
        assert soup(r).select_one("p.error[role=alert]").get_text().startswith("seconds:")


async def test_a_plain_form_post_shows_the_link_on_the_detail_page(login: LogIn) -> None:
    alice = await login("alice", plan="Studio")
    image_id = await _uploaded(alice)
    r = await alice.form(f"/images/{image_id}/links", {"seconds": "300"}, htmx=False)
    assert r.status_code == 200
    page = soup(r)
    assert page.select_one("h1").get_text() == "Pier"
    assert page.select_one("#share-result input#expiring-link")["value"].startswith(
        "http://testserver.local/s/"
    )


async def test_someone_elses_image_is_not_found(login: LogIn) -> None:
    alice = await login("alice", plan="Studio")
    image_id = await _uploaded(alice)
    mallory = await login("mallory", plan="Studio")
    page = await mallory.page(f"/images/{image_id}", status=404)
    assert page.select_one("[role=alert]").get_text() == "No such image."
    for path in (f"/images/{image_id}/renditions", f"/images/{image_id}/status"):
        assert (await mallory.fragment(path)).status_code == 404
    assert (await mallory.form(f"/images/{image_id}/links", {"seconds": "600"})).status_code == 404
    assert (await mallory.form(f"/images/{image_id}/delete", {})).status_code == 404


async def test_delete_asks_first_and_removes_the_image(login: LogIn) -> None:
    alice = await login("alice", plan="Studio")
    image_id = await _uploaded(alice)
    form = (await alice.page(f"/images/{image_id}")).select_one("form.delete-form")
    assert form["hx-post"] == f"/images/{image_id}/delete"
    assert form["hx-confirm"].startswith("Delete this image")
    assert form.select_one("button[type=submit]").get_text(strip=True) == "Delete image"
    r = await alice.form(f"/images/{image_id}/delete", {})
    assert r.headers["HX-Redirect"] == "/"
    await alice.page(f"/images/{image_id}", status=404)
    assert (await alice.client.get(f"/media/{image_id}/high")).status_code == 404


async def test_a_plain_delete_redirects_to_the_gallery(login: LogIn) -> None:
    alice = await login("alice", plan="Basic")
    image_id = await _uploaded(alice)
    r = await alice.form(f"/images/{image_id}/delete", {}, htmx=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert (await alice.page("/")).select("li.tile") == []
