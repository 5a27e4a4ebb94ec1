"""One variant row per (rendition, format): the constraint, idempotent creation, and the
migration that merges duplicates an earlier version could leave behind."""

from __future__ import annotations

import asyncio
import sqlite3
import uuid
from collections import Counter

import asyncpg
import pytest
from piccolo.apps.migrations.tables import Migration

from imageuploader import db
from imageuploader.clock import utcnow
from imageuploader.images import variants
from imageuploader.images.records import RenditionStatus
from imageuploader.images.tables import Rendition, Variant

from .conftest import photo

UNIQUE_MIGRATION = "2026-11-30T07:21:13:000000"
DUPLICATE_ERRORS = (asyncpg.UniqueViolationError, sqlite3.IntegrityError)


async def _rendition(make_user, upload, slug: str = "low") -> int:
    """A Studio user's rendition: its WebP and AVIF variants were created at upload."""
    headers = await make_user("vdup", plan="Studio")
    r = await upload(headers, photo(800, 600))
    assert r.status_code == 201, r.text
    row = (
        await Rendition.select(Rendition.id)
        .where((Rendition.image == uuid.UUID(r.json()["id"])) & (Rendition.slug == slug))
        .first()
    )
    return row["id"]


def _row(rendition: int, fmt: str, status: RenditionStatus) -> Variant:
    now = utcnow()
    ready = status is RenditionStatus.READY
    return Variant(
        rendition=rendition,
        format=fmt,
        status=status.value,
        key=f"variants/{rendition}.{fmt}" if ready else None,
        digest="0" * 64 if ready else None,
        bytes=10 if ready else None,
        created_at=now,
        updated_at=now,
    )


async def _format_counts(rendition: int) -> Counter[str]:
    rows = await Variant.select(Variant.format).where(Variant.rendition == rendition)
    return Counter(r["format"] for r in rows)


async def test_a_second_row_for_the_same_format_is_refused(client, make_user, upload) -> None:
    rendition = await _rendition(make_user, upload)
    assert await _format_counts(rendition) == {"webp": 1, "avif": 1}
    with pytest.raises(DUPLICATE_ERRORS):
        await Variant.insert(_row(rendition, "webp", RenditionStatus.PENDING))


async def test_concurrent_create_missing_adds_each_variant_once(client, make_user, upload) -> None:
    rendition = await _rendition(make_user, upload)
    await Variant.delete().where(Variant.rendition == rendition)
    # Two backfills (a plan edit and a user's change of plan) can find the same gap.
    created = await asyncio.gather(*(variants.create_missing(plan_name="Studio") for _ in range(3)))
    assert await _format_counts(rendition) == {"webp": 1, "avif": 1}
    assert sum(len(c) for c in created) == 2
    # create_for is idempotent too: a second call for the same rows adds nothing.
    assert await variants.create_for([rendition], ["jpeg", "webp", "avif"]) == []
    assert await _format_counts(rendition) == {"webp": 1, "avif": 1}


async def test_migration_merges_duplicates_keeping_the_ready_row(client, make_user, upload) -> None:
    rendition = await _rendition(make_user, upload)
    await Variant.delete().where(Variant.rendition == rendition)
    engine = Variant._meta.db
    # The database as an earlier version left it: no constraint, duplicate rows.
    await engine.run_ddl("DROP INDEX IF EXISTS rendition_variants_rendition_format")
    await Migration.delete().where(Migration.name == UNIQUE_MIGRATION)
    await Variant.insert(
        _row(rendition, "webp", RenditionStatus.FAILED),
        _row(rendition, "webp", RenditionStatus.READY),
        _row(rendition, "webp", RenditionStatus.PENDING),
        _row(rendition, "avif", RenditionStatus.FAILED),
        _row(rendition, "avif", RenditionStatus.PENDING),
    )
    oldest_avif = (
        await Variant.select(Variant.id)
        .where((Variant.rendition == rendition) & (Variant.format == "avif"))
        .order_by(Variant.id)
        .first()
    )["id"]
    await db.migrate()
    assert await _format_counts(rendition) == {"webp": 1, "avif": 1}
    kept = {r["format"]: r for r in await Variant.select().where(Variant.rendition == rendition)}
    assert kept["webp"]["status"] == RenditionStatus.READY.value
    assert kept["avif"]["id"] == oldest_avif  # no ready one: the oldest stays
    with pytest.raises(DUPLICATE_ERRORS):
        await Variant.insert(_row(rendition, "webp", RenditionStatus.PENDING))
