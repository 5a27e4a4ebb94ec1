"""image.failed when a rendition cannot be made, and a delivery's last word after 24 h."""

from __future__ import annotations

from datetime import timedelta

import anyio
import dramatiq
import pytest
from litestar.testing import AsyncTestClient
from standardwebhooks.webhooks import Webhook as Verifier

from imageuploader.app import create_app
from imageuploader.clock import utcnow
from imageuploader.images.events import ImageReady
from imageuploader.images.jobs import Jobs
from imageuploader.images.renditions import WorkerContext
from imageuploader.images.tables import Image
from imageuploader.settings import Settings
from imageuploader.webhooks import delivery, signing
from imageuploader.webhooks.tables import Webhook, WebhookAttempt, WebhookMessage

from .conftest import Receiver, Upload


@pytest.fixture
def settings(settings: Settings, make_settings) -> Settings:
    # No in-process workers: the test starts one when the stage is set.
    return make_settings(
        DATABASE_URL=settings.database_url, WEBHOOK_ALLOW_PRIVATE="true", WORKER_THREADS="0"
    )


async def test_image_failed_when_the_original_is_lost(
    app, client, make_user, receiver: Receiver, upload: Upload
) -> None:
    alice = await make_user("alice", "Premium")
    r = await client.post(
        "/api/webhooks",
        json={"url": receiver.url, "events": ["image.ready", "image.failed"]},
        headers=alice,
    )
    secret = r.json()["secret"]
    image = await upload(alice)
    assert any(x["status"] == "pending" for x in image["renditions"])
    # The stored original and intermediate vanish before a worker gets to them.
    services = app.state.services
    row = await Image.select().where(Image.id == image["id"]).first()
    for key in (row["original_key"], row["intermediate_key"]):
        services.storage.delete(row["location"], key)

    worker = dramatiq.Worker(services.broker, worker_threads=1, worker_timeout=25)
    worker.start()
    try:
        [got] = await receiver.wait_for(1)
    finally:
        await anyio.to_thread.run_sync(worker.stop)
    event = Verifier(secret).verify(got.body, got.headers)
    assert event["type"] == "image.failed"
    shown = (await client.get(f"/api/images/{image['id']}", headers=alice)).json()
    assert event["data"] == shown
    assert "failed" in {x["status"] for x in shown["renditions"]}
    assert "pending" not in {x["status"] for x in shown["renditions"]}


async def _message(client, make_user, url: str, age: timedelta) -> str:
    headers = await make_user("alice")
    r = await client.post(
        "/api/webhooks", json={"url": url, "events": ["image.ready"]}, headers=headers
    )
    message_id = signing.new_message_id()
    await WebhookMessage.insert(
        WebhookMessage(
            id=message_id,
            webhook=r.json()["id"],
            event_key=f"test:{message_id}",
            type="image.ready",
            body="{}",
            status="pending",
            created_at=utcnow() - age,
        )
    )
    return message_id


def _context(app) -> WorkerContext:
    services = app.state.services
    return WorkerContext(
        storage=services.storage, max_pixels=1, jobs=Jobs(), webhook_allow_private=True
    )


async def test_a_failure_within_the_day_is_retried(app, client, make_user, receiver) -> None:
    message_id = await _message(client, make_user, receiver.url, timedelta(hours=23))
    receiver.answers = [503]
    with pytest.raises(delivery.DeliveryFailed):
        await delivery.deliver(_context(app), message_id)
    status = await WebhookMessage.select(WebhookMessage.status).where(
        WebhookMessage.id == message_id
    )
    assert status == [{"status": "pending"}]


async def test_a_failure_after_a_day_is_final(app, client, make_user, receiver) -> None:
    message_id = await _message(client, make_user, receiver.url, timedelta(hours=24, minutes=1))
    receiver.answers = [503]
    assert await delivery.deliver(_context(app), message_id) == "failed"
    assert await WebhookMessage.select(WebhookMessage.status).where(
        WebhookMessage.id == message_id
    ) == [{"status": "failed"}]
    attempts = await WebhookAttempt.select(
        WebhookAttempt.response_code, WebhookAttempt.succeeded
    ).where(WebhookAttempt.message == message_id)
    assert attempts == [{"response_code": 503, "succeeded": False}]
    # Given up: a stray repeat of the job sends nothing more.
    assert await delivery.deliver(_context(app), message_id) == "already-failed"
    assert len(receiver.requests) == 1
    assert await Webhook.count() == 1


async def test_the_same_outcome_announced_twice_is_sent_once(
    app, client, make_user, receiver: Receiver, upload: Upload
) -> None:
    """Two workers finishing an image's last renditions together both announce it."""
    alice = await make_user("alice", "Basic")
    await client.post(
        "/api/webhooks", json={"url": receiver.url, "events": ["image.ready"]}, headers=alice
    )
    image = await upload(alice)  # Basic: made in the request, announced once already
    assert await WebhookMessage.count() == 1
    owner = (await Image.select(Image.owner).where(Image.id == image["id"]).first())["owner"]
    events = app.state.services.events
    again = ImageReady(image_id=image["id"], owner=owner, version="reprocessed")
    await events.publish(again)
    await events.publish(again)
    assert await WebhookMessage.count() == 2


async def test_pending_messages_are_sent_after_a_restart(
    settings: Settings, make_settings, client, make_user, receiver: Receiver
) -> None:
    """The in-process queue dies with the process; the next start sends what was due."""
    message_id = await _message(client, make_user, receiver.url, timedelta(minutes=5))
    assert receiver.requests == []  # queued nowhere: as if the process had died
    restarted = create_app(
        make_settings(DATABASE_URL=settings.database_url, WEBHOOK_ALLOW_PRIVATE="true")
    )
    async with AsyncTestClient(app=restarted):
        [got] = await receiver.wait_for(1)
    assert got.headers["webhook-id"] == message_id
