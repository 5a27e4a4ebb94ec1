"""Header-only checks of uploaded bytes: sniff the type, read dimensions, enforce limits.

Nothing here decodes pixels; `pipeline.decode` adds the full-decode check on
top of `probe` so that an upload is decoded exactly once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

import pyvips

from imageuploader.imaging.errors import (
    CorruptImage,
    ImageTooLarge,
    ResolutionMismatch,
    ResolutionTooSmall,
    UnsupportedImageType,
)

ACCEPTED: Final = "JPEG, PNG, WebP, AVIF, GIF, HEIC or TIFF"
MAX_SIDE: Final = 100_000  # larger than any real camera; bigger values are typos or attacks

# libvips loader nickname -> our format name; heifload is split later by codec.
_LOADERS: Final[dict[str, str]] = {
    "jpegload_buffer": "jpeg",
    "pngload_buffer": "png",
    "webpload_buffer": "webp",
    "gifload_buffer": "gif",
    "tiffload_buffer": "tiff",
    "heifload_buffer": "heif",
}
_HEIF_CODECS: Final[dict[str, str]] = {"av1": "avif", "hevc": "heic"}
MIME_TYPES: Final[dict[str, str]] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "avif": "image/avif",
    "gif": "image/gif",
    "heic": "image/heic",
    "tiff": "image/tiff",
}
# Only used to word the refusal message; acceptance never depends on these.
_REFUSED_NAMES: Final[dict[str, str]] = {
    "svgload": "SVG",
    "pdfload": "PDF",
    "magickload": "a format only ImageMagick reads",
    "matrixload": "a libvips matrix file",
    "csvload": "CSV",
    "rawload": "raw pixel data",
    "vipsload": "a libvips native file",
    "ppmload": "PPM",
    "radload": "Radiance HDR",
    "fitsload": "FITS",
    "jxlload": "JPEG XL",
    "jp2kload": "JPEG 2000",
    "openexrload": "OpenEXR",
}
_MAGIC_NAMES: Final[tuple[tuple[bytes, str], ...]] = (
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"<svg", "SVG"),
    (b"<!doctype html", "HTML"),
    (b"<html", "HTML"),
    (b"<?xml", "XML"),
    (b"BM", "BMP"),
)
_ORIENTATION_SWAPS: Final = frozenset({5, 6, 7, 8})  # EXIF values that rotate by 90°
TIMES: Final = "\N{MULTIPLICATION SIGN}"  # what people write, and what messages show
_RESOLUTION_RE: Final = re.compile(rf"^\s*(\d+)\s*[x{TIMES}]\s*(\d+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ImageInfo:
    """What the header says about an accepted image.

    `width`/`height` are the stored pixel dimensions of one frame (what the
    pixel limit is checked against); `oriented_width`/`oriented_height` are
    what a person sees after the EXIF orientation is applied, and are what
    declared and minimum resolutions are compared with.
    """

    format: str
    width: int
    height: int
    oriented_width: int
    oriented_height: int
    has_alpha: bool
    pages: int
    mime_type: str
    # An embedded ICC profile or CMYK pixels: only these pay for a colour
    # transform on load (an lcms pass costs ~60% more than the decode itself).
    colour_managed: bool = False

    @property
    def pixels(self) -> int:
        return self.width * self.height


def parse_resolution(text: str) -> tuple[int, int]:
    """Parse "1024x768" (x or a multiplication sign) into (1024, 768); ValueError if malformed."""
    match = _RESOLUTION_RE.match(text)
    if match is None:
        raise ValueError(f"Resolution {text!r} must look like WIDTHxHEIGHT, for example 1024x768.")
    width, height = int(match[1]), int(match[2])
    if not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        raise ValueError(f"Resolution {text!r} must have both sides between 1 and {MAX_SIDE:,}.")
    return width, height


def _describe_refused(data: bytes, loader: str | None) -> str:
    """Name what the refused bytes look like, for the error message."""
    if not data:
        return "the file is empty"
    if loader is not None:
        base = loader.removesuffix("_buffer").removesuffix("_source")
        return f"it looks like {_REFUSED_NAMES.get(base, base.removesuffix('load').upper())}"
    head = data[:256].lstrip().lower()
    for magic, name in _MAGIC_NAMES:
        if head.startswith(magic.lower()):
            return f"it looks like {name}"
    return "it is not an image libvips recognises"


def find_loader(data: bytes) -> str | None:
    """Return the libvips loader nickname for these bytes (e.g. "jpegload_buffer"), or None.

    Uses libvips' magic-number sniffing only, so no loader (SVG, PDF...) ever
    runs on bytes we are about to refuse.
    """
    if not data:
        return None
    found = pyvips.vips_lib.vips_foreign_find_load_buffer(data, len(data))
    if found == pyvips.ffi.NULL:
        return None
    type_name = pyvips.ffi.string(found).decode()
    nickname: str = pyvips.nickname_find(pyvips.type_from_name(type_name))
    return nickname


def sniff(data: bytes) -> str:
    """Step 1: return the loader nickname if we accept it, else raise UnsupportedImageType."""
    loader = find_loader(data)
    if loader is None or loader not in _LOADERS:
        raise UnsupportedImageType(
            f"The file is not a supported image ({ACCEPTED}); {_describe_refused(data, loader)}."
        )
    return loader


def read_header(data: bytes, loader: str) -> ImageInfo:
    """Step 2: read dimensions and metadata; libvips loads headers lazily, no pixels decoded."""
    try:
        header = pyvips.Image.new_from_buffer(data, "", access="sequential")
        fields = set(header.get_fields())
        fmt = _LOADERS[loader]
        if fmt == "heif":
            codec = header.get("heif-compression") if "heif-compression" in fields else "hevc"
            fmt = _HEIF_CODECS.get(codec, "heic")
        orientation = header.get("orientation") if "orientation" in fields else 1
        pages = header.get("n-pages") if "n-pages" in fields else 1
        width, height = header.width, header.height
        has_alpha = bool(header.hasalpha())
        colour_managed = "icc-profile-data" in fields or header.interpretation == "cmyk"
    except pyvips.Error as exc:
        raise CorruptImage(
            f"The {_LOADERS[loader].upper()} file could not be read: its header is damaged."
        ) from exc
    swapped = orientation in _ORIENTATION_SWAPS
    return ImageInfo(
        format=fmt,
        width=width,
        height=height,
        oriented_width=height if swapped else width,
        oriented_height=width if swapped else height,
        has_alpha=has_alpha,
        pages=max(1, int(pages)),
        mime_type=MIME_TYPES[fmt],
        colour_managed=colour_managed,
    )


def check_pixels(info: ImageInfo, max_pixels: int) -> None:
    """Step 3: refuse decompression bombs from the header alone.

    Only the first frame is ever decoded (see pipeline), so one frame's pixels
    are what counts.
    """
    if info.pixels > max_pixels:
        raise ImageTooLarge(
            f"The image is {info.width}{TIMES}{info.height} = {info.pixels:,} pixels; "
            f"the limit is {max_pixels:,}."
        )


def check_declared(info: ImageInfo, declared: tuple[int, int] | None) -> None:
    """Step 4: the uploader's declared WIDTHxHEIGHT must equal the oriented size."""
    if declared is None:
        return
    actual = (info.oriented_width, info.oriented_height)
    if tuple(declared) != actual:
        raise ResolutionMismatch(
            f"The image is {actual[0]}{TIMES}{actual[1]} but the declared resolution was "
            f"{declared[0]}{TIMES}{declared[1]}."
        )


def check_minimum(info: ImageInfo, min_resolution: tuple[int, int] | None) -> None:
    """Step 5: both oriented sides must reach the configured minimum."""
    if min_resolution is None:
        return
    min_w, min_h = min_resolution
    if info.oriented_width < min_w or info.oriented_height < min_h:
        raise ResolutionTooSmall(
            f"The image is {info.oriented_width}{TIMES}{info.oriented_height}; "
            f"the minimum is {min_w}{TIMES}{min_h}."
        )


def probe(
    data: bytes,
    *,
    max_pixels: int,
    declared: tuple[int, int] | None = None,
    min_resolution: tuple[int, int] | None = None,
) -> ImageInfo:
    """Run every header-only check in order and return what the header says.

    Resolution checks run before any pixel is decoded because they are cheap;
    use `pipeline.decode` to also prove that the whole file decodes.
    """
    loader = sniff(data)
    info = read_header(data, loader)
    check_pixels(info, max_pixels)
    check_declared(info, declared)
    check_minimum(info, min_resolution)
    return info
