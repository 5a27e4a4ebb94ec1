"""Object keys: generated from the image id and slug, never from an uploaded name."""

from __future__ import annotations

ORIGINAL = "original"
# Hex digits of the content digest in a versioned media URL: enough that two remakes
# never share one, short enough for a tidy URL.
VERSION_CHARS = 16


def original_key(image_id: str) -> str:
    return f"{image_id}/{ORIGINAL}"


def intermediate_key(image_id: str) -> str:
    # Slugs start with [a-z0-9], so "_" can never collide with a rendition.
    return f"{image_id}/_intermediate"


def rendition_key(image_id: str, slug: str) -> str:
    return f"{image_id}/{slug}"


def media_url(image_id: str, slug: str, digest: str | None = None) -> str:
    """The permanent link; with the object's digest, versioned (`?v=`): its bytes never
    change, so browsers may keep them for good, and a remake changes the URL."""
    url = f"/media/{image_id}/{slug}"
    return f"{url}?v={digest[:VERSION_CHARS]}" if digest else url
