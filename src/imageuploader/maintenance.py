"""Operator tasks behind the CLI: reprocess renditions, rebalance images over buckets."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import anyio.from_thread

from imageuploader.container import Services
from imageuploader.images import backlog, renditions, variants
from imageuploader.images.cache import ImageCache
from imageuploader.images.tables import Image, Rendition, Variant
from imageuploader.storage import S3Storage
from imageuploader.storage.rebalance import (
    Placement,
    RebalanceEvent,
    RebalanceReport,
    rebalance,
)

Say = Callable[[str], None]
CHUNK = 1000


@dataclass(frozen=True)
class ReprocessResult:
    selected: int
    queued: int = 0
    ready: int = 0
    failed: int = 0
    variants_selected: int = 0
    variants_queued: int = 0
    variants_ready: int = 0
    variants_failed: int = 0


async def select_for_reprocess(*, everything: bool) -> list[int]:
    """Rows the plans call for but lack, plus failed (or, with `everything`, all) ones."""
    created: list[int] = []
    while batch := await backlog.create_missing():
        created += batch
    reset = await backlog.reset_for_reprocess(everything=everything)
    return sorted(set(created) | set(reset))


async def reprocess(services: Services, *, everything: bool, say: Say) -> ReprocessResult:
    """Queue the work on a Redis broker, or do it here when the queue is in-process
    (the embedded default has no worker outside the app). Variants (WebP, AVIF) come
    after the renditions, reset the same way: all of them with `everything`."""
    ids = await select_for_reprocess(everything=everything)
    variant_ids = await variants.reset_for_reprocess(everything=everything)
    await _invalidate_owners(services, ids)  # their views now say "pending"
    if not services.settings.queue_in_process:
        await services.jobs.send_each(renditions.make_rendition, ids)
        await services.jobs.send_each(variants.make_variant, variant_ids)
        say(f"queued {len(ids)} renditions and {len(variant_ids)} variants for the workers")
        return ReprocessResult(
            selected=len(ids),
            queued=len(ids),
            variants_queued=len(variant_ids),
            variants_selected=len(variant_ids),
        )
    ctx = services.worker
    ready, failed = await _run_here(
        ids,
        "rendition",
        lambda i: renditions.make_rendition(ctx, i),
        lambda i: renditions.give_up(ctx, i),
        say,
    )
    variants_ready, variants_failed = await _run_here(
        variant_ids,
        "variant",
        lambda i: variants.make_variant(ctx, i),
        lambda i: variants.give_up_variant(ctx, i),
        say,
    )
    return ReprocessResult(
        selected=len(ids),
        ready=ready,
        failed=failed,
        variants_selected=len(variant_ids),
        variants_ready=variants_ready,
        variants_failed=variants_failed,
    )


async def _run_here(
    ids: list[int],
    kind: str,
    make: Callable[[int], Awaitable[str]],
    give_up: Callable[[int], Awaitable[str]],
    say: Say,
) -> tuple[int, int]:
    """Make each row in this process; returns (ready, failed)."""
    ready = failed = 0
    for done, row_id in enumerate(ids, 1):
        try:
            outcome = await make(row_id)
        except Exception:
            # No retries here: this run's attempt was the last one.
            outcome = await give_up(row_id)
        ready += outcome in ("ready", "already-ready")
        failed += outcome == "failed"
        say(f"[{done}/{len(ids)}] {kind} {row_id}: {outcome}")
    return ready, failed


async def _invalidate_owners(services: Services, rendition_ids: list[int]) -> None:
    owners: set[int] = set()
    for start in range(0, len(rendition_ids), CHUNK):  # bounded IN lists
        chunk = rendition_ids[start : start + CHUNK]
        images = await Rendition.select(Rendition.image).where(Rendition.id.is_in(chunk))
        rows = await Image.select(Image.owner).where(
            Image.id.is_in(list({r["image"] for r in images}))
        )
        owners |= {r["owner"] for r in rows}
    for owner in owners:
        await services.cache.invalidate(owner)


async def placements() -> list[Placement]:
    """Every image with the keys it owns, as the database records them."""
    owned: dict[str, list[str]] = defaultdict(list)
    for r in await Rendition.select(Rendition.image, Rendition.key).where(
        Rendition.key.is_not_null()
    ):
        owned[str(r["image"])].append(r["key"])
    for r in await Variant.select(Variant.rendition.image.as_alias("image"), Variant.key).where(
        Variant.key.is_not_null()
    ):
        owned[str(r["image"])].append(r["key"])
    rows = await Image.select(
        Image.id, Image.location, Image.original_key, Image.intermediate_key
    ).order_by(Image.created_at)
    return [
        Placement(
            image_id=str(row["id"]),
            location=row["location"],
            keys=[
                k
                for k in (row["original_key"], row["intermediate_key"], *owned[str(row["id"])])
                if k
            ],
        )
        for row in rows
    ]


async def _set_location(image_id: str, bucket: str) -> int | None:
    """Point the row at `bucket`; its owner, or None if the image was deleted meanwhile."""
    moved = (
        await Image.update({Image.location: bucket})
        .where(Image.id == uuid.UUID(image_id))
        .returning(Image.owner)
    )
    return moved[0]["owner"] if moved else None


async def _owned_keys(image_id: str) -> list[str]:
    """The keys the image owns now (a worker may have finished a rendition since)."""
    rows = await Rendition.select(Rendition.key).where(
        (Rendition.image == uuid.UUID(image_id)) & Rendition.key.is_not_null()
    )
    return [r["key"] for r in rows]


async def _commit(image_id: str, bucket: str, cache: ImageCache | None) -> list[str] | None:
    owner = await _set_location(image_id, bucket)
    if owner is None:
        return None
    if cache is not None:
        # Servers cache where each object is: they must look again.
        await cache.invalidate(owner)
    return await _owned_keys(image_id)


async def planned_moves(storage: S3Storage) -> list[tuple[Placement, str]]:
    """Each image whose ring bucket differs from where it is, with its new bucket."""
    targets = [(p, storage.locate(p.image_id)) for p in await placements()]
    return [(p, target) for p, target in targets if target != p.location]


async def rebalance_buckets(
    storage: S3Storage, *, say: Say, cache: ImageCache | None = None
) -> RebalanceReport:
    """Move images whose ring bucket changed (after S3_BUCKETS changed); `cache` is the
    servers' image cache, told of each move."""
    found = await placements()

    def commit(image_id: str, bucket: str) -> list[str] | None:
        # Called from the rebalance thread; the row is updated on the event loop.
        return anyio.from_thread.run(_commit, image_id, bucket, cache)

    def progress(event: RebalanceEvent) -> None:
        if event.action != "in_place":
            detail = f" ({event.detail})" if event.detail else ""
            say(f"{event.action} {event.image_id}: {event.source} -> {event.target}{detail}")

    return await anyio.to_thread.run_sync(
        lambda: rebalance(storage, found, commit, progress=progress)
    )
