"""Response shapes of the images API."""

from __future__ import annotations

from datetime import datetime

import msgspec

from imageuploader.images.records import RenditionStatus


class FormatOut(msgspec.Struct):
    """One output format of a rendition; `url` names the format explicitly."""

    format: str
    status: RenditionStatus
    bytes: int | None
    url: str


class RenditionOut(msgspec.Struct):
    slug: str
    status: RenditionStatus
    width: int | None
    height: int | None
    format: str | None
    bytes: int | None
    url: str
    error: str | None = None
    # The fallback first, then the plan's extra formats (WebP, AVIF) as workers make them.
    formats: list[FormatOut] = msgspec.field(default_factory=list)


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
    # Whether the owner's plan lets this image be shared by expiring links.
    expiring_links: bool = False
    # True: the original is delivered as uploaded, with its location and device
    # metadata; False (the default): those were removed at upload.
    keep_metadata: bool = False
    # A base64 ThumbHash to paint while the image loads (None for images older than it).
    placeholder: str | None = None


class UploadOut(ImageOut):
    """An upload's answer: the image, and whether it was already there (same bytes)."""

    duplicate: bool = False


class ImagePage(msgspec.Struct):
    items: list[ImageOut]
    page: int
    per_page: int
    total: int
