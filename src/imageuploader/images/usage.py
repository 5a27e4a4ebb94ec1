"""What each user stores (images, and bytes of every stored object) against their plan's limits.

Usage is summed from the rows, not kept in a counter: deletes, renditions made
later by workers, plan changes and failed uploads change it exactly as they
change the rows, so there is nothing to drift and nothing to reconcile. Bytes
are the original, the intermediate and every rendition with a stored object.

An upload checks the limits and inserts its rows inside `owner_locked`, which
serialises one owner's uploads: parallel uploads cannot all see the same free
slot (a check made before the lock is only an early refusal, never trusted).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import msgspec
from piccolo.engine.sqlite import TransactionType

from imageuploader.accounts.schemas import PlanOut
from imageuploader.accounts.tables import User
from imageuploader.errors import Forbidden, TooLarge
from imageuploader.images.cache import ImageCache
from imageuploader.images.tables import Image
from imageuploader.storage import ObjectNotFound, Storage, StorageError

log = logging.getLogger(__name__)


class Usage(msgspec.Struct):
    """How much one user stores: images, and bytes of all their stored objects."""

    images: int
    bytes: int


NO_USAGE = Usage(images=0, bytes=0)

# Values go through Piccolo's {} parameters; the owner filter is our own fragment.
USAGE_SQL = """
SELECT owner, SUM(images) AS images, SUM(bytes) AS bytes FROM (
    SELECT owner, COUNT(*) AS images,
           SUM(bytes + COALESCE(intermediate_bytes, 0)) AS bytes
    FROM images {image_where}
    GROUP BY owner
    UNION ALL
    SELECT images.owner AS owner, 0 AS images, SUM(renditions.bytes) AS bytes
    FROM renditions JOIN images ON images.id = renditions.image
    WHERE renditions.key IS NOT NULL {rendition_where}
    GROUP BY images.owner
    UNION ALL
    SELECT images.owner AS owner, 0 AS images, SUM(rendition_variants.bytes) AS bytes
    FROM rendition_variants
    JOIN renditions ON renditions.id = rendition_variants.rendition
    JOIN images ON images.id = renditions.image
    WHERE rendition_variants.key IS NOT NULL {rendition_where}
    GROUP BY images.owner
) AS parts
GROUP BY owner
"""


async def _usage(owner: int | None) -> dict[int, Usage]:
    if owner is None:
        query = USAGE_SQL.format(image_where="", rendition_where="")
        rows = await Image.raw(query)
    else:
        query = USAGE_SQL.format(
            image_where="WHERE owner = {}", rendition_where="AND images.owner = {}"
        )
        rows = await Image.raw(query, owner, owner, owner)
    # PostgreSQL sums BIGINTs into NUMERIC (a Decimal here).
    return {
        r["owner"]: Usage(images=int(r["images"] or 0), bytes=int(r["bytes"] or 0)) for r in rows
    }


async def usage_of(user_id: int) -> Usage:
    """One user's usage, summed now (one query)."""
    return (await _usage(user_id)).get(user_id, NO_USAGE)


async def usage_by_user() -> dict[int, Usage]:
    """Every user's usage in one query (users without images are absent: no usage)."""
    return await _usage(None)


@asynccontextmanager
async def owner_locked(user_id: int) -> AsyncIterator[None]:
    """A transaction that holds `user_id`'s upload lock until it ends.

    PostgreSQL locks the user's row (NO KEY UPDATE: the images' foreign keys
    still only need KEY SHARE); a second upload of the same user waits here,
    then reads the first one's committed rows. SQLite has no row locks: BEGIN
    IMMEDIATE takes the database's write lock before the first read instead.
    """
    engine = Image._meta.db
    if engine.engine_type == "sqlite":
        async with engine.transaction(transaction_type=TransactionType.immediate):
            yield
        return
    async with engine.transaction():
        await User.select(User.id).where(User.id == user_id).lock_rows("NO KEY UPDATE")
        yield


def _gib(size: int) -> str:
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= scale:
            return f"{size / scale:.2f} {unit}"
    return f"{size} bytes"


def check_upload_size(plan: PlanOut, size: int, service_limit: int) -> None:
    """TooLarge if `size` exceeds the plan's upload limit or the service's."""
    plan_limit = plan.max_upload_bytes
    if plan_limit is not None and plan_limit < service_limit and size > plan_limit:
        raise TooLarge(
            f"The file is {size:,} bytes; your plan's max_upload_bytes limit is "
            f"{plan_limit:,} bytes."
        )
    if size > service_limit:
        raise TooLarge(f"The file is {size:,} bytes; the limit is {service_limit:,} bytes.")


def check_room(plan: PlanOut, usage: Usage, adding_bytes: int) -> None:
    """Forbidden if one more image of `adding_bytes` would go over a limit of the plan."""
    if plan.max_images is not None and usage.images + 1 > plan.max_images:
        raise Forbidden(
            f"Your plan's max_images limit is {plan.max_images:,} images and you have "
            f"{usage.images:,}; delete some or ask for a larger plan."
        )
    if plan.max_bytes is not None and usage.bytes + adding_bytes > plan.max_bytes:
        raise Forbidden(
            f"Your plan's max_bytes limit is {plan.max_bytes:,} bytes ({_gib(plan.max_bytes)}); "
            f"you use {usage.bytes:,} bytes ({_gib(usage.bytes)}) and this upload needs "
            f"at least {adding_bytes:,} more."
        )


async def find_duplicate(user_id: int, digest: str) -> str | None:
    """The id of `user_id`'s image whose original has this SHA-256, if any."""
    row = (
        await Image.select(Image.id)
        .where((Image.owner == user_id) & (Image.digest == digest))
        .first()
    )
    return str(row["id"]) if row else None


async def measure_unmeasured(
    storage: Storage, limit: int = 500, *, cache: ImageCache | None = None
) -> int:
    """Record the intermediate's size for images stored before it was recorded (their
    usage would otherwise miss it); a batch per call, the reconciler's sweep repeats it.
    `cache` forgets the measured owners' cached usage. Returns how many were measured."""
    rows = (
        await Image.select(Image.id, Image.owner, Image.location, Image.intermediate_key)
        .where(Image.intermediate_key.is_not_null() & Image.intermediate_bytes.is_null())
        .limit(limit)
    )
    measured = 0
    for row in rows:
        try:
            info = await anyio.to_thread.run_sync(
                storage.stat, row["location"], row["intermediate_key"]
            )
            size = info.size
        except ObjectNotFound:
            size = 0  # nothing stored, nothing counted
        except StorageError as exc:
            log.warning("could not measure %s: %s", row["intermediate_key"], exc)
            continue
        await Image.update({Image.intermediate_bytes: size}).where(
            (Image.id == row["id"]) & Image.intermediate_bytes.is_null()
        )
        measured += 1
        if cache is not None:
            await cache.invalidate(row["owner"])
    return measured
