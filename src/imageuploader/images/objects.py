"""The stored objects of one image, written or removed together."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

import anyio

from imageuploader.errors import Unavailable
from imageuploader.images import keys
from imageuploader.storage import Storage, StorageError

log = logging.getLogger(__name__)

StoredObject = tuple[str, bytes, str]  # key, body, content type


def digest(data: bytes) -> str:
    """The content digest kept beside each stored object; delivery's strong ETag."""
    return hashlib.sha256(data).hexdigest()


def digest_chunks(chunks: Iterable[bytes]) -> str:
    """`digest` of bytes read in chunks (a stored object, without holding it whole)."""
    hasher = hashlib.sha256()
    for chunk in chunks:
        hasher.update(chunk)
    return hasher.hexdigest()


def image_keys(image_id: str, slugs: list[str]) -> list[str]:
    """Every key an image may own: the original, the intermediate and each rendition."""
    return [
        keys.original_key(image_id),
        keys.intermediate_key(image_id),
        *(keys.rendition_key(image_id, s) for s in slugs),
    ]


async def put_all(storage: Storage, location: str, objects: list[StoredObject]) -> None:
    """Store every object at once: each put mostly waits (an fsync, a round trip to
    S3), so side by side the upload waits for the slowest, not for the sum.
    If any fails, the others are removed and Unavailable is raised."""
    failures: list[StorageError] = []

    async def put(key: str, body: bytes, content_type: str) -> None:
        try:
            await anyio.to_thread.run_sync(storage.put, location, key, body, content_type)
        except StorageError as exc:
            failures.append(exc)

    async with anyio.create_task_group() as group:
        for key, body, content_type in objects:
            group.start_soon(put, key, body, content_type)
    if failures:
        await delete_logged(storage, location, [k for k, _, _ in objects])
        log.error("storage failed during upload: %s", failures[0])
        raise Unavailable("Storage is unavailable; nothing was saved. Try again later.")


async def delete_logged(storage: Storage, location: str, object_keys: list[str]) -> None:
    """Remove objects; a storage failure is logged (the rows are already gone)."""
    try:
        await anyio.to_thread.run_sync(storage.delete_many, location, object_keys)
    except StorageError as exc:
        log.error("could not delete objects %s in %s: %s", object_keys, location, exc)
