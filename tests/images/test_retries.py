"""Worker semantics: retries keep a rendition pending with its error, running out of
retries marks it failed, permanent errors fail at once, and a ready rendition is not redone."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest
from dramatiq import Worker

from imageuploader.accounts.tables import Size
from imageuploader.images import renditions
from imageuploader.images.tables import Rendition
from imageuploader.settings import Settings
from imageuploader.storage import StorageUnavailable
from imageuploader.tasks import registry
from tests.conftest import app_for

pytestmark = pytest.mark.usefixtures("settings")


@pytest.fixture
def app(settings: Settings, clock):
    # No worker threads: the test runs the worker's function itself.
    return app_for(dataclasses.replace(settings, worker_threads=0), clock=clock)


class FlakyStorage:
    """Reads pass through; every write fails like an unreachable S3."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.puts = 0

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def put(self, *args, **kwargs) -> None:
        self.puts += 1
        raise StorageUnavailable("connection refused (test)")


async def pending_rendition(client, make_user, upload, slug: str = "low") -> tuple[dict, int]:
    headers = await make_user("rita", plan="Studio")
    r = await upload(headers)
    assert r.status_code == 201, r.text
    row = (
        await Rendition.select(Rendition.id)
        .where((Rendition.image == r.json()["id"]) & (Rendition.slug == slug))
        .first()
    )
    return headers, row["id"]


def worker_context(app, storage=None):
    """The app's own worker context (its cache: status changes must reach the views)."""
    services = app.state.services
    return dataclasses.replace(services.worker, storage=storage or services.storage)


async def test_retries_then_failed_after_the_last(client, make_user, upload, app) -> None:
    headers, rendition_id = await pending_rendition(client, make_user, upload)
    flaky = FlakyStorage(app.state.services.storage)
    ctx = worker_context(app, flaky)

    for attempt in range(1, registry.MAX_RETRIES + 2):
        with pytest.raises(StorageUnavailable):
            await renditions.make_rendition(ctx, rendition_id)
        row = await Rendition.select().where(Rendition.id == rendition_id).first()
        assert (row["status"], row["attempts"]) == ("pending", attempt)
        assert "connection refused" in row["error"]

    # Dramatiq calls this once the retries are exhausted (on_retry_exhausted).
    assert await renditions.give_up(ctx, rendition_id) == "failed"
    row = await Rendition.select().where(Rendition.id == rendition_id).first()
    assert (row["status"], row["attempts"]) == ("failed", registry.MAX_RETRIES + 1)
    assert flaky.puts == registry.MAX_RETRIES + 1

    image_id = str(row["image"])
    shown = (await client.get(f"/api/images/{image_id}", headers=headers)).json()
    low = next(r for r in shown["renditions"] if r["slug"] == "low")
    assert low["status"] == "failed"
    assert "connection refused" in low["error"]
    assert (await client.get(f"/media/{image_id}/low", headers=headers)).status_code == 404


async def test_missing_source_fails_at_once(client, make_user, upload, app) -> None:
    _, rendition_id = await pending_rendition(client, make_user, upload)
    row = await Rendition.select().where(Rendition.id == rendition_id).first()
    storage = app.state.services.storage
    image_id = str(row["image"])
    location = storage.locate(image_id)
    storage.delete_many(location, [f"{image_id}/original", f"{image_id}/_intermediate"])
    # The first attempt, yet no retry can bring the file back.
    assert await renditions.make_rendition(worker_context(app), rendition_id) == "failed"
    row = await Rendition.select().where(Rendition.id == rendition_id).first()
    assert row["status"] == "failed"
    assert row["attempts"] == 1


async def test_a_rendition_whose_size_was_deleted_fails_with_a_reason(
    client, make_user, upload, app
) -> None:
    _, rendition_id = await pending_rendition(client, make_user, upload)
    # A size removed from the catalogue after the job was queued (the admin API
    # refuses while a plan uses it, so go to the table directly).
    await Rendition.update({Rendition.slug: "gone-size"}).where(Rendition.id == rendition_id)
    assert await renditions.make_rendition(worker_context(app), rendition_id) == "failed"
    row = await Rendition.select().where(Rendition.id == rendition_id).first()
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert row["error"] == "The size 'gone-size' no longer exists."


async def test_a_worker_renders_the_size_the_catalogue_has_now(
    client, make_user, upload, app
) -> None:
    _, rendition_id = await pending_rendition(client, make_user, upload)
    await Size.update({Size.width: 60, Size.height: 60}).where(Size.slug == "low")
    assert await renditions.make_rendition(worker_context(app), rendition_id) == "ready"
    row = await Rendition.select().where(Rendition.id == rendition_id).first()
    # photo() is 4:3 landscape: 60 wide, 45 high inside the 60x60 box.
    assert (row["status"], row["width"], row["height"], row["format"]) == ("ready", 60, 45, "jpeg")


async def test_ready_rendition_is_not_redone(client, make_user, upload, app) -> None:
    _, rendition_id = await pending_rendition(client, make_user, upload)
    assert await renditions.make_rendition(worker_context(app), rendition_id) == "ready"
    first = await Rendition.select().where(Rendition.id == rendition_id).first()
    flaky = FlakyStorage(app.state.services.storage)
    assert await renditions.make_rendition(worker_context(app, flaky), rendition_id) == (
        "already-ready"
    )
    assert await renditions.give_up(worker_context(app, flaky), rendition_id) == "already-done"
    assert flaky.puts == 0
    assert await Rendition.select().where(Rendition.id == rendition_id).first() == first


async def test_the_queue_marks_failed_once_the_retries_run_out(
    client, make_user, upload, app, monkeypatch
) -> None:
    """Through Dramatiq itself: each attempt raises, the message is retried, and the
    on_retry_exhausted callback marks the rendition failed with the last error."""
    _, rendition_id = await pending_rendition(client, make_user, upload)
    services = app.state.services
    services.broker.flush_all()  # only this test's message, not the upload's own
    flaky = FlakyStorage(services.storage)
    # The actors' context holds this very storage object: make its writes fail.
    monkeypatch.setattr(services.storage, "put", flaky.put)
    actor = services.actors["make_rendition"]
    # Two retries, milliseconds apart, instead of five over half a minute.
    actor.send_with_options(args=(rendition_id,), max_retries=2, min_backoff=10, max_backoff=20)
    worker = Worker(services.broker, worker_threads=1, worker_timeout=50)
    worker.start()
    try:
        for _ in range(200):
            row = await Rendition.select().where(Rendition.id == rendition_id).first()
            if row["status"] != "pending":
                break
            await asyncio.sleep(0.05)
    finally:
        worker.stop()
    assert (row["status"], row["attempts"]) == ("failed", 3)
    assert "connection refused" in row["error"]
    assert flaky.puts == 3


def test_actors_retry_at_most_five_times_with_backoff_and_a_time_limit(app) -> None:
    declared = app.state.services.actors
    assert declared["make_rendition"].options["on_retry_exhausted"] == "rendition_gave_up"
    for name in ("make_rendition", "rendition_gave_up", "backfill_plan", "backfill_user"):
        actor = declared[name]
        assert actor.options["max_retries"] == 5
        assert actor.options["min_backoff"] < actor.options["max_backoff"]
        assert actor.options["time_limit"] > 0
        assert actor.queue_name == "renditions"
