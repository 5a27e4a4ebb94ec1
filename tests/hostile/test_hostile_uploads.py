"""Hostile uploads: each gets its specified 4xx with nothing stored, or is accepted,
re-encoded safely and finished by the workers (none left pending)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import pyvips
from litestar.testing import AsyncTestClient

from imageuploader.images.tables import Image, Rendition
from imageuploader.settings import Settings
from tests.hostile import corpus
from tests.hostile.conftest import MAX_UPLOAD_BYTES, stored_files

# Liveness bound for background work, not a speed target: a stalled worker fails here.
DONE_WITHIN_SECONDS = 90

# (name, bytes factory, filename, content type, status, words the detail must contain)
REFUSED = [
    ("empty", lambda: b"", "empty.jpg", "image/jpeg", 415, "empty"),
    ("text-named-jpg", lambda: b"hello, I am text\n" * 20, "a.jpg", "image/jpeg", 415, "not"),
    ("truncated-jpeg", corpus.truncated_jpeg, "t.jpg", "image/jpeg", 422, "JPEG"),
    ("svg-with-script", corpus.svg_with_script, "x.svg", "image/svg+xml", 415, "SVG"),
    ("svg-named-png", corpus.svg_with_script, "x.png", "image/png", 415, "SVG"),
    ("pdf", corpus.pdf, "doc.pdf", "application/pdf", 415, "PDF"),
    ("zip", corpus.zip_archive, "photos.zip", "application/zip", 415, "ZIP"),
    ("html-then-jpeg", corpus.html_then_jpeg, "p.jpg", "image/jpeg", 415, "HTML"),
    ("png-bomb-30000x30000", corpus.png_bomb, "bomb.png", "image/png", 422, "900,000,000"),
    ("jpeg-sof-65000x65000", corpus.jpeg_claiming, "big.jpg", "image/jpeg", 422, "limit"),
    # Just over the file limit but under the multipart allowance: the service's check.
    (
        "oversized-just-over",
        lambda: corpus.oversized(MAX_UPLOAD_BYTES + 1),
        "big.jpg",
        "image/jpeg",
        413,
        f"{MAX_UPLOAD_BYTES:,}",
    ),
    # Far over: refused while the body streams in.
    (
        "oversized-far-over",
        lambda: corpus.oversized(3 * MAX_UPLOAD_BYTES),
        "big.jpg",
        "image/jpeg",
        413,
        f"{MAX_UPLOAD_BYTES:,}",
    ),
]


async def _assert_nothing_stored(settings: Settings) -> None:
    assert await Image.count() == 0
    assert await Rendition.count() == 0
    assert stored_files(settings) == []


@pytest.mark.parametrize(
    ("factory", "filename", "content_type", "status", "words"),
    [pytest.param(*case[1:], id=case[0]) for case in REFUSED],
)
async def test_refused_with_its_status_and_nothing_stored(
    client: AsyncTestClient,
    settings: Settings,
    make_user: Callable[..., Any],
    factory: Callable[[], bytes],
    filename: str,
    content_type: str,
    status: int,
    words: str,
) -> None:
    headers = await make_user("mallory", "Premium")
    r = await client.post(
        "/api/images",
        files={"file": (filename, factory(), content_type)},
        data={"caption": "hostile"},
        headers=headers,
    )
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["status_code"] == status
    assert words.lower() in body["detail"].lower(), body["detail"]
    await _assert_nothing_stored(settings)
    # The service is still fine afterwards.
    assert (await client.get("/api/images", headers=headers)).json()["total"] == 0


async def _wait_finished(client: AsyncTestClient, headers: dict, image_id: str) -> dict:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DONE_WITHIN_SECONDS
    while True:
        r = await client.get(f"/api/images/{image_id}", headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        # Each rendition and each of its formats (the WebP/AVIF variants workers make).
        if all(
            f["status"] in ("ready", "failed")
            for x in body["renditions"]
            for f in [x, *x["formats"]]
        ):
            return body
        if loop.time() > deadline:
            pytest.fail(f"renditions still pending (a stalled worker?): {body['renditions']}")
        await asyncio.sleep(0.1)


async def _fetch_image(client: AsyncTestClient, headers: dict, url: str) -> pyvips.Image:
    r = await client.get(url, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] in ("image/jpeg", "image/png", "image/webp")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert b"<script" not in r.content and b"<html" not in r.content
    # A real image: it decodes completely.
    image = pyvips.Image.new_from_buffer(r.content, "", fail=True)
    assert image.avg() >= 0
    return image


ACCEPTED = [
    ("html-jpeg-polyglot", corpus.html_jpeg_polyglot, "p.html", "text/html", (640, 480), 1),
    ("animated-gif-300x2000x2000", corpus.animated_gif, "a.gif", "image/gif", (2000, 2000), 300),
]


@pytest.mark.parametrize(
    ("factory", "filename", "content_type", "size", "frames"),
    [pytest.param(*case[1:], id=case[0]) for case in ACCEPTED],
)
async def test_accepted_and_reencoded_safely(
    client: AsyncTestClient,
    settings: Settings,
    make_user: Callable[..., Any],
    factory: Callable[[], bytes],
    filename: str,
    content_type: str,
    size: tuple[int, int],
    frames: int,
) -> None:
    """Real images carrying payloads: accepted, and every rendition is clean pixels."""
    data = factory()
    assert pyvips.Image.new_from_buffer(data, "").get_n_pages() == frames
    headers = await make_user("mallory", "Premium")
    r = await client.post(
        "/api/images",
        files={"file": (filename, data, content_type)},
        data={"caption": "hostile"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert (r.json()["width"], r.json()["height"]) == size
    body = await _wait_finished(client, headers, r.json()["id"])
    assert {x["status"] for x in body["renditions"]} == {"ready"}, body["renditions"]
    variants = [f for x in body["renditions"] for f in x["formats"][1:]]  # [0]: the fallback
    assert variants, "the plan's extra formats (WebP) are made for every rendition"
    assert {f["status"] for f in variants} == {"ready"}, variants
    # What the refusal tests call "nothing stored" is visible here: the same helper sees
    # the original, the intermediate, every rendition and every variant of it.
    objects = [p for p in stored_files(settings) if ".meta" not in p.parts]  # not sidecars
    assert len(objects) == 2 + len(body["renditions"]) + len(variants)
    for rendition in body["renditions"]:
        image = await _fetch_image(client, headers, rendition["url"])
        assert image.get_n_pages() == 1
    for variant in variants:
        # Clean pixels too: an animated source may give an animated WebP, frame by frame
        # re-encoded, so only the fallback above is held to one page.
        await _fetch_image(client, headers, variant["url"])
    # The original is delivered as the image it is, and only that: the same pixels,
    # without the comment or what followed the image's end.
    original = await client.get(body["original_url"], headers=headers)
    assert b"<html" not in original.content and b"<script" not in original.content
    assert pyvips.Image.new_from_buffer(original.content, "").get_n_pages() == frames
    # Of an animation, the first and the last frame: a GIF frame is drawn over the ones
    # before it, so the last is decoded through the whole stream (every page, twice,
    # took 15 s).
    for pages in [{}] if frames == 1 else [{"page": 0}, {"page": frames - 1}]:
        delivered = pyvips.Image.new_from_buffer(original.content, "", **pages)
        sent = pyvips.Image.new_from_buffer(data, "", **pages)
        assert (delivered - sent).abs().max() == 0, pages
    assert original.headers["content-type"] == f"image/{body['format']}"
    assert original.headers["x-content-type-options"] == "nosniff"


async def test_png_with_bad_crc_is_refused_or_reencoded(
    client: AsyncTestClient, settings: Settings, make_user: Callable[..., Any]
) -> None:
    """A damaged checksum: refused as corrupt (422) with nothing stored."""
    headers = await make_user("mallory", "Premium")
    r = await client.post(
        "/api/images",
        files={"file": ("crc.png", corpus.png_bad_crc(), "image/png")},
        headers=headers,
    )
    assert r.status_code == 422, r.text
    assert "png" in r.json()["detail"].lower()
    await _assert_nothing_stored(settings)
