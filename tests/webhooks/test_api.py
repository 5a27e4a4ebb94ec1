"""The webhooks API: register, list, delete, deliveries; each user sees only their own;
bad URLs and events refused with 422 and nothing stored."""

from __future__ import annotations

import base64

import pytest

from .conftest import Receiver


async def test_create_list_delete(client, make_user, receiver: Receiver) -> None:
    alice = await make_user("alice")
    r = await client.post(
        "/api/webhooks",
        json={"url": receiver.url, "events": ["image.ready", "image.deleted"]},
        headers=alice,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["url"] == receiver.url
    assert created["events"] == ["image.ready", "image.deleted"]
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"].removeprefix("whsec_"))) == 32

    r = await client.get("/api/webhooks", headers=alice)
    assert r.status_code == 200
    listed = r.json()
    assert [h["id"] for h in listed] == [created["id"]]
    assert "secret" not in listed[0]  # shown once, at creation

    r = await client.get(f"/api/webhooks/{created['id']}/deliveries", headers=alice)
    assert r.status_code == 200 and r.json() == []

    r = await client.delete(f"/api/webhooks/{created['id']}", headers=alice)
    assert r.status_code == 204
    assert (await client.get("/api/webhooks", headers=alice)).json() == []
    r = await client.delete(f"/api/webhooks/{created['id']}", headers=alice)
    assert r.status_code == 404


async def test_others_webhooks_are_not_found(client, make_user, receiver: Receiver) -> None:
    alice, bob = await make_user("alice"), await make_user("bob")
    r = await client.post(
        "/api/webhooks", json={"url": receiver.url, "events": ["image.ready"]}, headers=alice
    )
    hook = r.json()["id"]
    assert (await client.get("/api/webhooks", headers=bob)).json() == []
    assert (await client.get(f"/api/webhooks/{hook}/deliveries", headers=bob)).status_code == 404
    assert (await client.delete(f"/api/webhooks/{hook}", headers=bob)).status_code == 404
    # Still there for its owner.
    assert [h["id"] for h in (await client.get("/api/webhooks", headers=alice)).json()] == [hook]


async def test_login_required(client) -> None:
    assert (await client.get("/api/webhooks")).status_code == 401
    r = await client.post("/api/webhooks", json={"url": "http://x.test/", "events": []})
    assert r.status_code in (401, 403)


@pytest.mark.parametrize(
    ("url", "events", "says"),
    [
        ("ftp://127.0.0.1/hook", ["image.ready"], "http:// or https://"),
        ("javascript:alert(1)", ["image.ready"], "http:// or https://"),
        ("http:///no-host", ["image.ready"], "no host"),
        ("http://user:pw@127.0.0.1/hook", ["image.ready"], "user name or password"),
        ("http://127.0.0.1:99999/hook", ["image.ready"], "not a valid URL"),
        ("", ["image.ready"], "required"),
        ("http://127.0.0.1/" + "a" * 2000, ["image.ready"], "at most 2000"),
        ("http://no-such-host.invalid/hook", ["image.ready"], "does not resolve"),
        ("RECEIVER", ["image.uploaded"], "'image.uploaded' is not an event"),
        ("RECEIVER", [], "choose at least one"),
    ],
)
async def test_bad_url_or_events_is_422_and_nothing_stored(
    client, make_user, receiver: Receiver, url: str, events: list[str], says: str
) -> None:
    alice = await make_user("alice")
    url = receiver.url if url == "RECEIVER" else url
    r = await client.post("/api/webhooks", json={"url": url, "events": events}, headers=alice)
    assert r.status_code == 422, r.text
    assert says in r.json()["detail"]
    assert (await client.get("/api/webhooks", headers=alice)).json() == []
