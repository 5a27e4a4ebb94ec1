"""Background rendition work: make one rendition, fill in missing ones, reconcile."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio

from imageuploader import imaging
from imageuploader.images import keys
from imageuploader.images.cache import ImageCache
from imageuploader.images.tables import Image, Rendition
from imageuploader.storage import ObjectNotFound, Storage

log = logging.getLogger(__name__)

MAX_ERROR = 500
# Errors that another attempt cannot fix: fail the rendition at once.
PERMANENT = (imaging.ImagingError, ObjectNotFound)


@dataclass(frozen=True)
class WorkerContext:
    storage: Storage
    max_pixels: int
    # Views of the owner's images change with every status written here.
    cache: ImageCache | None = None
    # Run before each job (a worker process opens its database pool here).
    prepare: Callable[[], Awaitable[None]] | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _render(ctx: WorkerContext, image: dict, spec: imaging.SizeSpec) -> imaging.Rendered:
    """CPU and storage work in a thread: prefer the intermediate, else the original."""
    location = image["location"]
    if image["intermediate_key"]:
        try:
            decoded = imaging.decode_intermediate(
                ctx.storage.get(location, image["intermediate_key"])
            )
        except (ObjectNotFound, imaging.CorruptImage):
            decoded = None
        if decoded is not None and imaging.covers(decoded, spec):
            return imaging.render(decoded, spec)
    original = ctx.storage.get(location, image["original_key"])
    # The original was accepted at upload; a later, lower MAX_PIXELS must not strand it.
    limit = max(ctx.max_pixels, image["width"] * image["height"])
    return imaging.render(imaging.decode(original, [spec], max_pixels=limit), spec)


def _render_and_store(
    ctx: WorkerContext, image: dict, spec: imaging.SizeSpec, key: str
) -> imaging.Rendered:
    """One thread hop for both (each hop is a GIL hand-over on a busy worker core)."""
    rendered = _render(ctx, image, spec)
    ctx.storage.put(image["location"], key, rendered.data, rendered.content_type)
    return rendered


async def make_rendition(ctx: WorkerContext, rendition_id: int, *, final_attempt: bool) -> str:
    """Make one rendition; idempotent (a ready one is left alone). Returns the outcome."""
    outcome, owner = await _make_rendition(ctx, rendition_id, final_attempt=final_attempt)
    if owner is not None and ctx.cache is not None:
        await ctx.cache.invalidate(owner)
    return outcome


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


async def _load_job(rendition_id: int) -> tuple[dict, dict, imaging.SizeSpec | None] | None:
    """The rendition, its image and its size in one query (a worker runs this per job,
    and round trips to the database were a large share of a small rendition's cost)."""
    found = await Rendition.raw(JOB_SQL, rendition_id)
    if not found:
        return None
    job = found[0]
    row = {"status": job["status"], "slug": job["slug"], "attempts": job["attempts"]}
    image = {
        "id": job["image_id"],
        "owner": job["owner"],
        "location": job["location"],
        "width": job["image_width"],
        "height": job["image_height"],
        "original_key": job["original_key"],
        "intermediate_key": job["intermediate_key"],
    }
    spec = None
    if job["size_id"] is not None:
        spec = imaging.SizeSpec(
            slug=job["slug"], width=job["size_width"], height=job["size_height"], fit=job["fit"]
        )
    return row, image, spec


async def _make_rendition(
    ctx: WorkerContext, rendition_id: int, *, final_attempt: bool
) -> tuple[str, int | None]:
    """The work of make_rendition; also returns the owner whose views changed, if any."""
    job = await _load_job(rendition_id)
    if job is None:
        return "gone", None
    row, image, spec = job
    if row["status"] == "ready":
        return "already-ready", None
    owner = image["owner"]
    if spec is None:
        await _fail(rendition_id, row, f"The size {row['slug']!r} no longer exists.")
        return "failed", owner
    key = keys.rendition_key(str(image["id"]), row["slug"])
    try:
        rendered = await anyio.to_thread.run_sync(_render_and_store, ctx, image, spec, key)
    except PERMANENT as exc:
        await _fail(rendition_id, row, _describe(exc))
        return "failed", owner
    except Exception as exc:
        if final_attempt:
            await _fail(rendition_id, row, _describe(exc))
            return "failed", owner
        await Rendition.update(
            {Rendition.attempts: row["attempts"] + 1, Rendition.error: _describe(exc)}
        ).where(Rendition.id == rendition_id)
        # The view shows the error text; the retry raises on.
        if ctx.cache is not None:
            await ctx.cache.invalidate(owner)
        raise
    done = (
        await Rendition.update(
            {
                Rendition.status: "ready",
                Rendition.width: rendered.width,
                Rendition.height: rendered.height,
                Rendition.bytes: len(rendered.data),
                Rendition.format: rendered.format,
                Rendition.key: key,
                Rendition.error: None,
                Rendition.attempts: row["attempts"] + 1,
                Rendition.updated_at: _now(),
            }
        )
        .where(Rendition.id == rendition_id)
        .returning(Rendition.id)
    )
    if not done:
        # The image was deleted while we worked: do not leave an orphan behind.
        await anyio.to_thread.run_sync(ctx.storage.delete, image["location"], key)
        return "gone", None
    return "ready", owner


def _describe(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return text[:MAX_ERROR]


async def _fail(rendition_id: int, row: dict, error: str) -> None:
    log.warning("rendition %s (%s) failed: %s", rendition_id, row["slug"], error)
    await Rendition.update(
        {
            Rendition.status: "failed",
            Rendition.error: error,
            Rendition.attempts: row["attempts"] + 1,
            Rendition.updated_at: _now(),
        }
    ).where(Rendition.id == rendition_id)


MISSING_SQL = """
SELECT images.id AS image_id, sizes.slug AS slug
FROM images
JOIN users ON users.id = images.owner
JOIN plan_sizes ON plan_sizes.plan = users.plan
JOIN sizes ON sizes.id = plan_sizes.size
{join_plan}
WHERE NOT EXISTS (
    SELECT 1 FROM renditions
    WHERE renditions.image = images.id AND renditions.slug = sizes.slug
)
{where}
LIMIT {limit}
"""


async def create_missing(
    *, user_id: int | None = None, plan_name: str | None = None, limit: int = 1000
) -> list[int]:
    """Add pending rows for plan sizes an image lacks; return their ids.

    One query finds them whatever the number of plans and images; callers loop
    until it returns nothing.
    """
    join_plan, where, args = "", "", []
    if plan_name is not None:
        join_plan = "JOIN plans ON plans.id = users.plan"
        where = "AND plans.name = {}"
        args.append(plan_name)
    elif user_id is not None:
        where = "AND users.id = {}"
        args.append(user_id)
    # Only our own fragments are formatted in; values go through Piccolo's {} params.
    query = MISSING_SQL.format(join_plan=join_plan, where=where, limit=int(limit))
    missing = await Image.raw(query, *args)
    if not missing:
        return []
    now = _now()
    rows = [
        Rendition(
            image=uuid.UUID(str(m["image_id"])),
            slug=m["slug"],
            status="pending",
            created_at=now,
            updated_at=now,
        )
        for m in missing
    ]
    created = await Rendition.insert(*rows).returning(Rendition.id)
    return [r["id"] for r in created]


async def stale_pending(older_than: timedelta, limit: int = 1000) -> list[int]:
    """Pending renditions untouched for `older_than`, touched now so the next sweep
    does not send them again at once."""
    cutoff = _now() - older_than
    rows = (
        await Rendition.select(Rendition.id)
        .where((Rendition.status == "pending") & (Rendition.updated_at < cutoff))
        .order_by(Rendition.id)
        .limit(limit)
    )
    ids = [r["id"] for r in rows]
    if ids:
        await Rendition.update({Rendition.updated_at: _now()}).where(Rendition.id.is_in(ids))
    return ids


async def reset_for_reprocess(*, everything: bool) -> list[int]:
    """Mark renditions pending again: all of them, or only the failed ones."""
    query = Rendition.update(
        {
            Rendition.status: "pending",
            Rendition.attempts: 0,
            Rendition.error: None,
            Rendition.updated_at: _now(),
        },
        force=True,
    )
    if not everything:
        query = query.where(Rendition.status == "failed")
    await query
    rows = await Rendition.select(Rendition.id).where(Rendition.status == "pending")
    return [r["id"] for r in rows]
