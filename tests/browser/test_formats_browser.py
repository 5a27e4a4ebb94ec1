"""Chromium and the modern formats: <picture> loads AVIF, placeholders paint until images
arrive. Screenshots of the gallery with placeholders go to docs/screenshots/."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Response, Route, expect

from bench.photos import photo_jpeg
from tests.browser.conftest import DESKTOP, PASSWORD, PHONE, Server, log_in

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SHAPES = [(1200, 800), (800, 1200), (1000, 1000), (1500, 600)]
READY_WITHIN_SECONDS = 120  # liveness bound: four Studio images' AVIF variants


def _upload_all_and_wait(server: Server, username: str) -> list[str]:
    """Studio images of several shapes through the API, then wait for every format."""
    token = httpx.post(
        f"{server.url}/api/auth/token", json={"username": username, "password": PASSWORD}
    ).json()["access_token"]
    ids = []
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as api:
        for seed, (w, h) in enumerate(SHAPES, start=1):
            data = photo_jpeg(w, h, seed=seed)
            r = api.post("/api/images", files={"file": ("p.jpg", data, "image/jpeg")})
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        deadline = time.monotonic() + READY_WITHIN_SECONDS
        for image_id in ids:
            while True:
                body = api.get(f"/api/images/{image_id}").json()
                states = {f["status"] for r in body["renditions"] for f in r["formats"]}
                if states == {"ready"}:
                    break
                assert time.monotonic() < deadline, body
                time.sleep(0.3)
    return ids


def _shoot(page: Page, name: str) -> Path:
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = DOCS_SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def test_picture_loads_avif_in_chromium(new_context, server: Server) -> None:
    server.create_user("avif", "Studio")
    ids = _upload_all_and_wait(server, "avif")
    page = new_context(DESKTOP).new_page()
    responses: list[Response] = []
    page.on("response", lambda response: responses.append(response))
    log_in(page, "avif", PASSWORD)
    page.goto("/")
    first = page.locator(f"a[href='/images/{ids[0]}'] picture img")
    expect(first).to_be_visible()
    first.evaluate("(img) => img.decode()")
    current = first.evaluate("(img) => img.currentSrc")
    assert current.split("?")[0].endswith(".avif"), current
    # A later revalidation (304) carries no type: the 200s are what was decoded.
    types = {
        r.header_value("content-type") for r in responses if r.url == current and r.status == 200
    }
    assert types == {"image/avif"}, types
    assert first.evaluate("(img) => img.naturalWidth") > 0
    # Every card chose its AVIF source, and the sketch under it is hidden once loaded.
    for img in page.locator("ul.gallery picture img").all():
        img.evaluate("(img) => img.decode()")
        assert img.evaluate("(img) => img.currentSrc").split("?")[0].endswith(".avif")
    expect(page.locator("canvas.thumbhash.covered")).to_have_count(len(ids))


@pytest.mark.parametrize(("label", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_placeholders_paint_until_images_load(
    new_context, server: Server, label: str, viewport: dict[str, int]
) -> None:
    username = f"holder-{label}"
    server.create_user(username, "Studio")
    _upload_all_and_wait(server, username)
    page = new_context(viewport).new_page()
    log_in(page, username, PASSWORD)
    held: list[Route] = []
    # Image bytes are held back (as on a slow network): only the placeholders can show.
    page.route("**/media/**", lambda route: held.append(route))
    page.goto("/", wait_until="domcontentloaded")  # "load" would wait for the images
    canvases = page.locator("canvas.thumbhash")
    expect(canvases).to_have_count(len(SHAPES))
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas.thumbhash')].every(c => c.dataset.painted)"
    )
    # The gallery is newest first.
    for canvas, (w, h) in zip(canvases.all(), reversed(SHAPES), strict=True):
        size = canvas.evaluate("(c) => [c.width, c.height]")
        # The sketch has the photo's shape and real, opaque pixels.
        assert size[0] / size[1] == pytest.approx(w / h, rel=0.2), size
        alpha = canvas.evaluate(
            "(c) => c.getContext('2d').getImageData(c.width >> 1, c.height >> 1, 1, 1).data[3]"
        )
        assert alpha == 255
        assert "covered" not in (canvas.get_attribute("class") or "")
    assert _shoot(page, f"gallery-placeholders-{label}").stat().st_size > 0
    for route in held:
        route.continue_()
    page.unroute("**/media/**")
    expect(page.locator("canvas.thumbhash.covered")).to_have_count(len(SHAPES))
    for img in page.locator("ul.gallery picture img").all():
        img.evaluate("(img) => img.decode()")
    assert _shoot(page, f"gallery-loaded-{label}").stat().st_size > 0
