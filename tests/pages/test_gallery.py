"""The gallery at /: own images newest first, paginated, with thumbnail, caption, size, status."""

from __future__ import annotations

from imageuploader.imaging import strip_metadata
from imageuploader.web.pages.images import PER_PAGE
from imageuploader.web.pages.views import human_bytes
from tests.pages.conftest import LogIn, photo, soup


async def _upload(browser, caption: str, size: tuple[int, int] = (64, 48)) -> str:
    r = await browser.upload(photo(*size), caption=caption)
    assert r.status_code == 200, r.text
    return soup(r).select_one("li.result")["data-image"]


async def test_an_empty_gallery_points_to_the_upload_page(login: LogIn) -> None:
    page = await (await login("alice")).page("/")
    assert page.select("ul.gallery li") == []
    assert page.select_one(".empty a")["href"] == "/upload"
    nav = [a["href"] for a in page.select("header nav a")]
    assert nav == ["/", "/upload", "/webhooks", "/account/password"]


async def test_cards_newest_first_with_caption_size_status_and_thumbnail(login: LogIn) -> None:
    alice = await login("alice", plan="Studio")
    first = await _upload(alice, "first", (640, 480))
    second = await _upload(alice, "second")
    await alice.wait_done(first)
    page = await alice.page("/")
    tiles = page.select("ul.gallery > li.tile")
    assert [t.select_one(".tile-caption").get_text(strip=True) for t in tiles] == [
        "second",
        "first",
    ]
    assert [t.select_one("a.tile-link")["href"] for t in tiles] == [
        f"/images/{second}",
        f"/images/{first}",
    ]
    tile = tiles[1]
    assert tile.select_one(".tile-dims").get_text() == "640\u00d7480"
    # The size of the original as stored and delivered (without its metadata).
    stored = strip_metadata(photo(640, 480), "jpeg")
    assert tile.select_one(".tile-size").get_text() == human_bytes(len(stored))
    # The smallest of Studio's renditions ("low", 124x124 box) is the thumbnail.
    src = tile.select_one("img.tile-thumb")["src"]
    assert src.startswith(f"/media/{first}/low?v=")
    status = tile.select_one("p.status")
    assert status.get_text(strip=True) == "ready"
    assert status.get("hx-trigger") is None
    thumb = await alice.client.get(src)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    # Versioned by the digest of its bytes: the browser may keep it for good.
    digest = thumb.headers["etag"].strip('"')
    assert src == f"/media/{first}/low?v={digest[:16]}"
    assert thumb.headers["cache-control"] == "private, max-age=31536000, immutable"


async def test_status_badge_polls_until_done(login: LogIn) -> None:
    alice = await login("alice", plan="Studio")
    image_id = await _upload(alice, "x")
    await alice.wait_done(image_id)
    r = await alice.fragment(f"/images/{image_id}/status")
    assert r.status_code == 286
    badge = soup(r).select_one("p.status")
    assert badge["data-image"] == image_id and badge.get("hx-get") is None


async def test_a_script_caption_is_shown_as_text(login: LogIn) -> None:
    alice = await login("alice")
    caption = "<script>alert('x')</script>"
    image_id = await _upload(alice, caption)
    page = await alice.page("/")
    assert page.select_one(".tile-caption").get_text() == caption
    assert page.select_one("main script") is None
    detail = await alice.page(f"/images/{image_id}")
    assert detail.select_one("h1").get_text() == caption
    assert detail.select_one("main script") is None


async def test_pages_of_twelve(login: LogIn) -> None:
    alice = await login("alice", plan="Basic")
    ids = [await _upload(alice, f"n{i}", (64 + i, 48)) for i in range(PER_PAGE + 1)]
    first = await alice.page("/")
    assert len(first.select("li.tile")) == PER_PAGE
    assert first.select_one(".pager a[rel=next]")["href"] == "/?page=2"
    assert first.select_one(".pager a[rel=prev]") is None
    second = await alice.page("/?page=2")
    assert [a["href"] for a in second.select("a.tile-link")] == [f"/images/{ids[0]}"]
    assert second.select_one(".pager a[rel=prev]")["href"] == "/?page=1"
    assert second.select_one(".pager-where").get_text(strip=True).startswith("Page 2 of 2")
    beyond = await alice.page("/?page=9")
    assert beyond.select("li.tile") == [] and beyond.select_one(".empty a")["href"] == "/"


async def test_only_own_images_are_listed(login: LogIn) -> None:
    alice = await login("alice")
    await _upload(alice, "alice's")
    bob = await login("bob")
    assert (await bob.page("/")).select("li.tile") == []


async def test_the_gallery_needs_a_login(client) -> None:
    r = await client.get("/?page=2", headers={"Accept": "text/html"})
    assert r.status_code in (302, 303, 307)
    assert r.headers["location"] == "/login?next=/%3Fpage%3D2"
