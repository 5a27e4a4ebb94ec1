"""Output formats a plan may list: their names, order of preference and media types.

JPEG is the fallback every browser reads and is always made; WebP and AVIF are
extra variants of the same renditions, smaller at the same visual quality.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

JPEG: Final = "jpeg"
WEBP: Final = "webp"
AVIF: Final = "avif"
# Canonical order; negotiation prefers the last that the client accepts.
OUTPUT_FORMATS: Final[tuple[str, ...]] = (JPEG, WEBP, AVIF)
EXTRA_FORMATS: Final[tuple[str, ...]] = (WEBP, AVIF)
MEDIA_TYPES: Final[dict[str, str]] = {
    JPEG: "image/jpeg",
    WEBP: "image/webp",
    AVIF: "image/avif",
}
# The file extension that names each format in a media URL.
EXTENSIONS: Final[dict[str, str]] = {JPEG: "jpg", WEBP: "webp", AVIF: "avif"}


def normalise(formats: Iterable[str]) -> tuple[str, ...]:
    """The formats in canonical order; ValueError on an unknown or repeated one, or
    a list without JPEG (the fallback that every browser reads)."""
    listed = list(formats)
    unknown = sorted(set(listed) - set(OUTPUT_FORMATS))
    if unknown:
        raise ValueError(
            f"unknown format(s): {', '.join(unknown)} (known: {', '.join(OUTPUT_FORMATS)})"
        )
    if len(set(listed)) != len(listed):
        raise ValueError("each format may be listed once")
    if JPEG not in listed:
        raise ValueError("jpeg is always made and must be listed")
    return tuple(f for f in OUTPUT_FORMATS if f in listed)


def extras(formats: Iterable[str]) -> tuple[str, ...]:
    """The formats workers make as variants (everything but the JPEG fallback)."""
    listed = set(formats)
    return tuple(f for f in EXTRA_FORMATS if f in listed)
