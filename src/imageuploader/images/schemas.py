"""Request forms and response shapes of the images API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec
from litestar.datastructures import UploadFile


@dataclass
class UploadForm:
    """multipart/form-data fields of POST /api/images."""

    file: UploadFile
    caption: str = ""
    resolution: str | None = None


class RenditionOut(msgspec.Struct):
    slug: str
    status: str
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


class ImagePage(msgspec.Struct):
    items: list[ImageOut]
    page: int
    per_page: int
    total: int
