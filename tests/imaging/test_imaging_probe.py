"""Tests of the header checks: type sniffing, pixel limits, resolutions, their messages."""

from __future__ import annotations

import io
import time
import zipfile

import pillow_heif
import pytest
import pyvips
from PIL import Image as PILImage

from imageuploader.imaging import (
    CorruptImage,
    ImageTooLarge,
    ResolutionMismatch,
    ResolutionTooSmall,
    SizeSpec,
    UnsupportedImageType,
    decode,
    parse_resolution,
    probe,
)
from imageuploader.web.errors import status_of

LIMIT = 50_000_000
X = "\N{MULTIPLICATION SIGN}"  # the messages use the real sign
H200 = [SizeSpec("h200", None, 200, "contain")]


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", b"not really")
    return buffer.getvalue()


MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
SVG_WITH_SCRIPT = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
    b'<script>alert("owned")</script><rect width="100" height="100"/></svg>'
)


# --- parse_resolution -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1024x768", (1024, 768)), (f"1024{X}768", (1024, 768)), (" 800 X 600 ", (800, 600))],
)
def test_parse_resolution_accepts(text: str, expected: tuple[int, int]) -> None:
    assert parse_resolution(text) == expected


@pytest.mark.parametrize(
    "text", ["", "1024", "0x768", "1024x0", "-1x5", "1024x768x3", "abcx12", "200000x10", "1.5x2"]
)
def test_parse_resolution_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="Resolution"):
        parse_resolution(text)


# --- refusals by type ---------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (b"", "the file is empty"),
        (b"hello, this is plain text\n", "not an image"),
        (SVG_WITH_SCRIPT, "SVG"),
        (MINIMAL_PDF, "PDF"),
        (_zip_bytes(), "ZIP"),
        (b"1,2,3\n4,5,6\n", "not an image"),
    ],
    ids=["empty", "text", "svg", "pdf", "zip", "csv"],
)
def test_refuses_non_images(data: bytes, looks_like: str) -> None:
    with pytest.raises(UnsupportedImageType) as caught:
        probe(data, max_pixels=LIMIT)
    assert status_of(caught.value) == 415
    assert (
        "not a supported image (JPEG, PNG, WebP, AVIF, GIF, HEIC or TIFF)" in caught.value.message
    )
    assert looks_like in caught.value.message


def test_refuses_html_prefixed_jpeg_polyglot(small_jpeg: bytes) -> None:
    polyglot = b"<!DOCTYPE html><html><script>alert(1)</script></html>\n" + small_jpeg
    with pytest.raises(UnsupportedImageType, match="HTML"):
        probe(polyglot, max_pixels=LIMIT)


# --- pixel limits from the header ----------------------------------------------


def _patch_sof_dimensions(jpeg: bytes, width: int, height: int) -> bytes:
    """Rewrite the baseline SOF0 frame header so it claims width x height."""
    sof = jpeg.index(b"\xff\xc0")
    patched = bytearray(jpeg)
    # SOF0: marker(2) length(2) precision(1) height(2) width(2)
    patched[sof + 5 : sof + 7] = height.to_bytes(2, "big")
    patched[sof + 7 : sof + 9] = width.to_bytes(2, "big")
    return bytes(patched)


def test_header_claiming_65000_squared_is_refused(small_jpeg: bytes) -> None:
    bomb = _patch_sof_dimensions(small_jpeg, 65000, 65000)
    with pytest.raises(ImageTooLarge) as caught:
        decode(bomb, H200, max_pixels=LIMIT)
    assert status_of(caught.value) == 422
    assert caught.value.message == (
        f"The image is 65000{X}65000 = 4,225,000,000 pixels; the limit is 50,000,000."
    )


def test_pixel_limit_is_inclusive(make_gradient) -> None:
    data = make_gradient(100, 50).pngsave_buffer()
    assert probe(data, max_pixels=5000).pixels == 5000
    with pytest.raises(ImageTooLarge, match=f"100{X}50 = 5,000 pixels; the limit is 4,999"):
        probe(data, max_pixels=4999)


def test_png_bomb_refused_before_decoding(png_bomb: bytes) -> None:
    started = time.perf_counter()
    with pytest.raises(ImageTooLarge, match=f"30000{X}30000 = 900,000,000 pixels"):
        decode(png_bomb, H200, max_pixels=LIMIT)
    # Decoding 900 MP would take seconds and gigabytes; the header read takes milliseconds.
    assert time.perf_counter() - started < 1.0


# --- undecodable data ----------------------------------------------------------


def test_truncated_jpeg_passes_header_but_fails_decode(studio_jpeg: bytes) -> None:
    truncated = studio_jpeg[: len(studio_jpeg) // 2]
    assert probe(truncated, max_pixels=LIMIT).width == 4000  # header is intact
    with pytest.raises(CorruptImage) as caught:
        decode(truncated, H200, max_pixels=LIMIT)  # even with JPEG shrink-on-load
    assert status_of(caught.value) == 422
    assert "JPEG file is damaged or truncated" in caught.value.message


def test_png_with_bad_crc_is_corrupt(make_gradient) -> None:
    png = bytearray(make_gradient(300, 200).pngsave_buffer())
    idat = png.index(b"IDAT")
    png[idat + 100] ^= 0xFF
    with pytest.raises(CorruptImage, match="PNG"):
        decode(bytes(png), H200, max_pixels=LIMIT)


def test_webp_with_truncated_header_is_corrupt(make_gradient) -> None:
    webp = make_gradient(300, 200).webpsave_buffer()
    with pytest.raises(CorruptImage):
        decode(webp[: len(webp) // 2], H200, max_pixels=LIMIT)


# --- declared and minimum resolution --------------------------------------------


def test_declared_resolution_must_match(small_jpeg: bytes) -> None:
    assert probe(small_jpeg, max_pixels=LIMIT, declared=(400, 300)).width == 400
    with pytest.raises(ResolutionMismatch) as caught:
        probe(small_jpeg, max_pixels=LIMIT, declared=(1024, 768))
    assert status_of(caught.value) == 422
    assert caught.value.message == (
        f"The image is 400{X}300 but the declared resolution was 1024{X}768."
    )


def test_declared_and_minimum_use_oriented_size(make_gradient) -> None:
    image = make_gradient(400, 300).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    data = image.jpegsave_buffer()
    info = probe(data, max_pixels=LIMIT, declared=(300, 400), min_resolution=(300, 400))
    assert (info.width, info.height) == (400, 300)
    assert (info.oriented_width, info.oriented_height) == (300, 400)
    with pytest.raises(ResolutionMismatch):
        probe(data, max_pixels=LIMIT, declared=(400, 300))


def test_minimum_resolution(small_jpeg: bytes) -> None:
    assert probe(small_jpeg, max_pixels=LIMIT, min_resolution=(400, 300)).height == 300
    with pytest.raises(ResolutionTooSmall) as caught:
        decode(small_jpeg, H200, max_pixels=LIMIT, min_resolution=(1024, 786))
    assert status_of(caught.value) == 422
    assert caught.value.message == f"The image is 400{X}300; the minimum is 1024{X}786."


# --- accepted formats -------------------------------------------------------------


def heic_bytes(width: int, height: int) -> bytes:
    """HEIC (HEVC) made with pillow-heif: pyvips-binary's libheif can read HEVC but
    ships no HEVC encoder, so libvips alone cannot make a test file."""
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    PILImage.linear_gradient("L").resize((width, height)).convert("RGB").save(out, "HEIF")
    return out.getvalue()


@pytest.mark.parametrize(
    ("suffix", "fmt", "mime"),
    [
        (".jpg", "jpeg", "image/jpeg"),
        (".png", "png", "image/png"),
        (".webp", "webp", "image/webp"),
        (".gif", "gif", "image/gif"),
        (".tif", "tiff", "image/tiff"),
        (".avif", "avif", "image/avif"),
        (".heic", "heic", "image/heic"),
    ],
)
def test_accepted_formats(make_gradient, suffix: str, fmt: str, mime: str) -> None:
    if suffix == ".heic":
        data = heic_bytes(120, 80)
    else:
        data = make_gradient(120, 80).write_to_buffer(suffix)
    info = probe(data, max_pixels=LIMIT)
    assert (info.format, info.mime_type) == (fmt, mime)
    assert (info.width, info.height, info.pages, info.has_alpha) == (120, 80, 1, False)
    assert decode(data, H200, max_pixels=LIMIT).image.height == 80  # no upscale to 200


def test_alpha_and_pages_are_reported(make_gradient) -> None:
    assert probe(make_gradient(20, 10, alpha=True).pngsave_buffer(), max_pixels=LIMIT).has_alpha
    frames = make_gradient(20, 10 * 4).copy()
    frames.set_type(pyvips.GValue.gint_type, "page-height", 10)
    info = probe(frames.gifsave_buffer(), max_pixels=LIMIT)
    assert (info.width, info.height, info.pages) == (20, 10, 4)
