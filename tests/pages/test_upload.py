"""The upload page and its fragments: form, result card, self-polling renditions, refusals."""

from __future__ import annotations

import gc

import pytest

from tests.pages.conftest import LogIn, photo, soup


async def test_the_upload_form(login: LogIn) -> None:
    page = await (await login("alice")).page("/upload")
    form = page.select_one("form#upload-form")
    assert form["method"] == "post" and form["action"] == "/upload"
    assert form["enctype"] == "multipart/form-data"
    assert len(form.select_one("input[name=_csrf_token]")["value"]) > 20
    file_input = form.select_one("[data-dropzone] input[type=file][name=file]")
    assert file_input.has_attr("multiple") and file_input["accept"] == "image/*"
    # Every field has a label a screen reader and a click can use.
    for name in ("file", "caption", "resolution"):
        field = form.select_one(f"[name={name}]")
        assert form.select_one(f"label[for={field['id']}]") is not None
    assert form.select_one("[name=resolution]")["pattern"] == "[0-9]+x[0-9]+"
    assert form.select_one("button[type=submit]").get_text(strip=True) == "Upload"
    assert form.select_one("[data-errors][role=alert]") is not None
    assert page.select_one("ul#upload-results[data-results]") is not None
    scripts = [s.get("src") for s in page.select("script")]
    assert "/static/upload.js" in scripts and "/static/app.js" in scripts
    assert None not in scripts  # no inline script: the CSP allows only our files


async def test_htmx_upload_returns_the_card_with_the_primary_at_once(login: LogIn) -> None:
    alice = await login("alice", plan="Studio")
    r = await alice.upload(photo(1600, 1200), caption="Harbour", resolution="1600x1200")
    assert r.status_code == 200, r.text
    card = soup(r).select_one("li.result")
    image_id = card["data-image"]
    assert card.select_one("h2 a")["href"] == f"/images/{image_id}"
    assert card.select_one("h2").get_text(strip=True) == "Harbour"
    slugs = [li["data-slug"] for li in card.select("li.rendition")]
    assert slugs == ["very-high", "high", "medium", "low"]
    high = card.select_one("li.rendition[data-slug=high]")
    assert high["data-status"] == "ready"  # Studio's primary is made in the request
    assert high.select_one("img")["src"].startswith(f"/media/{image_id}/high?v=")
    poller = card.select_one(".renditions")
    if poller["data-state"] == "processing":
        assert poller["hx-get"] == f"/images/{image_id}/renditions"
        assert poller["hx-trigger"] == "every 1s" and poller["hx-swap"] == "outerHTML"


async def test_the_renditions_fragment_stops_polling_when_all_are_done(login: LogIn) -> None:
    alice = await login("alice", plan="Studio")
    r = await alice.upload(photo(1600, 1200))
    image_id = soup(r).select_one("li.result")["data-image"]
    final = await alice.wait_done(image_id)  # returned with HTTP 286
    poller = final.select_one(".renditions")
    assert poller["id"] == f"renditions-{image_id}"
    assert poller.get("hx-trigger") is None and poller.get("hx-get") is None
    assert poller.select_one("p.status").get_text(strip=True) == "ready"
    for li in final.select("li.rendition"):
        assert li["data-status"] == "ready"
        url = li.select_one("input[readonly]")["value"]
        assert url == f"http://testserver.local/media/{image_id}/{li['data-slug']}"
        got = await alice.client.get(url)
        assert got.status_code == 200 and got.content[:2] == b"\xff\xd8"


@pytest.mark.parametrize(
    ("data", "resolution", "status"),
    [
        (b"%PDF-1.4 not an image at all", "", 415),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>', "", 415),
        (photo(640, 480)[:200], "", 422),
        (photo(640, 480), "800x600", 422),
    ],
    ids=["pdf", "svg", "truncated", "wrong-resolution"],
)
async def test_a_refused_file_gets_the_api_detail_as_a_fragment(
    login: LogIn, data: bytes, resolution: str, status: int
) -> None:
    alice = await login("alice", plan="Studio")
    r = await alice.upload(data, resolution=resolution, filename="evil.jpg")
    assert r.status_code == status
    message = soup(r).select_one("p.error[role=alert]").get_text()
    api = await alice.client.post(
        "/api/images",
        files={"file": ("evil.jpg", data, "image/jpeg")},
        data={"resolution": resolution},
        headers={"X-CSRFToken": alice.csrf},
    )
    assert api.status_code == status
    assert message == api.json()["detail"]
    assert (await alice.page("/")).select("li.tile") == []  # nothing stored


async def test_a_plain_form_post_goes_to_the_detail_page(login: LogIn) -> None:
    alice = await login("alice", plan="Basic")
    r = await alice.upload(photo(), caption="plain", htmx=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/images/")
    page = await alice.page(r.headers["location"])
    assert page.select_one("h1").get_text() == "plain"


# Litestar's CSRF middleware parses the multipart body to look for the token
# and, refusing, leaves the spooled upload for the garbage collector to close.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_upload_without_the_csrf_token_is_refused(login: LogIn) -> None:
    alice = await login("alice")
    r = await alice.client.post(
        "/upload",
        files={"file": ("a.jpg", photo(), "image/jpeg")},
        data={"caption": "x"},
        headers={"Accept": "text/html", "HX-Request": "true"},
    )
    gc.collect()  # the warning above happens here, inside this test
    assert r.status_code == 403
    assert (await alice.page("/")).select("li.tile") == []
