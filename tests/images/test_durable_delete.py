"""Deleting an image removes its stored objects even when storage is down at that moment:
the removal is recorded with the deletion and the reconciler retries it until storage
confirms; presigned links to the objects end with them."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import anyio
import httpx
import pytest
from litestar.testing import AsyncTestClient

from bench.seaweedfs import SeaweedFS
from imageuploader.app import create_app
from imageuploader.settings import Settings

from ..conftest import bearer
from .conftest import photo

RECONCILE_AFTER_SECONDS = 5
# Sweeps run every RECONCILE_AFTER_SECONDS / 2: this is one sweep after storage is back,
# plus slack for a busy machine (a liveness bound, not a speed target).
GONE_WITHIN_SECONDS = RECONCILE_AFTER_SECONDS / 2 + 10


@pytest.mark.faults
async def test_objects_deleted_during_a_storage_outage_go_when_it_is_back(
    settings: Settings, make_settings: Callable[..., Settings], own_seaweedfs: SeaweedFS
) -> None:
    run = uuid.uuid4().hex[:10]
    app = create_app(
        make_settings(
            DATABASE_URL=settings.database_url,
            STORAGE_URL=own_seaweedfs.storage_url,
            S3_BUCKETS=",".join(f"del{run}-{i}" for i in range(2)),
            S3_PUBLIC_URL=own_seaweedfs.url,
            RECONCILE_AFTER_SECONDS=str(RECONCILE_AFTER_SECONDS),
        )
    )
    storage = app.state.services.storage
    async with AsyncTestClient(app=app) as client:
        admin = await bearer(client, "admin", "admin")
        r = await client.post(
            "/api/admin/users",
            json={"username": "dee", "password": "secret-pass", "plan": "Studio"},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        headers = await bearer(client, "dee", "secret-pass")
        r = await client.post(
            "/api/images", files={"file": ("p.jpg", photo(800, 600), "image/jpeg")}, headers=headers
        )
        assert r.status_code == 201, r.text
        image_id = r.json()["id"]
        # The original, the intermediate, and per rendition its JPEG fallback and each of
        # the plan's extra formats (WebP, AVIF variants made by the workers).
        objects = 2 + sum(len(x["formats"]) for x in r.json()["renditions"])
        assert objects > 2 + len(r.json()["renditions"])
        location = storage.locate(image_id)

        async def stored_within(seconds: float, done: Callable[[list[str]], bool]) -> list[str]:
            """The image's keys once `done` holds of them, or when `seconds` are up."""
            keys: list[str] = []
            with anyio.move_on_after(seconds):
                while True:
                    keys = list(storage.list_keys(location, f"{image_id}/"))
                    if done(keys):
                        break
                    await anyio.sleep(0.2)
            return keys

        assert len(await stored_within(60, lambda keys: len(keys) == objects)) == objects
        r = await client.post(
            f"/api/images/{image_id}/expiring-links",
            json={"seconds": 3600, "rendition": "low"},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        link = r.json()["url"]
        async with httpx.AsyncClient() as s3:
            assert (await s3.get(link)).status_code == 200

        own_seaweedfs.stop()
        r = await client.delete(f"/api/images/{image_id}", headers=headers)
        assert r.status_code == 204, r.text
        assert (await client.get(f"/api/images/{image_id}", headers=headers)).status_code == 404
        own_seaweedfs.start()

        left = await stored_within(GONE_WITHIN_SECONDS, lambda keys: not keys)
        assert left == [], f"still stored after a sweep: {left}"
        # The presigned link outlived the outage; with the object gone it ends.
        async with httpx.AsyncClient() as s3:
            assert (await s3.get(link)).status_code == 404
