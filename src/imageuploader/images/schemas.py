"""Response shapes of the images API."""

from __future__ import annotations

from datetime import datetime

import msgspec

from imageuploader.images.records import RenditionStatus


class RenditionOut(msgspec.Struct):
    slug: str
    status: RenditionStatus
    width: int | None
    height: int | None
    format: str | None
    bytes: int | None
    url: str
    error: str | None = None


class ImageOut(msgspec.Struct):
    id: str
    caption: str
    width: int
    height: int
    format: str
    bytes: int
    created_at: datetime
    renditions: list[RenditionOut]
    original_url: str | None = msgspec.field(default=None)


class UploadOut(ImageOut):
    """An upload's answer: the image, and whether it was already there (same bytes)."""

    duplicate: bool = False


class ImagePage(msgspec.Struct):
    items: list[ImageOut]
    page: int
    per_page: int
    total: int
