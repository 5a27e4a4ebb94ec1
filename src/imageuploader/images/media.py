"""Who may fetch which stored object, and opening it for streaming."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import anyio

from imageuploader.accounts.schemas import PlanOut
from imageuploader.accounts.users import CurrentUser, load_user
from imageuploader.errors import Forbidden, NotFound, Unavailable
from imageuploader.images import keys
from imageuploader.images.tables import Image, Rendition
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


async def plan_of(user: CurrentUser, owner_id: int) -> PlanOut | None:
    if owner_id == user.id:
        return user.plan
    owner = await load_user(owner_id)
    return owner.plan if owner else None


async def locate(image_id: str, slug: str, plan: PlanOut | None, row: dict) -> Located:
    """Check the plan includes `slug` and the object exists; raise otherwise."""
    ident = str(row["id"])
    if slug == keys.ORIGINAL:
        if not (plan and plan.original_link):
            raise Forbidden("Your plan does not include links to the original.")
        ext = EXTENSIONS.get(row["format"], "bin")
        return Located(
            ident, slug, row["location"], row["original_key"], row["mime_type"], f"{ident}.{ext}"
        )
    if not (plan and slug in plan.sizes):
        raise Forbidden(f"Your plan does not include the {slug!r} rendition.")
    rendition = (
        await Rendition.select()
        .where((Rendition.image == row["id"]) & (Rendition.slug == slug))
        .first()
    )
    if rendition is None or rendition.get("status") != "ready":
        status = rendition["status"] if rendition else "pending"
        raise NotFound(f"The {slug!r} rendition is not ready (status: {status}).")
    fmt = rendition["format"]
    return Located(
        ident,
        slug,
        row["location"],
        rendition["key"],
        f"image/{fmt}",
        f"{ident}-{slug}.{EXTENSIONS.get(fmt, 'bin')}",
    )


async def image_row(user: CurrentUser | None, image_id: str) -> dict:
    """The image row, if `user` is its owner or an admin (None: no check)."""
    try:
        ident = uuid.UUID(image_id)
    except ValueError:
        raise NotFound("No such image.") from None
    row = await Image.select().where(Image.id == ident).first()
    if row is None or (user is not None and row["owner"] != user.id and not user.is_admin):
        raise NotFound("No such image.")
    return row


class MediaService:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    async def find(self, user: CurrentUser, image_id: str, slug: str) -> Located:
        row = await image_row(user, image_id)
        return await locate(image_id, slug, await plan_of(user, row["owner"]), row)

    async def open(self, user: CurrentUser, image_id: str, slug: str) -> Opened:
        found = await self.find(user, image_id, slug)
        return await self.open_located(found)

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
