"""Events delivered end to end by the in-process workers to a receiver on this machine:
signed per Standard Webhooks, retried with the same webhook-id, every attempt recorded."""

from __future__ import annotations

import asyncio
import json

from standardwebhooks.webhooks import Webhook

from .conftest import DONE_WITHIN_SECONDS, Receiver, Upload


async def _register(client, headers, url: str, events: list[str]) -> dict:
    r = await client.post("/api/webhooks", json={"url": url, "events": events}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def _deliveries(client, headers, hook: dict, count: int) -> list[dict]:
    """Poll the deliveries list until `count` attempts are recorded."""
    deadline = asyncio.get_running_loop().time() + DONE_WITHIN_SECONDS
    while True:
        r = await client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=headers)
        assert r.status_code == 200, r.text
        if len(r.json()) >= count:
            return r.json()
        assert asyncio.get_running_loop().time() < deadline, r.json()
        await asyncio.sleep(0.05)


async def test_image_ready_carries_the_image_as_the_api_shows_it(
    client, make_user, receiver: Receiver, upload: Upload
) -> None:
    alice = await make_user("alice", "Premium")
    hook = await _register(client, alice, receiver.url, ["image.ready"])
    image = await upload(alice)
    assert any(r["status"] == "pending" for r in image["renditions"])  # workers have work

    [got] = await receiver.wait_for(1)
    event = Webhook(hook["secret"]).verify(got.body, got.headers)
    assert event["type"] == "image.ready"
    assert got.headers["webhook-id"].startswith("msg_")
    assert got.headers["content-type"] == "application/json"
    shown = (await client.get(f"/api/images/{image['id']}", headers=alice)).json()
    assert event["data"] == shown
    assert {r["status"] for r in shown["renditions"]} == {"ready"}

    [attempt] = await _deliveries(client, alice, hook, 1)
    assert attempt["status"] == "succeeded" and attempt["response_code"] == 204
    assert attempt["message_id"] == got.headers["webhook-id"]
    assert attempt["event"] == "image.ready"
    # Exactly one notice for the image, whichever worker finished last.
    await asyncio.sleep(0.5)
    assert len(receiver.requests) == 1


async def test_retry_after_500_keeps_the_webhook_id(
    client, make_user, receiver: Receiver, upload: Upload
) -> None:
    alice = await make_user("alice", "Basic")
    hook = await _register(client, alice, receiver.url, ["image.ready"])
    receiver.answers = [500]
    await upload(alice)

    first, second = await receiver.wait_for(2)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    verifier = Webhook(hook["secret"])
    assert verifier.verify(second.body, second.headers)["type"] == "image.ready"
    assert verifier.verify(first.body, first.headers)["type"] == "image.ready"

    latest, earliest = await _deliveries(client, alice, hook, 2)
    assert (earliest["attempt"], earliest["status"], earliest["response_code"]) == (
        1,
        "failed",
        500,
    )
    assert (latest["attempt"], latest["status"], latest["response_code"]) == (2, "succeeded", 204)
    assert latest["message_id"] == earliest["message_id"] == first.headers["webhook-id"]
    # The first retry comes within 30 s of the first attempt.
    assert _seconds(latest["attempted_at"]) - _seconds(earliest["attempted_at"]) < 30, (
        earliest,
        latest,
    )


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp).timestamp()


async def test_redirect_is_not_followed(
    client, make_user, receiver: Receiver, upload: Upload
) -> None:
    alice = await make_user("alice", "Basic")
    hook = await _register(client, alice, receiver.url, ["image.ready"])
    elsewhere = receiver.url.replace("/hook", "/elsewhere")
    receiver.answers = [(302, {"location": elsewhere})]
    await upload(alice)

    [attempt] = await _deliveries(client, alice, hook, 1)
    assert attempt["status"] == "failed" and attempt["response_code"] == 302
    assert "redirects are not followed" in attempt["error"]
    assert [r.path for r in receiver.requests] == ["/hook"]


async def test_image_deleted_and_only_subscribed_events(
    client, make_user, receiver: Receiver, upload: Upload
) -> None:
    alice = await make_user("alice", "Basic")
    hook = await _register(client, alice, receiver.url, ["image.deleted"])
    image = await upload(alice)
    r = await client.delete(f"/api/images/{image['id']}", headers=alice)
    assert r.status_code == 204

    [got] = await receiver.wait_for(1)
    event = Webhook(hook["secret"]).verify(got.body, got.headers)
    assert event["type"] == "image.deleted"
    assert event["data"] == {"id": image["id"]}
    assert json.loads(got.body)["timestamp"]
    await asyncio.sleep(0.5)
    assert len(receiver.requests) == 1  # no image.ready: not subscribed


async def test_deleted_webhook_gets_nothing(
    client, make_user, receiver: Receiver, upload: Upload
) -> None:
    alice = await make_user("alice", "Basic")
    hook = await _register(client, alice, receiver.url, ["image.deleted"])
    image = await upload(alice)
    assert (await client.delete(f"/api/webhooks/{hook['id']}", headers=alice)).status_code == 204
    assert (await client.delete(f"/api/images/{image['id']}", headers=alice)).status_code == 204
    await asyncio.sleep(1)
    assert receiver.requests == []
