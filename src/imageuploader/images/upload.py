"""The upload use case: check the file, make the plan's primary rendition, store, queue the rest."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import anyio
import msgspec

from imageuploader import imaging
from imageuploader.accounts.schemas import PlanOut
from imageuploader.accounts.sizes import specs_for
from imageuploader.accounts.users import CurrentUser
from imageuploader.clock import utcnow
from imageuploader.errors import Forbidden, InvalidInput
from imageuploader.events import EventBus
from imageuploader.images import keys, objects, renditions, usage
from imageuploader.images.cache import ImageCache
from imageuploader.images.decode_slots import DecodeSlots
from imageuploader.images.jobs import Jobs
from imageuploader.images.library import ImageLibrary
from imageuploader.images.records import RenditionStatus
from imageuploader.images.schemas import UploadOut
from imageuploader.images.tables import Image, Rendition
from imageuploader.settings import Settings
from imageuploader.storage import Storage

MAX_CAPTION = 2000


@dataclass(frozen=True)
class Processed:
    info: imaging.ImageInfo
    primary: imaging.Rendered
    intermediate: bytes
    # Digests of the original and of the primary rendition, as stored.
    digest: str
    primary_digest: str
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
    digest: str,
) -> Processed:
    """CPU-bound: one decode for every size of the plan, the primary rendition, and
    the intermediate that spares workers a second decode of the original. `digest`
    is the original's, taken before (it finds duplicates)."""
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
        digest=digest,
        primary_digest=objects.digest(rendered.data),
        twins=tuple(imaging.twins(specs, primary, info.oriented_width, info.oriented_height)),
    )


def _parse_declared(resolution: str | None) -> tuple[int, int] | None:
    if resolution is None or not resolution.strip():
        return None
    try:
        return imaging.parse_resolution(resolution.strip())
    except ValueError as exc:
        raise InvalidInput(f"resolution: {exc}") from None


def _objects(image_id: str, data: bytes, done: Processed) -> list[objects.StoredObject]:
    primary = done.primary
    return [
        (keys.original_key(image_id), data, done.info.mime_type),
        (keys.rendition_key(image_id, primary.slug), primary.data, primary.content_type),
        (keys.intermediate_key(image_id), done.intermediate, "application/octet-stream"),
        *(
            (keys.rendition_key(image_id, twin), primary.data, primary.content_type)
            for twin in done.twins
        ),
    ]


@dataclass(frozen=True)
class Inserted:
    """What the locked insert did: stored a new image, or found the same bytes already there."""

    pending: list[int]
    duplicate_of: str | None = None


class UploadService:
    """Checks and stores uploads; storage, queue and cache are injected."""

    def __init__(
        self,
        settings: Settings,
        storage: Storage,
        jobs: Jobs,
        cache: ImageCache,
        library: ImageLibrary,
        events: EventBus | None = None,
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.jobs = jobs
        self.cache = cache
        self.library = library
        self.events = events
        self.decodes = DecodeSlots(settings.decode_concurrency, settings.decode_wait_seconds)

    async def upload(
        self, user: CurrentUser, data: bytes, caption: str, resolution: str | None
    ) -> UploadOut:
        """Store a new image of `user`'s and show it; the same bytes again give the image
        they already have (`duplicate`). Nothing is kept on any refusal."""
        plan = user.plan
        if plan is None or not plan.sizes or plan.primary_size is None:
            raise Forbidden("Your account has no plan with sizes; ask an administrator.")
        usage.check_upload_size(plan, len(data), self.settings.max_upload_bytes)
        caption = caption.strip()
        if len(caption) > MAX_CAPTION:
            raise InvalidInput(f"caption: at most {MAX_CAPTION} characters.")
        declared = _parse_declared(resolution)
        digest = await anyio.to_thread.run_sync(objects.digest, data)
        if existing := await usage.find_duplicate(user.id, digest):
            # The header checks still answer for this request (a declared resolution).
            await anyio.to_thread.run_sync(self._probe, data, declared)
            return await self._shown(user, existing, duplicate=True)
        # Early refusal before any decoding; the binding check is made under the lock.
        usage.check_room(plan, await usage.usage_of(user.id), len(data))
        specs = await specs_for(plan.sizes)
        if plan.primary_size not in specs:
            raise Forbidden("Your plan's primary size no longer exists; ask an administrator.")
        done = await self.decodes.run(
            _process,
            data,
            list(specs.values()),
            specs[plan.primary_size],
            self.settings,
            declared,
            digest,
        )
        image_id = str(uuid.uuid4())
        location = self.storage.locate(image_id)
        stored = _objects(image_id, data, done)
        await objects.put_all(self.storage, location, stored)
        try:
            inserted = await self._insert(
                user, image_id, location, caption, data, done, plan, stored
            )
        except BaseException:
            await objects.delete_logged(self.storage, location, [k for k, _, _ in stored])
            raise
        if inserted.duplicate_of is not None:
            # The same bytes arrived twice at once: the first one is the image.
            await objects.delete_logged(self.storage, location, [k for k, _, _ in stored])
            return await self._shown(user, inserted.duplicate_of, duplicate=True)
        await self.cache.invalidate(user.id)
        # The answer shows what this request made: read before the workers may
        # start, so a fast worker cannot make it depend on timing.
        answer = await self._shown(user, image_id, duplicate=False)
        await self.jobs.send_each(renditions.make_rendition, inserted.pending)
        if not inserted.pending:  # the plan's every size was made here, in the request
            await renditions.announce_settled(self.events, uuid.UUID(image_id), user.id)
        return answer

    def _probe(self, data: bytes, declared: tuple[int, int] | None) -> None:
        imaging.probe(
            data,
            max_pixels=self.settings.max_pixels,
            declared=declared,
            min_resolution=self.settings.upload_min_resolution,
        )

    async def _shown(self, user: CurrentUser, image_id: str, *, duplicate: bool) -> UploadOut:
        image = await self.library.get(user, image_id)
        return UploadOut(**msgspec.structs.asdict(image), duplicate=duplicate)

    async def _insert(
        self,
        user: CurrentUser,
        image_id: str,
        location: str,
        caption: str,
        data: bytes,
        done: Processed,
        plan: PlanOut,
        stored: list[objects.StoredObject],
    ) -> Inserted:
        """Under the owner's lock: find the same bytes, check the plan's limits with the
        usage as committed, insert the image and its renditions; return pending ids."""
        now = utcnow()
        primary = done.primary
        ident = uuid.UUID(image_id)
        async with usage.owner_locked(user.id):
            if existing := await usage.find_duplicate(user.id, done.digest):
                return Inserted(pending=[], duplicate_of=existing)
            usage.check_room(plan, await usage.usage_of(user.id), sum(len(b) for _, b, _ in stored))
            await Image.insert(
                Image(
                    id=ident,
                    owner=user.id,
                    caption=caption,
                    width=done.info.oriented_width,
                    height=done.info.oriented_height,
                    format=done.info.format,
                    mime_type=done.info.mime_type,
                    bytes=len(data),
                    location=location,
                    original_key=keys.original_key(image_id),
                    intermediate_key=keys.intermediate_key(image_id),
                    intermediate_bytes=len(done.intermediate),
                    created_at=now,
                    digest=done.digest,
                )
            )
            rows = [
                Rendition(
                    image=ident,
                    slug=slug,
                    status=RenditionStatus.PENDING.value,
                    created_at=now,
                    updated_at=now,
                )
                if slug not in done.ready
                else Rendition(
                    image=ident,
                    slug=slug,
                    status=RenditionStatus.READY.value,
                    width=primary.width,
                    height=primary.height,
                    bytes=len(primary.data),
                    format=primary.format,
                    key=keys.rendition_key(image_id, slug),
                    created_at=now,
                    updated_at=now,
                    digest=done.primary_digest,
                )
                for slug in plan.sizes
            ]
            await Rendition.insert(*rows)
        pending = await Rendition.select(Rendition.id).where(
            (Rendition.image == ident) & (Rendition.status == RenditionStatus.PENDING.value)
        )
        return Inserted(pending=[r["id"] for r in pending])
