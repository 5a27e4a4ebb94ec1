"""Object keys: generated from the image id and slug, never from an uploaded name."""

from __future__ import annotations

ORIGINAL = "original"


def original_key(image_id: str) -> str:
    return f"{image_id}/{ORIGINAL}"


def intermediate_key(image_id: str) -> str:
    # Slugs start with [a-z0-9], so "_" can never collide with a rendition.
    return f"{image_id}/_intermediate"


def rendition_key(image_id: str, slug: str) -> str:
    return f"{image_id}/{slug}"


def variant_key(image_id: str, slug: str, extension: str) -> str:
    # Slugs never contain ".", so "h200.webp" can never be another rendition's key.
    return f"{image_id}/{slug}.{extension}"


def media_url(image_id: str, slug: str, extension: str | None = None) -> str:
    """The permanent link; with an extension it names one output format."""
    return f"/media/{image_id}/{slug}" + (f".{extension}" if extension else "")
