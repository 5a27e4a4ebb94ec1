"""Background rendition work: make one rendition, or give up on one (backlog.py finds
and queues the ones that are due)."""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio

from imageuploader import imaging
from imageuploader.accounts.tables import Size
from imageuploader.clock import utcnow
from imageuploader.events import EventBus
from imageuploader.images import deletions, keys, objects
from imageuploader.images.cache import ImageCache
from imageuploader.images.events import ImageFailed, ImageReady
from imageuploader.images.jobs import Jobs
from imageuploader.images.records import RenditionStatus
from imageuploader.images.tables import Image, Rendition, Variant
from imageuploader.storage import ObjectNotFound, Storage

log = logging.getLogger(__name__)

MAX_ERROR = 500
# Errors that another attempt cannot fix: fail the rendition at once.
PERMANENT = (imaging.ImagingError, ObjectNotFound)


@dataclass(frozen=True)
class WorkerContext:
    """What every task needs, built once per process by the composition root."""

    storage: Storage
    max_pixels: int
    jobs: Jobs
    # Views of the owner's images change with every status written here.
    cache: ImageCache | None = None
    # Run before each job (a worker opens its database pool here).
    prepare: Callable[[], Awaitable[None]] | None = None
    # Where an image whose renditions have all settled is announced.
    events: EventBus | None = None
    # Webhook deliveries may reach private addresses (WEBHOOK_ALLOW_PRIVATE).
    webhook_allow_private: bool = False


@dataclass(frozen=True)
class RenderJob:
    """One rendition to make, with what the worker needs of its image and size."""

    rendition_id: int
    status: RenditionStatus
    slug: str
    attempts: int
    image_id: uuid.UUID
    owner: int
    location: str
    image_width: int
    image_height: int
    original_key: str
    intermediate_key: str | None
    spec: imaging.SizeSpec | None

    @property
    def key(self) -> str:
        return keys.rendition_key(str(self.image_id), self.slug)


def _render(ctx: WorkerContext, job: RenderJob, spec: imaging.SizeSpec) -> imaging.Rendered:
    """CPU and storage work in a thread: prefer the intermediate, else the original."""
    if job.intermediate_key:
        try:
            decoded = imaging.decode_intermediate(
                ctx.storage.get(job.location, job.intermediate_key)
            )
        except (ObjectNotFound, imaging.CorruptImage):
            decoded = None
        if decoded is not None and imaging.covers(decoded, spec):
            return imaging.render(decoded, spec)
    original = ctx.storage.get(job.location, job.original_key)
    # The original was accepted at upload; a later, lower MAX_PIXELS must not strand it.
    limit = max(ctx.max_pixels, job.image_width * job.image_height)
    return imaging.render(imaging.decode(original, [spec], max_pixels=limit), spec)


def _render_and_store(
    ctx: WorkerContext, job: RenderJob, spec: imaging.SizeSpec
) -> tuple[imaging.Rendered, str]:
    """One thread hop for all three (each hop is a GIL hand-over on a busy worker core);
    returns the rendition and the digest of the bytes stored."""
    rendered = _render(ctx, job, spec)
    ctx.storage.put(job.location, job.key, rendered.data, rendered.content_type)
    return rendered, objects.digest(rendered.data)


async def _invalidate(ctx: WorkerContext, owner: int | None) -> None:
    if owner is not None and ctx.cache is not None:
        await ctx.cache.invalidate(owner)


async def make_rendition(ctx: WorkerContext, rendition_id: int) -> str:
    """Make one rendition; idempotent (a ready one is left alone). Returns the outcome.

    An error another attempt may fix is recorded on the row and raised, so the
    queue retries; when the retries run out, `give_up` marks the row failed.
    """
    job = await _load_job(rendition_id)
    if job is None:
        return "gone"
    if job.status is RenditionStatus.READY:
        return "already-ready"
    try:
        outcome = await _make(ctx, job)
    except Exception as exc:
        await Rendition.update(
            {Rendition.attempts: job.attempts + 1, Rendition.error: _describe(exc)}
        ).where(Rendition.id == rendition_id)
        # The view shows the error text; the retry raises on.
        await _invalidate(ctx, job.owner)
        raise
    await _invalidate(ctx, job.owner if outcome != "gone" else None)
    if outcome != "gone":
        await announce_settled(ctx.events, job.image_id, job.owner)
    return outcome


async def _make(ctx: WorkerContext, job: RenderJob) -> str:
    if job.spec is None:
        await _fail(job.rendition_id, job.slug, f"The size {job.slug!r} no longer exists.")
        return "failed"
    try:
        rendered, digest = await anyio.to_thread.run_sync(_render_and_store, ctx, job, job.spec)
    except PERMANENT as exc:
        if isinstance(exc, ObjectNotFound):
            now = await _load_job(job.rendition_id)
            if now is not None and now.location != job.location:
                # A rebalance moved the image since the job was loaded: redo it there.
                return await _make(ctx, now)
        await _fail(job.rendition_id, job.slug, _describe(exc))
        return "failed"
    done = (
        await Rendition.update(
            {
                Rendition.status: RenditionStatus.READY.value,
                Rendition.width: rendered.width,
                Rendition.height: rendered.height,
                Rendition.bytes: len(rendered.data),
                Rendition.format: rendered.format,
                Rendition.key: job.key,
                Rendition.digest: digest,
                Rendition.error: None,
                Rendition.attempts: job.attempts + 1,
                Rendition.updated_at: utcnow(),
            }
        )
        .where((Rendition.id == job.rendition_id) & Rendition.slug.is_in(_same_size(job.spec)))
        .returning(Rendition.id)
    )
    if done:
        await _follow_a_move(ctx, job, rendered)
        return "ready"
    if await Rendition.exists().where(Rendition.id == job.rendition_id):
        # The size was edited while we rendered: these bytes follow the old box. The row
        # stays pending (unserved) for the remake the edit queued.
        return "superseded"
    # The image was deleted while we worked: do not leave an orphan behind, even if
    # storage fails now (the reconciler retries recorded removals).
    pending = await deletions.record(str(job.image_id), job.location, [job.key])
    await deletions.purge(ctx.storage, [pending])
    return "gone"


def _same_size(spec: imaging.SizeSpec) -> Any:
    """A sub-select naming the size only while it still has `spec`'s box and fit, so a
    render of an outdated spec is never marked ready (checked in the same statement)."""
    where = (Size.slug == spec.slug) & (Size.fit == spec.fit)
    for column, value in ((Size.width, spec.width), (Size.height, spec.height)):
        where &= column.is_null() if value is None else column == value
    return Size.select(Size.slug).where(where)


async def _follow_a_move(ctx: WorkerContext, job: RenderJob, rendered: imaging.Rendered) -> None:
    """A rebalance that moved the image while we rendered did not know this key: write
    it where the image is now and remove it from where it was. (A rebalance committing
    after this check re-reads the image's keys and moves it itself.)"""
    row = await Image.select(Image.location).where(Image.id == job.image_id).first()
    if row is None or row["location"] == job.location:
        return
    await anyio.to_thread.run_sync(
        ctx.storage.put, row["location"], job.key, rendered.data, rendered.content_type
    )
    pending = await deletions.record(str(job.image_id), job.location, [job.key])
    await deletions.purge(ctx.storage, [pending])


async def give_up(ctx: WorkerContext, rendition_id: int) -> str:
    """After the last retry: mark a still-pending rendition failed, keeping its last error."""
    job = await _load_job(rendition_id)
    if job is None or job.status is not RenditionStatus.PENDING:
        return "gone" if job is None else "already-done"
    row = await Rendition.select(Rendition.error).where(Rendition.id == rendition_id).first()
    error = (row or {}).get("error") or "Gave up after repeated failures."
    await _fail(rendition_id, job.slug, error, attempts=job.attempts)
    await _invalidate(ctx, job.owner)
    await announce_settled(ctx.events, job.image_id, job.owner)
    return "failed"


async def announce_settled(events: EventBus | None, image_id: uuid.UUID, owner: int) -> None:
    """Publish ImageReady (all ready) or ImageFailed (some failed) once none is pending.

    Settled means the renditions and their WebP/AVIF variants: the event carries
    the image as the API shows it, so it waits for the last variant too (a variant
    worker calls this as well). Ready or failed follows the renditions; a failed
    variant still has its JPEG fallback.

    Two workers finishing an image's last renditions together may both see it
    settled; they see the same rows, so the same `version`, and listeners
    treat the second as a repeat.
    """
    if events is None:
        return
    rows = (
        await Rendition.select(Rendition.id, Rendition.status, Rendition.updated_at)
        .where(Rendition.image == image_id)
        .order_by(Rendition.id)
    )
    statuses = {r["status"] for r in rows}
    if not rows or RenditionStatus.PENDING.value in statuses:
        return
    extra = (
        await Variant.select(Variant.id, Variant.status, Variant.updated_at)
        .where(Variant.rendition.image == image_id)
        .order_by(Variant.id)
    )
    if any(v["status"] == RenditionStatus.PENDING.value for v in extra):
        return
    state = ";".join(f"{r['id']},{r['status']},{r['updated_at']}" for r in rows)
    state += "|" + ";".join(f"{v['id']},{v['status']},{v['updated_at']}" for v in extra)
    version = hashlib.sha256(state.encode()).hexdigest()[:16]
    kind = ImageReady if statuses == {RenditionStatus.READY.value} else ImageFailed
    await events.publish(kind(image_id=str(image_id), owner=owner, version=version))


JOB_SQL = """
SELECT renditions.status, renditions.slug, renditions.attempts,
       images.id AS image_id, images.owner, images.location, images.width AS image_width,
       images.height AS image_height, images.original_key, images.intermediate_key,
       sizes.id AS size_id, sizes.width AS size_width, sizes.height AS size_height, sizes.fit
FROM renditions
JOIN images ON images.id = renditions.image
LEFT JOIN sizes ON sizes.slug = renditions.slug
WHERE renditions.id = {}
"""


async def _load_job(rendition_id: int) -> RenderJob | None:
    """The rendition, its image and its size in one query (a worker runs this per job,
    and round trips to the database were a large share of a small rendition's cost)."""
    found = await Rendition.raw(JOB_SQL, rendition_id)
    if not found:
        return None
    row = found[0]
    return RenderJob(
        rendition_id=rendition_id,
        status=RenditionStatus(row["status"]),
        slug=row["slug"],
        attempts=row["attempts"],
        image_id=uuid.UUID(str(row["image_id"])),
        owner=row["owner"],
        location=row["location"],
        image_width=row["image_width"],
        image_height=row["image_height"],
        original_key=row["original_key"],
        intermediate_key=row["intermediate_key"],
        spec=spec_of(row),
    )


def spec_of(row: dict[str, Any]) -> imaging.SizeSpec | None:
    """The size a job row names (None once the size is deleted), from the job query's
    `size_*` columns."""
    if row["size_id"] is None:
        return None
    return imaging.SizeSpec(
        slug=row["slug"], width=row["size_width"], height=row["size_height"], fit=row["fit"]
    )


def _describe(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return text[:MAX_ERROR]


async def _fail(rendition_id: int, slug: str, error: str, *, attempts: int | None = None) -> None:
    """Mark failed; `attempts` None counts this run as one more attempt."""
    log.warning("rendition %s (%s) failed: %s", rendition_id, slug, error)
    await Rendition.update(
        {
            Rendition.status: RenditionStatus.FAILED.value,
            Rendition.error: error,
            Rendition.attempts: Rendition.attempts + 1 if attempts is None else attempts,
            Rendition.updated_at: utcnow(),
        }
    ).where(Rendition.id == rendition_id)
