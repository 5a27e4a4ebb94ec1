"""Delivery of stored objects: which object a permitted request names, and opening it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import anyio

from imageuploader.accounts.schemas import PlanOut
from imageuploader.accounts.users import CurrentUser
from imageuploader.errors import NotFound, Unavailable
from imageuploader.images import access, keys
from imageuploader.images.records import ImageRecord, RenditionRecord, RenditionStatus
from imageuploader.images.tables import Rendition
from imageuploader.storage import ObjectNotFound, Storage, StorageError

EXTENSIONS = {
    "jpeg": "jpg",
    "png": "png",
    "webp": "webp",
    "gif": "gif",
    "tiff": "tif",
    "avif": "avif",
    "heic": "heic",
}


@dataclass(frozen=True)
class Located:
    """A stored object the caller may read: where it is and how to label it."""

    image_id: str
    slug: str
    location: str
    key: str
    content_type: str
    filename: str


@dataclass(frozen=True)
class Opened:
    chunks: Iterator[bytes]
    size: int
    content_type: str
    filename: str


async def locate(image: ImageRecord, slug: str, plan: PlanOut | None) -> Located:
    """The object `slug` names, if the plan includes it and it exists; raise otherwise."""
    access.require_object(plan, slug)
    ident = image.ident
    if slug == keys.ORIGINAL:
        ext = EXTENSIONS.get(image.format, "bin")
        return Located(
            ident, slug, image.location, image.original_key, image.mime_type, f"{ident}.{ext}"
        )
    row = (
        await Rendition.select()
        .where((Rendition.image == image.id) & (Rendition.slug == slug))
        .order_by(Rendition.id)
        .first()
    )
    rendition = RenditionRecord.from_row(row) if row else None
    if rendition is None or rendition.status is not RenditionStatus.READY or not rendition.key:
        status = rendition.status if rendition else RenditionStatus.PENDING
        raise NotFound(f"The {slug!r} rendition is not ready (status: {status}).")
    fmt = rendition.format or "jpeg"
    return Located(
        ident,
        slug,
        image.location,
        rendition.key,
        f"image/{fmt}",
        f"{ident}-{slug}.{EXTENSIONS.get(fmt, 'bin')}",
    )


class MediaService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def find(self, user: CurrentUser, image_id: str, slug: str) -> Located:
        image, plan = await access.visible_image(user, image_id)
        return await locate(image, slug, plan)

    async def open(self, user: CurrentUser, image_id: str, slug: str) -> Opened:
        return await self.open_located(await self.find(user, image_id, slug))

    async def open_located(self, found: Located) -> Opened:
        try:
            chunks, size = await anyio.to_thread.run_sync(
                self.storage.open, found.location, found.key
            )
        except ObjectNotFound:
            raise NotFound("The stored file is missing.") from None
        except StorageError:
            raise Unavailable("Storage is unavailable; try again later.") from None
        return Opened(chunks, size, found.content_type, found.filename)
