"""Metadata removal per format: identifying data gone, pixels, orientation and ICC kept."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import pyvips

from imageuploader.imaging import CorruptImage, strip_metadata
from imageuploader.imaging.metadata import exif_orientation, orientation_only_exif
from tests.imaging.metadata_samples import (
    SECRETS,
    XMP,
    camera_gif,
    camera_jpeg,
    camera_png,
    camera_webp,
    exif_tiff,
    gradient,
    jpeg_scans,
)

IDENTIFYING = ("GPS", "Make", "Model", "Serial", "MakerNote")


def tagged(image: pyvips.Image) -> pyvips.Image:
    """`image` carrying camera EXIF and XMP, for encoders that write them (TIFF, AVIF)."""
    image = image.copy()
    image.set_type(pyvips.GValue.blob_type, "exif-data", b"Exif\x00\x00" + exif_tiff(6))
    image.set_type(pyvips.GValue.blob_type, "xmp-data", XMP)
    return image


def camera_tiff() -> bytes:
    data: bytes = tagged(gradient()).tiffsave_buffer(profile="srgb")
    return data


def camera_avif() -> bytes:
    data: bytes = tagged(gradient()).heifsave_buffer(compression="av1", Q=60)
    return data


def identifying(image: pyvips.Image) -> list[str]:
    fields = image.get_fields()
    found = [f for f in fields if f.startswith("exif-") and any(n in f for n in IDENTIFYING)]
    # HEIF keeps its blanked XMP item in place (offsets stay valid): all zero bytes.
    blobs = [f for f in ("xmp-data", "iptc-data") if f in fields and any(image.get(f))]
    return found + blobs


def load_all(data: bytes) -> pyvips.Image:
    """Every page of an image (only some loaders know pages)."""
    image = pyvips.Image.new_from_buffer(data, "")
    if image.get("vips-loader").startswith(("gif", "webp", "tiff", "heif")):
        image = pyvips.Image.new_from_buffer(data, "", n=-1)
    return image


def same_pixels(a: bytes, b: bytes) -> bool:
    first, second = load_all(a), load_all(b)
    if (first.width, first.height, first.bands) != (second.width, second.height, second.bands):
        return False
    return float((first - second).abs().max()) == 0.0


CASES: list[tuple[str, Callable[[], bytes], bool, bool]] = [
    # format, sample, keeps EXIF orientation, keeps the ICC profile
    ("jpeg", camera_jpeg, True, True),
    ("png", camera_png, True, True),
    ("webp", camera_webp, True, True),
    ("gif", camera_gif, False, False),
    ("tiff", camera_tiff, True, True),
    ("avif", camera_avif, False, False),
]


@pytest.mark.parametrize(("fmt", "sample", "orientation", "icc"), CASES, ids=[c[0] for c in CASES])
def test_identifying_metadata_is_removed_and_the_image_kept(
    fmt: str, sample: Callable[[], bytes], orientation: bool, icc: bool
) -> None:
    data = sample()
    before = pyvips.Image.new_from_buffer(data, "")
    stripped = strip_metadata(data, fmt)
    for secret in SECRETS:
        assert secret not in stripped, secret
    assert b"XMP-HOME-ADDRESS" not in stripped
    after = pyvips.Image.new_from_buffer(stripped, "")
    assert identifying(after) == []
    assert after.get("vips-loader") == before.get("vips-loader")
    assert same_pixels(data, stripped)
    if orientation:
        assert after.get("orientation") == before.get("orientation") == 6
    if icc:
        assert after.get("icc-profile-data") == before.get("icc-profile-data")
    assert strip_metadata(stripped, fmt) == stripped  # nothing left to remove


def test_jpeg_scans_are_copied_byte_for_byte_and_trailers_dropped() -> None:
    data = camera_jpeg()
    stripped = strip_metadata(data, "jpeg")
    assert jpeg_scans(stripped) == jpeg_scans(data)
    assert stripped.endswith(b"\xff\xd9")
    assert len(stripped) < len(data)


def test_a_progressive_jpeg_keeps_every_scan() -> None:
    data: bytes = gradient(300, 200).jpegsave_buffer(interlace=True, profile="srgb")
    stripped = strip_metadata(data, "jpeg")
    assert jpeg_scans(stripped) == jpeg_scans(data)
    assert same_pixels(data, stripped)


def test_an_image_without_metadata_loses_nothing_it_needs() -> None:
    for fmt, suffix in (("jpeg", ".jpg"), ("png", ".png"), ("webp", ".webp"), ("gif", ".gif")):
        data: bytes = gradient().write_to_buffer(suffix)
        assert same_pixels(data, strip_metadata(data, fmt)), fmt


def test_animated_gif_and_webp_keep_their_frames() -> None:
    frames = [gradient(40, 30) * (0.5 + i / 10) for i in range(4)]
    strip = pyvips.Image.arrayjoin([f.cast("uchar") for f in frames], across=1)
    strip = strip.copy(interpretation="srgb")
    strip.set_type(pyvips.GValue.gint_type, "page-height", 30)
    for fmt, suffix in (("gif", ".gif"), ("webp", ".webp")):
        data: bytes = strip.write_to_buffer(suffix)
        stripped = strip_metadata(data, fmt)
        assert pyvips.Image.new_from_buffer(stripped, "", n=-1).get_n_pages() == 4, fmt
        assert same_pixels(data, stripped), fmt


def test_orientation_only_exif_round_trips() -> None:
    for value in range(1, 9):
        assert exif_orientation(orientation_only_exif(value)) == value
    assert exif_orientation(exif_tiff(3)) == 3
    assert exif_orientation(b"garbage") is None


@pytest.mark.parametrize(
    ("fmt", "data"),
    [
        ("jpeg", b"\xff\xd8\xff\xe1\x00\x40Exif"),
        ("png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"),
        ("webp", b"RIFF\x20\x00\x00\x00WEBPVP8 \xff\x00\x00\x00"),
        ("gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00\x99"),
        ("jpeg", b"not a jpeg"),
        ("bmp", b"BM"),
    ],
)
def test_an_unreadable_container_is_refused(fmt: str, data: bytes) -> None:
    with pytest.raises(CorruptImage):
        strip_metadata(data, fmt)
