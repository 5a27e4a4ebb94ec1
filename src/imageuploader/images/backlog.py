"""The rendition backlog: rows that plans call for but images lack, rows that a size
edit or a reprocess sets pending again, and pending rows left untouched; found here,
created or reset, and queued."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from imageuploader.clock import utcnow
from imageuploader.images.records import RenditionStatus
from imageuploader.images.renditions import WorkerContext, _invalidate, make_rendition
from imageuploader.images.tables import Image, Rendition, Variant

log = logging.getLogger(__name__)

# Rows marked pending and queued per round when a size is edited (bounded IN lists).
REMAKE_CHUNK = 1000

# The tables of background work: a row per rendition, and per variant of one.
WorkTable = type[Rendition] | type[Variant]


def pending_again(table: WorkTable) -> dict[Any, Any]:
    """The values that set a row of `table` pending with a fresh count of attempts."""
    return {
        table.status: RenditionStatus.PENDING.value,
        table.attempts: 0,
        table.error: None,
        table.updated_at: utcnow(),
    }


async def stale_rows(
    table: WorkTable, cutoff: datetime, *, after_id: int = 0, limit: int = 1000
) -> list[int]:
    """Pending rows untouched since `cutoff` (a lost message) with ids above `after_id`,
    in id order, touched now so the next sweep does not send them again at once. A
    sweep pages by id: touching a row does not move it out of the way, so paging by
    age would loop."""
    rows = (
        await table.select(table.id)
        .where(
            (table.status == RenditionStatus.PENDING.value)
            & (table.updated_at < cutoff)
            & (table.id > after_id)
        )
        .order_by(table.id)
        .limit(limit)
    )
    ids = [r["id"] for r in rows]
    if ids:
        await table.update({table.updated_at: utcnow()}).where(table.id.is_in(ids))
    return ids


async def reset_rows(table: WorkTable, *, everything: bool) -> list[int]:
    """Set rows pending again, all of them or only the failed ones; return the id of
    every pending row (those reset, and those a lost message left pending), in order."""
    query = table.update(pending_again(table), force=True)
    if not everything:
        query = query.where(table.status == RenditionStatus.FAILED.value)
    await query
    rows = (
        await table.select(table.id)
        .where(table.status == RenditionStatus.PENDING.value)
        .order_by(table.id)
    )
    return [r["id"] for r in rows]


async def backfill_plan(ctx: WorkerContext, plan_name: str) -> None:
    """Add and queue the renditions a plan's users' images lack."""
    while created := await create_missing(plan_name=plan_name):
        await ctx.jobs.send_each(make_rendition, created)


async def backfill_user(ctx: WorkerContext, user_id: int) -> None:
    """Add and queue the renditions one user's images lack (after a change of plan)."""
    while created := await create_missing(user_id=user_id):
        await ctx.jobs.send_each(make_rendition, created)


async def remake_size(ctx: WorkerContext, slug: str) -> None:
    """After a size edit: mark every rendition of `slug` pending and queue its remake.

    The views say "pending" at once (their owners' cache entries are dropped); the
    remade bytes get a new digest, hence a new ETag and a new versioned URL.
    """
    last, total = 0, 0
    while True:
        rows = (
            await Rendition.select(Rendition.id, Rendition.image.owner.as_alias("owner"))
            .where((Rendition.slug == slug) & (Rendition.id > last))
            .order_by(Rendition.id)
            .limit(REMAKE_CHUNK)
        )
        if not rows:
            # Logged, not returned: a returned string becomes a metrics label.
            log.info("size %r edited: %d renditions queued for a remake", slug, total)
            return
        ids = [r["id"] for r in rows]
        await Rendition.update(pending_again(Rendition)).where(Rendition.id.is_in(ids))
        for owner in {r["owner"] for r in rows}:
            await _invalidate(ctx, owner)
        await ctx.jobs.send_each(make_rendition, ids)
        last, total = ids[-1], total + len(ids)


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
    now = utcnow()
    rows = [
        Rendition(
            image=uuid.UUID(str(m["image_id"])),
            slug=m["slug"],
            status=RenditionStatus.PENDING.value,
            created_at=now,
            updated_at=now,
        )
        for m in missing
    ]
    # Several callers may find the same gap at once (the reconciler, backfills): the
    # unique (image, slug) index keeps one row, and only rows inserted here come back.
    created = await Rendition.insert(*rows).on_conflict(action="DO NOTHING").returning(Rendition.id)
    return [r["id"] for r in created]


async def stale_pending(cutoff: datetime, *, after_id: int = 0, limit: int = 1000) -> list[int]:
    """Stale pending renditions (`stale_rows`)."""
    return await stale_rows(Rendition, cutoff, after_id=after_id, limit=limit)


async def reset_for_reprocess(*, everything: bool) -> list[int]:
    """Mark renditions pending again: all of them, or only the failed ones."""
    return await reset_rows(Rendition, everything=everything)
