"""Delivery of stored objects: finding what a permitted request names (cached per
owner generation), and its bytes: from memory, streamed, or by a presigned URL."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
import msgspec

from imageuploader.accounts.users import CurrentUser
from imageuploader.clock import Clock, utcnow
from imageuploader.errors import Forbidden, NotFound, Unavailable
from imageuploader.images import access, objects
from imageuploader.images.cache import ImageCache
from imageuploader.images.locate import Choices, Located, choices_of, choose, split_format
from imageuploader.images.records import ImageRecord
from imageuploader.images.tables import Image, Rendition
from imageuploader.lru import BytesLRU
from imageuploader.storage import ObjectNotFound, Storage, StorageError


@dataclass(frozen=True)
class Opened:
    chunks: Iterator[bytes]
    size: int
    content_type: str
    filename: str


# Objects up to this size are answered from memory: a thumbnail's read and its
# thread hop cost more than the rest of the request.
SMALL_OBJECT_BYTES = 256 * 1024
MEMORY_BYTES = 64 * 1024 * 1024
MAX_OWNERS_KNOWN = 100_000


def object_memory() -> BytesLRU:
    """Small objects' bytes by (location, key, digest): keyed by digest, an entry can
    never answer for other bytes."""
    return BytesLRU(MEMORY_BYTES, SMALL_OBJECT_BYTES)


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
        self,
        storage: Storage,
        *,
        cache: ImageCache | None = None,
        owners: access.Owners | None = None,
        redirect_window: int | None = None,
        clock: Clock = utcnow,
        memory: BytesLRU | None = None,
    ) -> None:
        self.storage = storage
        self.cache = cache
        self.owners = owners
        self.redirect_window = redirect_window
        self.clock = clock
        self.memory = memory if memory is not None else object_memory()
        # Image id -> owner id: an image never changes hands, so this needs no invalidation.
        self._owner_of: dict[str, int] = {}

    async def find(
        self, user: CurrentUser, image_id: str, name: str, accept: str | None = None
    ) -> Located:
        """The object `name` of an image the user may see (theirs, or any for an admin)."""
        slug, _ = split_format(name)
        access.parse_image_id(image_id)  # only the canonical id may name a cache entry

        async def compute() -> tuple[Choices, bool]:
            image, plan = await access.visible_image(user, image_id)
            access.require_object(plan, slug)
            # An admin's look at someone else's image is not the owner's entry.
            return await self._choices_of(image, slug), image.owner == user.id

        # Stored under the viewer's generation only when the viewer owns the image,
        # so a hit here is always the viewer's own image.
        choices = await self._cached(user.id, image_id, slug, compute)
        plan = await access.owner_plan(user, choices.owner, self.owners)
        return choose(choices, name, plan, accept)

    async def find_shared(self, image_id: str, name: str, accept: str | None = None) -> Located:
        """The object `name` of any image, whoever asks (an expiring link vouches for
        them), while the owner's plan still includes expiring links."""
        slug, _ = split_format(name)
        owner = await self._owner(image_id)
        plan = await access.owner_plan(None, owner, self.owners)
        if not (plan and plan.expiring_links):
            raise Forbidden("This link is no longer valid.")

        async def compute() -> tuple[Choices, bool]:
            image, _ = await access.shared_image(image_id, self.owners)
            access.require_object(plan, slug)
            return await self._choices_of(image, slug), image.owner == owner

        choices = await self._cached(owner, image_id, slug, compute)
        return choose(choices, name, plan, accept)

    async def _owner(self, image_id: str) -> int:
        owner = self._owner_of.get(image_id)
        if owner is None:
            image, _ = await access.shared_image(image_id)
            owner = image.owner
            if len(self._owner_of) >= MAX_OWNERS_KNOWN:
                self._owner_of.clear()
            self._owner_of[image_id] = owner
        return owner

    async def _cached(
        self,
        owner: int,
        image_id: str,
        slug: str,
        compute: Callable[[], Awaitable[tuple[Choices, bool]]],
    ) -> Choices:
        if self.cache is None:
            choices, _ = await compute()
            return choices
        return await self.cache.fetch(owner, f"media:{image_id}:{slug}", Choices, compute)

    async def _choices_of(self, image: ImageRecord, slug: str) -> Choices:
        """The ready formats, each with its digest (computed now for rows older than
        digests), so that cached choices serve validators without touching storage."""
        choices = await choices_of(image, slug)
        ready = {fmt: await self.with_digest(found) for fmt, found in choices.ready.items()}
        return msgspec.structs.replace(choices, ready=ready)

    async def open(self, user: CurrentUser, image_id: str, name: str) -> Opened:
        return await self.open_located(await self.find(user, image_id, name))

    async def small_body(self, found: Located) -> bytes | None:
        """The whole object from this process's memory if it is small (reading and
        keeping it on a miss); None for a large object, which is streamed instead."""
        if not self.memory.holds(found.size) or found.digest is None:
            return None
        key = (found.location, found.key, found.digest)
        data = self.memory.get(key)
        if data is not None:
            return data
        with _storage_errors():
            data = await anyio.to_thread.run_sync(self._read_all, found)
        # Kept only if the bytes are the ones the row names: a remake may have
        # replaced the object under the same key before its row says so.
        if objects.digest(data) == found.digest:
            self.memory.put(key, data)
        return data

    def _read_all(self, found: Located) -> bytes:
        stream, _ = self.storage.open(found.location, found.key)
        with stream:
            return b"".join(stream)

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
        return msgspec.structs.replace(found, digest=digest, size=size)

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
