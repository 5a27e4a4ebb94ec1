"""Image use cases for the web: upload (checks, primary rendition), list, read, delete."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio

from imageuploader import imaging
from imageuploader.accounts.schemas import PlanOut
from imageuploader.accounts.users import CurrentUser, load_user
from imageuploader.errors import DomainError, Forbidden, InvalidInput, NotFound, Unavailable
from imageuploader.images import keys
from imageuploader.images.cache import ImageCache, plan_fingerprint
from imageuploader.images.jobs import Jobs
from imageuploader.images.schemas import ImageOut, ImagePage, RenditionOut
from imageuploader.images.sizes import specs_for
from imageuploader.images.tables import Image, Rendition
from imageuploader.settings import Settings
from imageuploader.storage import Storage, StorageError

log = logging.getLogger(__name__)

MAX_CAPTION = 2000
MAX_PER_PAGE = 100
MAX_PAGE = 10**9  # far beyond any real gallery, far below an offset overflow


class PayloadTooLarge(DomainError):
    status_code = 413


@dataclass(frozen=True)
class Processed:
    info: imaging.ImageInfo
    primary: imaging.Rendered
    intermediate: bytes
    # Other sizes of the plan whose output is the primary's, pixel for pixel (Studio's
    # very-high and high on a landscape photo): stored now instead of made again.
    twins: tuple[str, ...] = ()

    @property
    def ready(self) -> tuple[str, ...]:
        return (self.primary.slug, *self.twins)


def _process(
    data: bytes,
    specs: list[imaging.SizeSpec],
    primary: imaging.SizeSpec,
    settings: Settings,
    declared: tuple[int, int] | None,
) -> Processed:
    """CPU-bound: one decode for every size of the plan, the primary rendition, and
    the intermediate that spares workers a second decode of the original."""
    decoded, rendered = imaging.decode_and_render(
        data,
        specs,
        primary,
        max_pixels=settings.max_pixels,
        declared=declared,
        min_resolution=settings.upload_min_resolution,
    )
    info = decoded.info
    return Processed(
        info=info,
        primary=rendered,
        intermediate=imaging.encode_intermediate(decoded),
        twins=tuple(imaging.twins(specs, primary, info.oriented_width, info.oriented_height)),
    )


def _parse_declared(resolution: str | None) -> tuple[int, int] | None:
    if resolution is None or not resolution.strip():
        return None
    try:
        return imaging.parse_resolution(resolution.strip())
    except ValueError as exc:
        raise InvalidInput(f"resolution: {exc}") from None


class ImageService:
    """Everything a request does with images; storage and queue are injected."""

    def __init__(
        self, settings: Settings, storage: Storage, jobs: Jobs, cache: ImageCache | None = None
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.jobs = jobs
        self.cache = cache

    async def upload(
        self, user: CurrentUser, data: bytes, caption: str, resolution: str | None
    ) -> ImageOut:
        plan = user.plan
        if plan is None or not plan.sizes or plan.primary_size is None:
            raise Forbidden("Your account has no plan with sizes; ask an administrator.")
        if len(data) > self.settings.max_upload_bytes:
            raise PayloadTooLarge(
                f"The file is {len(data):,} bytes; the limit is "
                f"{self.settings.max_upload_bytes:,} bytes."
            )
        caption = caption.strip()
        if len(caption) > MAX_CAPTION:
            raise InvalidInput(f"caption: at most {MAX_CAPTION} characters.")
        declared = _parse_declared(resolution)
        specs = await specs_for(plan.sizes)
        if plan.primary_size not in specs:
            raise Forbidden("Your plan's primary size no longer exists; ask an administrator.")
        done = await anyio.to_thread.run_sync(
            _process, data, list(specs.values()), specs[plan.primary_size], self.settings, declared
        )
        image_id = str(uuid.uuid4())
        location = self.storage.locate(image_id)
        objects = [
            (keys.original_key(image_id), data, done.info.mime_type),
            (
                keys.rendition_key(image_id, done.primary.slug),
                done.primary.data,
                done.primary.content_type,
            ),
            (keys.intermediate_key(image_id), done.intermediate, "application/octet-stream"),
            *(
                (keys.rendition_key(image_id, twin), done.primary.data, done.primary.content_type)
                for twin in done.twins
            ),
        ]
        await self._put_all(location, objects)
        try:
            pending = await self._insert(user, image_id, location, caption, len(data), done, plan)
        except BaseException:
            await self._delete_objects(location, [k for k, _, _ in objects])
            raise
        await self._invalidate(user.id)
        await self.jobs.render(pending)
        return await self.get(user, image_id)

    async def _put_all(self, location: str, objects: list[tuple[str, bytes, str]]) -> None:
        """Store every object at once: each put mostly waits (an fsync, a round trip to
        S3), so side by side the upload waits for the slowest, not for the sum."""
        failures: list[StorageError] = []

        async def put(key: str, body: bytes, content_type: str) -> None:
            try:
                await anyio.to_thread.run_sync(self.storage.put, location, key, body, content_type)
            except StorageError as exc:
                failures.append(exc)

        async with anyio.create_task_group() as group:
            for key, body, content_type in objects:
                group.start_soon(put, key, body, content_type)
        if failures:
            await self._delete_objects(location, [k for k, _, _ in objects])
            log.error("storage failed during upload: %s", failures[0])
            raise Unavailable("Storage is unavailable; nothing was saved. Try again later.")

    async def _delete_objects(self, location: str, object_keys: list[str]) -> None:
        try:
            await anyio.to_thread.run_sync(self.storage.delete_many, location, object_keys)
        except StorageError as exc:
            log.error("could not delete objects %s in %s: %s", object_keys, location, exc)

    async def _insert(
        self,
        user: CurrentUser,
        image_id: str,
        location: str,
        caption: str,
        size: int,
        done: Processed,
        plan: PlanOut,
    ) -> list[int]:
        """Insert the image and its renditions in one transaction; return pending ids."""
        now = datetime.now(UTC)
        primary = done.primary
        async with Image._meta.db.transaction():
            await Image.insert(
                Image(
                    id=uuid.UUID(image_id),
                    owner=user.id,
                    caption=caption,
                    width=done.info.oriented_width,
                    height=done.info.oriented_height,
                    format=done.info.format,
                    mime_type=done.info.mime_type,
                    bytes=size,
                    location=location,
                    original_key=keys.original_key(image_id),
                    intermediate_key=keys.intermediate_key(image_id),
                    created_at=now,
                )
            )
            rows = [
                Rendition(
                    image=uuid.UUID(image_id),
                    slug=slug,
                    status="pending",
                    created_at=now,
                    updated_at=now,
                )
                if slug not in done.ready
                else Rendition(
                    image=uuid.UUID(image_id),
                    slug=slug,
                    status="ready",
                    width=primary.width,
                    height=primary.height,
                    bytes=len(primary.data),
                    format=primary.format,
                    key=keys.rendition_key(image_id, slug),
                    created_at=now,
                    updated_at=now,
                )
                for slug in plan.sizes
            ]
            await Rendition.insert(*rows)
        pending = await Rendition.select(Rendition.id).where(
            (Rendition.image == uuid.UUID(image_id)) & (Rendition.status == "pending")
        )
        return [r["id"] for r in pending]

    async def list(self, user: CurrentUser, page: int, per_page: int) -> ImagePage:
        """The caller's images, newest first, in three queries whatever the page size."""
        if page < 1:
            raise InvalidInput("page: must be 1 or more.")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise InvalidInput(f"per_page: must be between 1 and {MAX_PER_PAGE}.")
        if page > MAX_PAGE:
            # The offset would overflow the database's 64-bit integers (a 500, not a 4xx).
            raise InvalidInput(f"page: must be at most {MAX_PAGE:,}.")

        async def compute() -> tuple[ImagePage, bool]:
            return await self._list(user, page, per_page), True

        if self.cache is None:
            return (await compute())[0]
        name = f"list:{plan_fingerprint(user.plan)}:{page}:{per_page}"
        return await self.cache.fetch(user.id, name, ImagePage, compute)

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
        items = await self._views(rows, user.plan)
        return ImagePage(items=items, page=page, per_page=per_page, total=total)

    async def _views(self, rows: list[dict], plan: PlanOut | None) -> list[ImageOut]:
        renditions: dict[str, dict[str, dict]] = defaultdict(dict)
        if rows:
            found = await Rendition.select().where(Rendition.image.is_in([r["id"] for r in rows]))
            for r in found:
                renditions[str(r["image"])][r["slug"]] = r
        return [_view(row, renditions[str(row["id"])], plan) for row in rows]

    async def _owned(self, user: CurrentUser, image_id: str) -> tuple[dict, PlanOut | None]:
        """The image row if the caller may see it (owner or admin), else NotFound."""
        try:
            key = uuid.UUID(image_id)
        except ValueError:
            raise NotFound("No such image.") from None
        row = await Image.select().where(Image.id == key).first()
        if row is None or (row["owner"] != user.id and not user.is_admin):
            # Someone else's image looks exactly like a missing one.
            raise NotFound("No such image.")
        if row["owner"] == user.id:
            return row, user.plan
        owner = await load_user(row["owner"])
        return row, owner.plan if owner else None

    async def get(self, user: CurrentUser, image_id: str) -> ImageOut:
        async def compute() -> tuple[ImageOut, bool]:
            row, plan = await self._owned(user, image_id)
            # Cached only under its owner: an admin's read must not fill their entry.
            return (await self._views([row], plan))[0], row["owner"] == user.id

        if self.cache is None:
            return (await compute())[0]
        name = f"image:{plan_fingerprint(user.plan)}:{image_id}"
        return await self.cache.fetch(user.id, name, ImageOut, compute)

    async def _invalidate(self, owner_id: int) -> None:
        if self.cache is not None:
            await self.cache.invalidate(owner_id)

    async def delete(self, user: CurrentUser, image_id: str) -> None:
        """Remove the rows, then every stored object of the image."""
        row, _ = await self._owned(user, image_id)
        slugs = [
            r["slug"]
            for r in await Rendition.select(Rendition.slug).where(Rendition.image == row["id"])
        ]
        async with Image._meta.db.transaction():
            await Rendition.delete().where(Rendition.image == row["id"])
            await Image.delete().where(Image.id == row["id"])
        await self._invalidate(row["owner"])
        ident = str(row["id"])
        object_keys = [keys.original_key(ident), keys.intermediate_key(ident)]
        object_keys += [keys.rendition_key(ident, s) for s in slugs]
        await self._delete_objects(row["location"], object_keys)


def _view(row: dict, renditions: dict[str, dict], plan: PlanOut | None) -> ImageOut:
    """Shape one image for the API: only the renditions the plan includes."""
    ident = str(row["id"])
    out: list[RenditionOut] = []
    for slug in plan.sizes if plan else []:
        r = renditions.get(slug)
        out.append(
            RenditionOut(
                slug=slug,
                status=r["status"] if r else "pending",
                width=r["width"] if r else None,
                height=r["height"] if r else None,
                format=r["format"] if r else None,
                bytes=r["bytes"] if r else None,
                url=keys.media_url(ident, slug),
                error=r["error"] if r else None,
            )
        )
    return ImageOut(
        id=ident,
        caption=row["caption"],
        width=row["width"],
        height=row["height"],
        format=row["format"],
        bytes=row["bytes"],
        created_at=row["created_at"],
        renditions=out,
        original_url=keys.media_url(ident, keys.ORIGINAL) if plan and plan.original_link else None,
    )
