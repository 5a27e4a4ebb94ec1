"""Pages show <picture>: AVIF and WebP sources over the plan's sizes, sized <img> fallback,
lazy loading below the fold, and the ThumbHash placeholder for our static script."""

from __future__ import annotations

import asyncio
import re

from imageuploader.web.pages.views import EAGER_CARDS
from tests.pages.conftest import LogIn, photo, soup

SRCSET_ENTRY = re.compile(
    r"^/media/[0-9a-f-]{36}/([a-z0-9-]+)\.(avif|webp|jpg)\?v=[0-9a-f]{16} (\d+)w$"
)


async def _upload(browser, caption: str, size: tuple[int, int]) -> str:
    r = await browser.upload(photo(*size), caption=caption)
    assert r.status_code == 200, r.text
    return str(soup(r).select_one("li.result")["data-image"])


async def _all_formats_ready(browser, image_id: str) -> dict:
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        body = (await browser.client.get(f"/api/images/{image_id}")).json()
        states = [f["status"] for r in body["renditions"] for f in r["formats"]]
        if all(s != "pending" for s in states):
            return body
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.1)


def _entries(srcset: str) -> list[tuple[str, str, int]]:
    out = []
    for entry in srcset.split(", "):
        match = SRCSET_ENTRY.match(entry)
        assert match, entry
        out.append((match[1], match[2], int(match[3])))
    return out


async def test_gallery_card_is_a_picture_with_sources_sizes_and_placeholder(login: LogIn) -> None:
    studio = await login("pic", plan="Studio")
    image_id = await _upload(studio, "landscape", (1200, 800))
    await studio.wait_done(image_id)
    body = await _all_formats_ready(studio, image_id)
    page = await studio.page("/")
    tile = page.select_one("ul.gallery > li.tile")
    picture = tile.select_one("picture")
    sources = picture.select("source")
    assert [s["type"] for s in sources] == ["image/avif", "image/webp"]
    dims = {r["slug"]: r["width"] for r in body["renditions"]}
    for source, ext in zip(sources, ("avif", "webp"), strict=True):
        entries = _entries(source["srcset"])
        # Every Studio size has the photo's 3:2 shape here, so all are candidates;
        # very-high and high are both 1024 wide and listed once.
        assert {e[1] for e in entries} == {ext}
        assert [w for _, _, w in entries] == sorted({dims[s] for s in dims})
        assert all(dims[slug] == width for slug, _, width in entries)
        assert source["sizes"] == picture.select_one("img")["sizes"]
    img = picture.select_one("img")
    assert img["src"].split("?v=")[0] == f"/media/{image_id}/low"
    assert {e[1] for e in _entries(img["srcset"])} == {"jpg"}
    low = next(r for r in body["renditions"] if r["slug"] == "low")
    assert (int(img["width"]), int(img["height"])) == (low["width"], low["height"])
    assert "loading" not in img.attrs  # the first card is above the fold
    canvas = tile.select_one("canvas.thumbhash")
    assert canvas["data-thumbhash"] == body["placeholder"]
    assert canvas["aria-hidden"] == "true"
    scripts = [s["src"] for s in page.select("script[type=module]")]
    assert scripts == ["/static/placeholders.js"]
    assert not page.select("script:not([src])") and not page.select("[style]")


async def test_cards_below_the_fold_load_lazily(login: LogIn) -> None:
    basic = await login("many", plan="Basic")
    # Different sizes: the same bytes twice would be one image (a duplicate).
    ids = [await _upload(basic, f"n{i}", (64 + i, 48)) for i in range(EAGER_CARDS + 2)]
    for image_id in ids:
        await basic.wait_done(image_id)
    imgs = (await basic.page("/")).select("ul.gallery picture img")
    assert len(imgs) == EAGER_CARDS + 2
    assert [img.get("loading") for img in imgs] == [None] * EAGER_CARDS + ["lazy", "lazy"]
    # Basic makes JPEG only: no <source> to offer.
    assert all(not img.find_parent("picture").select("source") for img in imgs)


async def test_detail_page_hero_is_a_picture(login: LogIn) -> None:
    studio = await login("hero", plan="Studio")
    image_id = await _upload(studio, "portrait", (600, 900))
    await studio.wait_done(image_id)
    await _all_formats_ready(studio, image_id)
    page = await studio.page(f"/images/{image_id}")
    picture = page.select_one(".detail-facts picture")
    img = picture.select_one("img.detail-hero")
    assert img["src"].split("?v=")[0] == f"/media/{image_id}/very-high"
    assert (img["width"], img["height"]) == ("600", "900")
    assert [s["type"] for s in picture.select("source")] == ["image/avif", "image/webp"]
