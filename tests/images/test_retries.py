"""Worker semantics: retries keep a rendition pending with its error, the last attempt
marks it failed, permanent errors fail at once, and a ready rendition is not redone."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from dramatiq.middleware import CurrentMessage

from imageuploader.accounts.tables import Size
from imageuploader.app import create_app
from imageuploader.images import renditions
from imageuploader.images.renditions import WorkerContext
from imageuploader.images.tables import Rendition
from imageuploader.settings import Settings
from imageuploader.storage import StorageUnavailable
from workers import actors

pytestmark = pytest.mark.usefixtures("settings")


@pytest.fixture
def app(settings: Settings, clock):
    # No worker threads: the test runs the worker's function itself.
    return create_app(dataclasses.replace(settings, worker_threads=0), clock=clock)


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


async def test_retries_then_failed_after_the_last(client, make_user, upload, app) -> None:
    headers, rendition_id = await pending_rendition(client, make_user, upload)
    flaky = FlakyStorage(app.state.runtime.storage)
    # The app's cache: the worker's status changes must reach the views.
    ctx = WorkerContext(storage=flaky, max_pixels=50_000_000, cache=app.state.runtime.cache)

    for attempt in range(1, actors.MAX_RETRIES + 1):
        with pytest.raises(StorageUnavailable):
            await renditions.make_rendition(ctx, rendition_id, final_attempt=False)
        row = await Rendition.select().where(Rendition.id == rendition_id).first()
        assert (row["status"], row["attempts"]) == ("pending", attempt)
        assert "connection refused" in row["error"]

    outcome = await renditions.make_rendition(ctx, rendition_id, final_attempt=True)
    assert outcome == "failed"
    row = await Rendition.select().where(Rendition.id == rendition_id).first()
    assert (row["status"], row["attempts"]) == ("failed", actors.MAX_RETRIES + 1)
    assert flaky.puts == actors.MAX_RETRIES + 1

    image_id = str(row["image"])
    shown = (await client.get(f"/api/images/{image_id}", headers=headers)).json()
    low = next(r for r in shown["renditions"] if r["slug"] == "low")
    assert low["status"] == "failed"
    assert "connection refused" in low["error"]
    assert (await client.get(f"/media/{image_id}/low", headers=headers)).status_code == 404


async def test_missing_source_fails_at_once(client, make_user, upload, app) -> None:
    _, rendition_id = await pending_rendition(client, make_user, upload)
    row = await Rendition.select().where(Rendition.id == rendition_id).first()
    storage = app.state.runtime.storage
    image_id = str(row["image"])
    location = storage.locate(image_id)
    storage.delete_many(location, [f"{image_id}/original", f"{image_id}/_intermediate"])
    ctx = WorkerContext(storage=storage, max_pixels=50_000_000)
    # Not the final attempt, yet no retry can bring the file back.
    assert await renditions.make_rendition(ctx, rendition_id, final_attempt=False) == "failed"
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
    ctx = WorkerContext(storage=app.state.runtime.storage, max_pixels=50_000_000)
    assert await renditions.make_rendition(ctx, rendition_id, final_attempt=False) == "failed"
    row = await Rendition.select().where(Rendition.id == rendition_id).first()
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert row["error"] == "The size 'gone-size' no longer exists."


async def test_a_worker_renders_the_size_the_catalogue_has_now(
    client, make_user, upload, app
) -> None:
    _, rendition_id = await pending_rendition(client, make_user, upload)
    await Size.update({Size.width: 60, Size.height: 60}).where(Size.slug == "low")
    ctx = WorkerContext(storage=app.state.runtime.storage, max_pixels=50_000_000)
    assert await renditions.make_rendition(ctx, rendition_id, final_attempt=False) == "ready"
    row = await Rendition.select().where(Rendition.id == rendition_id).first()
    # photo() is 4:3 landscape: 60 wide, 45 high inside the 60x60 box.
    assert (row["status"], row["width"], row["height"], row["format"]) == ("ready", 60, 45, "jpeg")


async def test_ready_rendition_is_not_redone(client, make_user, upload, app) -> None:
    _, rendition_id = await pending_rendition(client, make_user, upload)
    ctx = WorkerContext(storage=app.state.runtime.storage, max_pixels=50_000_000)
    assert await renditions.make_rendition(ctx, rendition_id, final_attempt=False) == "ready"
    first = await Rendition.select().where(Rendition.id == rendition_id).first()
    flaky = FlakyStorage(app.state.runtime.storage)
    again = WorkerContext(storage=flaky, max_pixels=50_000_000)
    assert await renditions.make_rendition(again, rendition_id, final_attempt=True) == (
        "already-ready"
    )
    assert flaky.puts == 0
    assert await Rendition.select().where(Rendition.id == rendition_id).first() == first


@pytest.mark.parametrize(("retries", "final"), [(0, False), (4, False), (5, True)])
def test_final_attempt_follows_the_retry_count(monkeypatch, retries: int, final: bool) -> None:
    message = SimpleNamespace(options={"retries": retries})
    monkeypatch.setattr(CurrentMessage, "get_current_message", staticmethod(lambda: message))
    assert actors._final_attempt() is final


def test_actors_retry_at_most_five_times_with_backoff_and_a_time_limit(app) -> None:
    declared = app.state.runtime.actors
    for actor in (declared.make_rendition, declared.backfill_plan, declared.backfill_user):
        assert actor.options["max_retries"] == 5
        assert actor.options["min_backoff"] < actor.options["max_backoff"]
        assert actor.options["time_limit"] > 0
        assert actor.queue_name == "renditions"
