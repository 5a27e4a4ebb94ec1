"""Rebalance racing the rest of the product: a user deleting an image being moved, and a
worker finishing a rendition into the bucket the image is leaving."""

from __future__ import annotations

import dataclasses
import uuid

import anyio.from_thread
import pytest

from imageuploader import maintenance
from imageuploader.images import keys, renditions
from imageuploader.images.tables import Image, Rendition
from imageuploader.settings import Settings
from imageuploader.storage import S3Storage, storage_from_url
from tests.conftest import app_for

from .conftest import photo

pytestmark = [
    pytest.mark.usefixtures("settings"),
    pytest.mark.parametrize("storage_env", ["s3"], indirect=True),
]


@pytest.fixture
def app(settings: Settings, clock):
    # No worker threads: renditions stay pending until the test makes them.
    return app_for(dataclasses.replace(settings, worker_threads=0), clock=clock)


async def uploads(make_user, upload, count: int) -> tuple[dict, list[str]]:
    headers = await make_user("ria", plan="Studio")
    ids = []
    for n in range(count):
        r = await upload(headers, photo(300 + n, 200))  # distinct bytes, distinct images
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    return headers, ids


async def grown_ring(storage_env: dict[str, str], ids: list[str]) -> tuple[S3Storage, str]:
    """A ring with one more bucket (created) under which some image moves; that image."""
    buckets = storage_env["S3_BUCKETS"].split(",")
    rows = {str(r["id"]): r["location"] for r in await Image.select(Image.id, Image.location)}
    for n in range(100):
        grown = [*buckets, f"{buckets[0]}-g{n}"]
        ring = storage_from_url(storage_env["STORAGE_URL"], buckets=grown, public_url=None)
        moving = [i for i in ids if ring.locate(i) != rows[i]]
        if moving:
            assert isinstance(ring, S3Storage)
            ring.ensure_ready()
            return ring, moving[0]
    raise AssertionError("no ring growth moves any image")


def stored_anywhere(ring: S3Storage, image_id: str) -> dict[str, list[str]]:
    found = {b: list(ring.list_keys(b, f"{image_id}/")) for b in ring.buckets}
    return {b: k for b, k in found.items() if k}


async def test_an_image_deleted_while_it_moves_leaves_no_copies(
    client, make_user, upload, storage_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers, ids = await uploads(make_user, upload, 6)
    ring, victim = await grown_ring(storage_env, ids)
    real = maintenance._set_location

    async def delete_first(image_id: str, bucket: str):
        if image_id == victim:
            # The owner's delete commits between the verified copy and the row update.
            r = await client.delete(f"/api/images/{victim}", headers=headers)
            assert r.status_code == 204, r.text
        return await real(image_id, bucket)

    monkeypatch.setattr(maintenance, "_set_location", delete_first)
    report = await maintenance.rebalance_buckets(ring, say=lambda _: None)
    assert report.ok, report
    assert stored_anywhere(ring, victim) == {}


async def test_a_render_that_finds_the_original_moved_redoes_it_in_the_new_bucket(
    client, make_user, upload, storage_env, app, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, ids = await uploads(make_user, upload, 6)
    ring, moving = await grown_ring(storage_env, ids)
    low = await Rendition.select(Rendition.id).where(
        (Rendition.image == uuid.UUID(moving)) & (Rendition.slug == "low")
    )
    real_load = renditions._load_job

    async def load_then_rebalance(rendition_id: int):
        job = await real_load(rendition_id)
        # A worker holds the job (and the old bucket) while rebalance moves the image.
        report = await maintenance.rebalance_buckets(ring, say=lambda _: None)
        assert report.ok, report
        return job

    monkeypatch.setattr(renditions, "_load_job", load_then_rebalance)
    ctx = dataclasses.replace(app.state.services.worker, storage=ring)
    assert await renditions.make_rendition(ctx, low[0]["id"]) == "ready"

    row = await Image.select(Image.location).where(Image.id == uuid.UUID(moving)).first()
    assert row["location"] == ring.locate(moving)
    made = await Rendition.select(Rendition.key).where(
        (Rendition.image == uuid.UUID(moving)) & Rendition.key.is_not_null()
    )
    expected = [keys.original_key(moving), keys.intermediate_key(moving)]
    expected += [r["key"] for r in made]
    assert keys.rendition_key(moving, "low") in expected
    assert stored_anywhere(ring, moving) == {row["location"]: sorted(expected)}


class RebalanceBeforePut:
    """The worker's storage: rebalance moves the image after the render read the
    original and before the rendition is written (into the bucket it read from)."""

    def __init__(self, ring: S3Storage) -> None:
        self.ring = ring
        self.moved = False

    def __getattr__(self, name: str):
        return getattr(self.ring, name)

    def put(self, location: str, key: str, data: bytes, content_type: str) -> None:
        if not self.moved:
            self.moved = True
            report = anyio.from_thread.run(
                lambda: maintenance.rebalance_buckets(self.ring, say=lambda _: None)
            )
            assert report.ok, report
        self.ring.put(location, key, data, content_type)


async def test_a_rendition_written_into_the_old_bucket_follows_the_image(
    client, make_user, upload, storage_env, app
) -> None:
    _, ids = await uploads(make_user, upload, 6)
    ring, moving = await grown_ring(storage_env, ids)
    low = await Rendition.select(Rendition.id).where(
        (Rendition.image == uuid.UUID(moving)) & (Rendition.slug == "low")
    )
    storage = RebalanceBeforePut(ring)
    ctx = dataclasses.replace(app.state.services.worker, storage=storage)
    assert await renditions.make_rendition(ctx, low[0]["id"]) == "ready"
    assert storage.moved

    row = await Image.select(Image.location).where(Image.id == uuid.UUID(moving)).first()
    assert row["location"] == ring.locate(moving)
    made = await Rendition.select(Rendition.key).where(
        (Rendition.image == uuid.UUID(moving)) & Rendition.key.is_not_null()
    )
    expected = [keys.original_key(moving), keys.intermediate_key(moving)]
    expected += [r["key"] for r in made]
    assert keys.rendition_key(moving, "low") in expected
    assert stored_anywhere(ring, moving) == {row["location"]: sorted(expected)}
