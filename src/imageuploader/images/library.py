"""A user's images: the paged list, one image with its renditions, and deleting one."""

from __future__ import annotations

from collections import defaultdict

from imageuploader.accounts.schemas import PlanOut
from imageuploader.accounts.users import CurrentUser
from imageuploader.errors import InvalidInput
from imageuploader.events import EventBus
from imageuploader.images import access, deletions, keys, objects, usage
from imageuploader.images.cache import ImageCache, plan_fingerprint
from imageuploader.images.events import ImageDeleted
from imageuploader.images.records import (
    ImageRecord,
    RenditionRecord,
    RenditionStatus,
    VariantRecord,
)
from imageuploader.images.schemas import FormatOut, ImageOut, ImagePage, RenditionOut
from imageuploader.images.tables import Image, Rendition, Variant
from imageuploader.imaging import formats as output_formats
from imageuploader.storage import Storage

MAX_PER_PAGE = 100
MAX_PAGE = 10**9  # far beyond any real gallery, far below an offset overflow


# A list without page or per_page gets these.
DEFAULT_PAGE = 1
DEFAULT_PER_PAGE = 20


class ImageLibrary:
    """Reads go through the per-owner cache; every change invalidates it."""

    def __init__(self, storage: Storage, cache: ImageCache, events: EventBus | None = None) -> None:
        self.storage = storage
        self.cache = cache
        self.events = events

    async def list(self, user: CurrentUser, page: int, per_page: int) -> ImagePage:
        """The caller's images, newest first, in three queries whatever the page size."""
        self._check_page(page, per_page)

        async def compute() -> tuple[ImagePage, bool]:
            return await self._list(user, page, per_page), True

        name = f"list:{plan_fingerprint(user.plan)}:{page}:{per_page}"
        return await self.cache.fetch(user.id, name, ImagePage, compute)

    async def list_json(self, user: CurrentUser, page: int, per_page: int) -> bytes:
        """`list` as the JSON of an ImagePage, straight from the cache when it is there."""
        self._check_page(page, per_page)

        async def compute() -> tuple[ImagePage, bool]:
            return await self._list(user, page, per_page), True

        name = f"list:{plan_fingerprint(user.plan)}:{page}:{per_page}"
        return await self.cache.fetch_json(user.id, name, compute)

    async def usage(self, user_id: int) -> usage.Usage:
        """What the user stores, for display; cached with their views, which every
        change to their images invalidates. Limits are checked on `usage.usage_of`."""

        async def compute() -> tuple[usage.Usage, bool]:
            return await usage.usage_of(user_id), True

        return await self.cache.fetch(user_id, "usage", usage.Usage, compute)

    @staticmethod
    def _check_page(page: int, per_page: int) -> None:
        if page < 1:
            raise InvalidInput("page: must be 1 or more.")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise InvalidInput(f"per_page: must be between 1 and {MAX_PER_PAGE}.")
        if page > MAX_PAGE:
            # The offset would overflow the database's 64-bit integers (a 500, not a 4xx).
            raise InvalidInput(f"page: must be at most {MAX_PAGE:,}.")

    async def _list(self, user: CurrentUser, page: int, per_page: int) -> ImagePage:
        total = await Image.count().where(Image.owner == user.id)
        rows = (
            await Image.select()
            .where(Image.owner == user.id)
            .order_by(Image.created_at, ascending=False)
            .order_by(Image.id)
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
        items = await _views([ImageRecord.from_row(r) for r in rows], user.plan)
        return ImagePage(items=items, page=page, per_page=per_page, total=total)

    async def get(self, user: CurrentUser, image_id: str) -> ImageOut:
        async def compute() -> tuple[ImageOut, bool]:
            image, plan = await access.visible_image(user, image_id)
            # Cached only under its owner: an admin's read must not fill their entry.
            return (await _views([image], plan))[0], image.owner == user.id

        # Checked before the cache: only the canonical id may name an entry.
        ident = str(access.parse_image_id(image_id))
        name = f"image:{plan_fingerprint(user.plan)}:{ident}"
        return await self.cache.fetch(user.id, name, ImageOut, compute)

    async def view(self, user: CurrentUser, image_id: str) -> ImageOut:
        """As `get`, read from the database: for notices that must not show a stale status."""
        image, plan = await access.visible_image(user, image_id)
        return (await _views([image], plan))[0]

    async def delete(self, user: CurrentUser, image_id: str) -> None:
        """Remove the rows and record their objects for removal in one transaction, then
        try the removal; if storage is down, the reconciler's sweep retries it."""
        image, _ = await access.visible_image(user, image_id)
        slugs = [
            r["slug"]
            for r in await Rendition.select(Rendition.slug).where(Rendition.image == image.id)
        ]
        async with Image._meta.db.transaction():
            await Rendition.delete().where(Rendition.image == image.id)
            # The location as the row had it when deleted: a rebalance may have moved it.
            gone = await Image.delete().where(Image.id == image.id).returning(Image.location)
            location = gone[0]["location"] if gone else image.location
            pending = await deletions.record(
                image.ident, location, objects.image_keys(image.ident, slugs)
            )
        await self.cache.invalidate(image.owner)
        await deletions.purge(self.storage, [pending])
        if self.events is not None:
            await self.events.publish(ImageDeleted(image_id=image.ident, owner=image.owner))


async def _views(images: list[ImageRecord], plan: PlanOut | None) -> list[ImageOut]:
    """Views of several images in two queries, whatever their number."""
    by_image: dict[str, dict[str, RenditionRecord]] = defaultdict(dict)
    by_rendition: dict[int, list[VariantRecord]] = defaultdict(list)
    if images:
        found = await Rendition.select().where(Rendition.image.is_in([i.id for i in images]))
        for row in found:
            rendition = RenditionRecord.from_row(row)
            by_image[str(rendition.image)][rendition.slug] = rendition
        if plan and output_formats.extras(plan.formats):
            ids = [r.id for found in by_image.values() for r in found.values()]
            for row in (
                await Variant.select()
                .where(Variant.rendition.is_in(ids or [-1]))
                .order_by(Variant.id)
            ):
                variant = VariantRecord.from_row(row)
                by_rendition[variant.rendition].append(variant)
    return [_view(image, by_image[image.ident], by_rendition, plan) for image in images]


def _formats_out(
    image_id: str, slug: str, r: RenditionRecord | None, found: list[VariantRecord], plan: PlanOut
) -> list[FormatOut]:
    """The fallback, then each extra format the plan lists (pending until a worker makes it)."""
    fallback = (r.format if r else None) or output_formats.JPEG
    out = [
        FormatOut(
            format=fallback,
            status=r.status if r else RenditionStatus.PENDING,
            bytes=r.bytes if r else None,
            url=keys.media_url(
                image_id,
                slug,
                r.digest if r and r.status == RenditionStatus.READY else None,
                extension=output_formats.EXTENSIONS[fallback],
            ),
        )
    ]
    made = {v.format: v for v in found}
    for fmt in output_formats.extras(plan.formats):
        if fmt == fallback:
            continue  # a source with alpha already falls back to WebP
        v = made.get(fmt)
        out.append(
            FormatOut(
                format=fmt,
                status=v.status if v else RenditionStatus.PENDING,
                bytes=v.bytes if v else None,
                url=keys.media_url(
                    image_id,
                    slug,
                    v.digest if v and v.status == RenditionStatus.READY else None,
                    extension=output_formats.EXTENSIONS[fmt],
                ),
            )
        )
    return out


def _rendition_out(
    image_id: str,
    slug: str,
    r: RenditionRecord | None,
    found: list[VariantRecord],
    plan: PlanOut,
) -> RenditionOut:
    """A rendition the plan includes; one without a row yet (a backfill to come) is pending."""
    width, height, fmt, size, error = (
        (r.width, r.height, r.format, r.bytes, r.error) if r else (None, None, None, None, None)
    )
    # Only a ready rendition's digest names the bytes served (a pending one is a remake).
    digest = r.digest if r and r.status is RenditionStatus.READY else None
    return RenditionOut(
        slug=slug,
        status=r.status if r else RenditionStatus.PENDING,
        width=width,
        height=height,
        format=fmt,
        bytes=size,
        url=keys.media_url(image_id, slug, digest),
        error=error,
        formats=_formats_out(image_id, slug, r, found, plan),
    )


def _view(
    image: ImageRecord,
    renditions: dict[str, RenditionRecord],
    variants: dict[int, list[VariantRecord]],
    plan: PlanOut | None,
) -> ImageOut:
    """Shape one image for the API: only the renditions the plan includes."""
    ident = image.ident
    return ImageOut(
        id=ident,
        caption=image.caption,
        width=image.width,
        height=image.height,
        format=image.format,
        bytes=image.bytes,
        created_at=image.created_at,
        renditions=[
            _rendition_out(ident, s, r, variants[r.id] if r else [], plan)
            for s in (plan.sizes if plan else [])
            for r in [renditions.get(s)]
        ],
        original_url=(
            keys.media_url(ident, keys.ORIGINAL, image.digest)
            if plan and plan.original_link
            else None
        ),
        expiring_links=bool(plan and plan.expiring_links),
        keep_metadata=image.keep_metadata,
        placeholder=image.placeholder,
    )
