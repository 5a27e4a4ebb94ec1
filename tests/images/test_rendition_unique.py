"""One rendition row per (image, slug): the constraint, idempotent creation, and the
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
from imageuploader.images import backlog
from imageuploader.images.records import RenditionStatus
from imageuploader.images.tables import Rendition

from .conftest import photo

UNIQUE_MIGRATION = "2026-11-30T06:00:00:000000"
DUPLICATE_ERRORS = (asyncpg.UniqueViolationError, sqlite3.IntegrityError)


async def _image(make_user, upload) -> uuid.UUID:
    headers = await make_user("dup", plan="Studio")
    r = await upload(headers, photo(800, 600))
    assert r.status_code == 201, r.text
    return uuid.UUID(r.json()["id"])


def _row(image: uuid.UUID, slug: str, status: RenditionStatus) -> Rendition:
    now = utcnow()
    return Rendition(
        image=image,
        slug=slug,
        status=status.value,
        key=f"renditions/{image}/{slug}" if status is RenditionStatus.READY else None,
        created_at=now,
        updated_at=now,
    )


async def _slug_counts(image: uuid.UUID) -> Counter[str]:
    rows = await Rendition.select(Rendition.slug).where(Rendition.image == image)
    return Counter(r["slug"] for r in rows)


async def test_a_second_row_for_the_same_slug_is_refused(client, make_user, upload) -> None:
    image = await _image(make_user, upload)
    with pytest.raises(DUPLICATE_ERRORS):
        await Rendition.insert(_row(image, "low", RenditionStatus.PENDING))


async def test_concurrent_create_missing_adds_each_row_once(client, make_user, upload) -> None:
    image = await _image(make_user, upload)
    await Rendition.delete().where(
        (Rendition.image == image) & Rendition.slug.is_in(["low", "medium"])
    )
    missing = 2
    # The reconciler and two backfill actors can run create_missing at the same moment.
    created = await asyncio.gather(*(backlog.create_missing() for _ in range(3)))
    counts = await _slug_counts(image)
    assert set(counts.values()) == {1}, counts
    assert sum(len(c) for c in created) == missing


async def test_migration_merges_duplicates_keeping_the_ready_row(client, make_user, upload) -> None:
    image = await _image(make_user, upload)
    engine = Rendition._meta.db
    # The database as an earlier version left it: no constraint, duplicate rows.
    await engine.run_ddl("DROP INDEX IF EXISTS renditions_image_slug")
    await Migration.delete().where(Migration.name == UNIQUE_MIGRATION)
    await Rendition.insert(
        _row(image, "low", RenditionStatus.FAILED),
        _row(image, "low", RenditionStatus.READY),
        _row(image, "low", RenditionStatus.PENDING),
        _row(image, "medium", RenditionStatus.PENDING),
    )
    await db.migrate()
    counts = await _slug_counts(image)
    assert set(counts.values()) == {1}, counts
    low = await Rendition.select().where((Rendition.image == image) & (Rendition.slug == "low"))
    assert [r["status"] for r in low] == [RenditionStatus.READY.value]
    with pytest.raises(DUPLICATE_ERRORS):
        await Rendition.insert(_row(image, "low", RenditionStatus.PENDING))
