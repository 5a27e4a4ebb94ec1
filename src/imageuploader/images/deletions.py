"""Durable removal of stored objects: recorded with the deletion of their rows, retried
until storage confirms, so a storage outage never leaves objects (and the presigned
links to them) behind for good."""

from __future__ import annotations

import logging

import anyio

from imageuploader.clock import utcnow
from imageuploader.images.tables import PendingDeletion
from imageuploader.storage import Storage, StorageError

log = logging.getLogger(__name__)

MAX_ERROR = 500
SWEEP_BATCH = 100


async def record(image_id: str, location: str, object_keys: list[str]) -> int:
    """Note objects to remove; call inside the transaction that deletes their rows."""
    rows = await PendingDeletion.insert(
        PendingDeletion(
            image=image_id,
            location=location,
            object_keys="\n".join(object_keys),
            created_at=utcnow(),
        )
    ).returning(PendingDeletion.id)
    return rows[0]["id"]


async def purge(storage: Storage, ids: list[int]) -> int:
    """Try to remove the objects of these records; forget each one storage confirms.
    A failure is recorded on the row for the next sweep. Returns how many were done."""
    if not ids:
        return 0
    done = 0
    rows = await PendingDeletion.select().where(PendingDeletion.id.is_in(ids))
    for row in rows:
        object_keys = row["object_keys"].split("\n")
        try:
            await anyio.to_thread.run_sync(storage.delete_many, row["location"], object_keys)
        except StorageError as exc:
            log.warning(
                "could not remove the objects of image %s yet (attempt %d): %s",
                row["image"],
                row["attempts"] + 1,
                exc,
            )
            await PendingDeletion.update(
                {
                    PendingDeletion.attempts: PendingDeletion.attempts + 1,
                    PendingDeletion.last_error: str(exc)[:MAX_ERROR],
                }
            ).where(PendingDeletion.id == row["id"])
            continue
        await PendingDeletion.delete().where(PendingDeletion.id == row["id"])
        done += 1
    return done


async def sweep(storage: Storage) -> int:
    """Retry every recorded removal, oldest first; returns how many storage confirmed."""
    done = 0
    after = 0
    while rows := (
        await PendingDeletion.select(PendingDeletion.id)
        .where(PendingDeletion.id > after)
        .order_by(PendingDeletion.id)
        .limit(SWEEP_BATCH)
    ):
        ids = [r["id"] for r in rows]
        done += await purge(storage, ids)
        after = ids[-1]
    if done:
        log.info("removed the stored objects of %d deleted images", done)
    return done
