"""Rendition variants in extra output formats (WebP, AVIF): rows, background work, backfill.

The JPEG rendition stays the fallback every client can read; a variant is the
same rendition (same size, same pixels source) encoded again by a worker, and
stored under its own key with the SHA-256 of its bytes as its validator.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import anyio

from imageuploader import imaging
from imageuploader.accounts.plans import stored_formats
from imageuploader.accounts.tables import Plan, User
from imageuploader.clock import utcnow
from imageuploader.images import backlog, keys, objects, renditions
from imageuploader.images.records import RenditionStatus
from imageuploader.images.renditions import PERMANENT, WorkerContext, _describe, _invalidate
from imageuploader.images.tables import Image, Variant
from imageuploader.imaging import formats as output_formats
from imageuploader.imaging import variants as encoders
from imageuploader.storage import ObjectNotFound

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VariantJob:
    """One variant to make, with what the worker needs of its rendition, image and size."""

    variant_id: int
    status: RenditionStatus
    format: str
    attempts: int
    slug: str
    image_id: uuid.UUID
    owner: int
    location: str
    image_format: str
    image_width: int
    image_height: int
    original_key: str
    intermediate_key: str | None
    spec: imaging.SizeSpec | None

    @property
    def key(self) -> str:
        ext = output_formats.EXTENSIONS[self.format]
        return keys.variant_key(str(self.image_id), self.slug, ext)


JOB_SQL = """
SELECT rendition_variants.status, rendition_variants.format, rendition_variants.attempts,
       renditions.slug, images.id AS image_id, images.owner, images.location,
       images.format AS image_format, images.width AS image_width,
       images.height AS image_height, images.original_key, images.intermediate_key,
       sizes.id AS size_id, sizes.width AS size_width, sizes.height AS size_height, sizes.fit
FROM rendition_variants
JOIN renditions ON renditions.id = rendition_variants.rendition
JOIN images ON images.id = renditions.image
LEFT JOIN sizes ON sizes.slug = renditions.slug
WHERE rendition_variants.id = {}
"""


async def _load_job(variant_id: int) -> VariantJob | None:
    found = await Variant.raw(JOB_SQL, variant_id)
    if not found:
        return None
    row = found[0]
    return VariantJob(
        variant_id=variant_id,
        status=RenditionStatus(row["status"]),
        format=row["format"],
        attempts=row["attempts"],
        slug=row["slug"],
        image_id=uuid.UUID(str(row["image_id"])),
        owner=row["owner"],
        location=row["location"],
        image_format=row["image_format"],
        image_width=row["image_width"],
        image_height=row["image_height"],
        original_key=row["original_key"],
        intermediate_key=row["intermediate_key"],
        spec=renditions.spec_of(row),
    )


def _decoded(ctx: WorkerContext, job: VariantJob, spec: imaging.SizeSpec) -> imaging.Decoded:
    """The stored intermediate if it covers the size, else the original decoded again."""
    if job.intermediate_key:
        try:
            decoded = imaging.decode_intermediate(
                ctx.storage.get(job.location, job.intermediate_key)
            )
        except (ObjectNotFound, imaging.CorruptImage):
            decoded = None
        if decoded is not None and imaging.covers(decoded, spec):
            return decoded
    original = ctx.storage.get(job.location, job.original_key)
    limit = max(ctx.max_pixels, job.image_width * job.image_height)
    return imaging.decode(original, [spec], max_pixels=limit)


def _render(ctx: WorkerContext, job: VariantJob, spec: imaging.SizeSpec) -> imaging.Rendered:
    """CPU and storage work in a thread: an animated WebP from the original's frames
    when the source animates within the pixel limit, else one frame from the intermediate."""
    if job.format == output_formats.WEBP and job.image_format in encoders.ANIMATED_SOURCES:
        original = ctx.storage.get(job.location, job.original_key)
        info = imaging.probe(original, max_pixels=max(ctx.max_pixels, 1))
        if encoders.animates(info, ctx.max_pixels):
            return encoders.render_animated(original, info, spec)
    return encoders.render_variant(_decoded(ctx, job, spec), spec, job.format)


def _render_and_store(
    ctx: WorkerContext, job: VariantJob, spec: imaging.SizeSpec
) -> tuple[imaging.Rendered, str]:
    rendered = _render(ctx, job, spec)
    ctx.storage.put(job.location, job.key, rendered.data, rendered.content_type)
    return rendered, objects.digest(rendered.data)


async def make_variant(ctx: WorkerContext, variant_id: int) -> str:
    """Make one variant; idempotent (a ready one is left alone). Returns the outcome.

    Errors that may pass are recorded and raised for the queue to retry;
    `give_up_variant` marks the row failed when the retries run out.
    """
    job = await _load_job(variant_id)
    if job is None:
        return "gone"
    if job.status is RenditionStatus.READY:
        return "already-ready"
    if job.spec is None:
        await _fail(variant_id, f"The size {job.slug!r} no longer exists.")
        await _settled(ctx, job)
        return "failed"
    try:
        rendered, digest = await anyio.to_thread.run_sync(_render_and_store, ctx, job, job.spec)
    except PERMANENT as exc:
        await _fail(variant_id, _describe(exc))
        await _settled(ctx, job)
        return "failed"
    except Exception as exc:
        await Variant.update(
            {Variant.attempts: job.attempts + 1, Variant.error: _describe(exc)}
        ).where(Variant.id == variant_id)
        raise
    done = (
        await Variant.update(
            {
                Variant.status: RenditionStatus.READY.value,
                Variant.bytes: len(rendered.data),
                Variant.key: job.key,
                Variant.digest: digest,
                Variant.error: None,
                Variant.attempts: job.attempts + 1,
                Variant.updated_at: utcnow(),
            }
        )
        .where(Variant.id == variant_id)
        .returning(Variant.id)
    )
    if not done:
        # The image was deleted while we worked: do not leave an orphan behind.
        await anyio.to_thread.run_sync(ctx.storage.delete, job.location, job.key)
        return "gone"
    await _settled(ctx, job)
    return "ready"


async def _settled(ctx: WorkerContext, job: VariantJob) -> None:
    """A variant is done: drop the owner's cached views, and if it was the image's last
    pending piece, announce the image (image.ready/failed wait for variants too)."""
    await _invalidate(ctx, job.owner)
    await renditions.announce_settled(ctx.events, job.image_id, job.owner)


async def give_up_variant(ctx: WorkerContext, variant_id: int) -> str:
    """After the last retry: mark a still-pending variant failed, keeping its last error."""
    row = (
        await Variant.select(Variant.status, Variant.error).where(Variant.id == variant_id).first()
    )
    if row is None or row["status"] != RenditionStatus.PENDING.value:
        return "gone" if row is None else "already-done"
    await _fail(variant_id, row["error"] or "Gave up after repeated failures.", count=False)
    job = await _load_job(variant_id)
    if job is not None:
        await _settled(ctx, job)
    return "failed"


async def _fail(variant_id: int, error: str, *, count: bool = True) -> None:
    log.warning("variant %s failed: %s", variant_id, error)
    values = {
        Variant.status: RenditionStatus.FAILED.value,
        Variant.error: error,
        Variant.updated_at: utcnow(),
    }
    if count:
        values[Variant.attempts] = Variant.attempts + 1
    await Variant.update(values).where(Variant.id == variant_id)


async def create_for(
    rendition_ids: Iterable[int], formats: Iterable[str], fallback: str = output_formats.JPEG
) -> list[int]:
    """Pending variant rows for these renditions in each extra format that is not already
    their fallback (WebP for a source with alpha); returns their ids."""
    extra = [f for f in output_formats.extras(formats) if f != fallback]
    now = utcnow()
    rows = [
        Variant(
            rendition=rendition_id,
            format=fmt,
            status=RenditionStatus.PENDING.value,
            created_at=now,
            updated_at=now,
        )
        for rendition_id in rendition_ids
        for fmt in extra
    ]
    if not rows:
        return []
    # Backfills may find the same gap at once: the unique (rendition, format) index
    # keeps one row, and only rows inserted here come back.
    created = await Variant.insert(*rows).on_conflict(action="DO NOTHING").returning(Variant.id)
    return [r["id"] for r in created]


MISSING_SQL = """
SELECT renditions.id AS rendition_id
FROM renditions
JOIN images ON images.id = renditions.image
JOIN users ON users.id = images.owner
WHERE users.plan = {{}}
AND COALESCE(renditions.format, '') != {{}}
AND NOT EXISTS (
    SELECT 1 FROM rendition_variants
    WHERE rendition_variants.rendition = renditions.id AND rendition_variants.format = {{}}
)
{where}
LIMIT {limit}
"""


async def create_missing(
    *, user_id: int | None = None, plan_name: str | None = None, limit: int = 1000
) -> list[int]:
    """Pending rows for the variants that renditions of a plan's (or a user's) images lack
    in the plan's formats; returns their ids. Callers loop until it returns nothing."""
    if user_id is not None:
        row = await User.select(User.plan).where(User.id == user_id).first()
        plan_id = row["plan"] if row else None
    else:
        row = await Plan.select(Plan.id).where(Plan.name == plan_name).first()
        plan_id = row["id"] if row else None
    if plan_id is None:
        return []
    plan = await Plan.select(Plan.formats).where(Plan.id == plan_id).first()
    created: list[int] = []
    for fmt in output_formats.extras(stored_formats(plan["formats"] if plan else None)):
        where, args = "", [plan_id, fmt, fmt]
        if user_id is not None:
            where, args = "AND users.id = {}", [*args, user_id]
        # Only our own fragments are formatted in ({{}} stays a Piccolo parameter).
        query = MISSING_SQL.format(where=where, limit=int(limit))
        missing = await Image.raw(query, *args)
        created += await create_for([m["rendition_id"] for m in missing], [fmt])
    return created


async def stale_pending(cutoff: datetime, *, after_id: int = 0, limit: int = 1000) -> list[int]:
    """Stale pending variants (`backlog.stale_rows`)."""
    return await backlog.stale_rows(Variant, cutoff, after_id=after_id, limit=limit)


async def reset_for_reprocess(*, everything: bool) -> list[int]:
    """Mark variants pending again: all of them, or only the failed ones; returns every
    pending variant's id (those reset and those a lost message left pending)."""
    return await backlog.reset_rows(Variant, everything=everything)


async def backfill_plan(ctx: WorkerContext, plan_name: str) -> None:
    """The renditions a plan's users' images lack, then the variants of its formats."""
    await backlog.backfill_plan(ctx, plan_name)
    while created := await create_missing(plan_name=plan_name):
        await ctx.jobs.send_each(make_variant, created)


async def backfill_user(ctx: WorkerContext, user_id: int) -> None:
    """After a change of plan: one user's missing renditions, then missing variants."""
    await backlog.backfill_user(ctx, user_id)
    while created := await create_missing(user_id=user_id):
        await ctx.jobs.send_each(make_variant, created)


async def remake_size(ctx: WorkerContext, slug: str) -> None:
    """After a size edit: remake its renditions, and mark their variants pending and
    queue them (new bytes, so new digests and ETags)."""
    await backlog.remake_size(ctx, slug)
    last = 0
    while True:
        rows = (
            await Variant.select(Variant.id)
            .where((Variant.rendition.slug == slug) & (Variant.id > last))
            .order_by(Variant.id)
            .limit(backlog.REMAKE_CHUNK)
        )
        if not rows:
            return
        ids = [r["id"] for r in rows]
        await Variant.update(backlog.pending_again(Variant)).where(Variant.id.is_in(ids))
        await ctx.jobs.send_each(make_variant, ids)
        last = ids[-1]
