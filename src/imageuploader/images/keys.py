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


def media_url(image_id: str, slug: str) -> str:
    return f"/media/{image_id}/{slug}"
