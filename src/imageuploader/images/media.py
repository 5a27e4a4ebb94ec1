"""Delivery of stored objects: which object a permitted request names, and opening it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import anyio

from imageuploader.accounts.schemas import PlanOut
from imageuploader.accounts.users import CurrentUser
from imageuploader.clock import Clock, utcnow
from imageuploader.errors import NotFound, Unavailable
from imageuploader.images import access, keys, objects
from imageuploader.images.records import ImageRecord, RenditionRecord, RenditionStatus
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
    """A stored object the caller may read: where it is, how to label it, its validators.

    `digest` and `size` are None only for rows stored before digests were kept;
    `MediaService.with_digest` fills them in.
    """

    image_id: str
    slug: str
    location: str
    key: str
    content_type: str
    filename: str
    digest: str | None = None
    size: int | None = None
    modified: datetime | None = None
    # The rendition row (None: the original, which lives in the image row).
    rendition_id: int | None = None

    @property
    def disposition(self) -> str:
        return f'inline; filename="{self.filename}"'


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
            ident,
            slug,
            image.location,
            image.original_key,
            image.mime_type,
            f"{ident}.{ext}",
            digest=image.digest,
            size=image.bytes if image.digest else None,
            modified=image.created_at,
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
        digest=rendition.digest,
        size=rendition.bytes if rendition.digest else None,
        modified=rendition.updated_at,
        rendition_id=rendition.id,
    )


@contextmanager
def _storage_errors() -> Iterator[None]:
    try:
        yield
    except ObjectNotFound:
        raise NotFound("The stored file is missing.") from None
    except StorageError:
        raise Unavailable("Storage is unavailable; try again later.") from None


class MediaService:
    """Finds permitted objects and hands out their bytes: streamed, or as a presigned URL.

    `redirect_window` (seconds) turns on redirects to presigned URLs where the
    storage makes them; None streams every byte through the app.
    """

    def __init__(
        self, storage: Storage, *, redirect_window: int | None = None, clock: Clock = utcnow
    ) -> None:
        self.storage = storage
        self.redirect_window = redirect_window
        self.clock = clock

    async def find(self, user: CurrentUser, image_id: str, slug: str) -> Located:
        image, plan = await access.visible_image(user, image_id)
        return await locate(image, slug, plan)

    async def open(self, user: CurrentUser, image_id: str, slug: str) -> Opened:
        return await self.open_located(await self.find(user, image_id, slug))

    async def open_located(
        self, found: Located, *, offset: int = 0, length: int | None = None
    ) -> Opened:
        """The object's bytes from `offset`, `length` of them (None: to the end)."""
        with _storage_errors():
            chunks, size = await anyio.to_thread.run_sync(
                lambda: self.storage.open(found.location, found.key, offset=offset, length=length)
            )
        return Opened(chunks, size, found.content_type, found.filename)

    async def with_digest(self, found: Located) -> Located:
        """`found` with its digest and size, computing and saving them for a row
        stored before digests were kept (once: later reads find them in the row)."""
        if found.digest is not None and found.size is not None:
            return found
        with _storage_errors():
            digest, size = await anyio.to_thread.run_sync(self._digest_of, found)
        # Only where still empty: a remake that raced us has saved its own digest.
        if found.rendition_id is None:
            await Image.update({Image.digest: digest}).where(
                (Image.id == uuid.UUID(found.image_id)) & Image.digest.is_null()
            )
        else:
            await Rendition.update({Rendition.digest: digest}).where(
                (Rendition.id == found.rendition_id) & Rendition.digest.is_null()
            )
        return replace(found, digest=digest, size=size)

    def _digest_of(self, found: Located) -> tuple[str, int]:
        stream, size = self.storage.open(found.location, found.key)
        with stream:
            return objects.digest_chunks(stream), size

    def redirect_url(self, found: Located, *, not_after: datetime | None = None) -> str | None:
        """A presigned URL for `found`, or None to stream it.

        Signed at the start of the current window and valid for two windows, so
        every request in one window gets the very same URL (browsers and CDNs can
        cache it), which stays usable for at least a window after it was handed
        out. `not_after` caps its life (an expiring link's own expiry).
        """
        if self.redirect_window is None:
            return None
        window = self.redirect_window
        now = self.clock()
        signed_at = datetime.fromtimestamp(int(now.timestamp()) // window * window, UTC)
        lifetime = timedelta(seconds=2 * window)
        if not_after is not None:
            lifetime = max(timedelta(seconds=1), min(lifetime, not_after - signed_at))
        return self.storage.presign_get(
            found.location,
            found.key,
            lifetime,
            response_content_type=found.content_type,
            response_content_disposition=found.disposition,
            signed_at=signed_at,
        )

    @property
    def redirect_origin(self) -> str | None:
        """Where redirects lead (`scheme://host[:port]`), None when media is streamed;
        pages must allow images from there."""
        if self.redirect_window is None:
            return None
        origin: str | None = getattr(self.storage, "public_url", None)
        return origin

    def redirect_fresh_for(self) -> int:
        """Seconds until the current window ends (how long a redirect may be cached)."""
        window = self.redirect_window or 0
        if not window:
            return 0
        return window - int(self.clock().timestamp()) % window
