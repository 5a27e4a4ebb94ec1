"""Without WEBHOOK_ALLOW_PRIVATE, webhooks may only point at public addresses: refused
when registered (422, nothing stored) and refused again when sent."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from imageuploader.webhooks import delivery, signing

from .conftest import Receiver

PUBLIC = "93.184.215.14"  # a public address (the test never connects to it)


@pytest.fixture
def allow_private() -> bool:
    return False


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://localhost:9/hook", "a loopback address"),
        ("http://127.0.0.1/hook", "a loopback address"),
        ("http://2130706433/hook", "resolves to 127.0.0.1, a loopback address"),
        ("http://0x7f000001/hook", "resolves to 127.0.0.1, a loopback address"),
        ("http://127.1/hook", "resolves to 127.0.0.1, a loopback address"),
        ("http://hooks.rebind.test/hook", "resolves to 127.0.0.1, a loopback address"),
        ("http://10.1.2.3/hook", "a private address"),
        ("http://192.168.0.10/hook", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("http://[::1]/hook", "a loopback address"),
        ("http://[::ffff:127.0.0.1]/hook", "a loopback address"),
        ("http://[fe80::1]/hook", "a link-local address"),
        ("https://0.0.0.0/hook", "a private address"),
        ("http://100.64.0.1/hook", "not a public address"),
    ],
)
async def test_private_addresses_refused_with_422(
    client, make_user, fake_dns: dict[str, str], url: str, says: str
) -> None:
    fake_dns["hooks.rebind.test"] = "127.0.0.1"
    alice = await make_user("alice")
    r = await client.post(
        "/api/webhooks", json={"url": url, "events": ["image.ready"]}, headers=alice
    )
    assert r.status_code == 422, r.text
    assert says in r.json()["detail"]
    assert (await client.get("/api/webhooks", headers=alice)).json() == []


async def test_a_public_address_is_accepted(client, make_user, fake_dns: dict[str, str]) -> None:
    fake_dns["hooks.example.test"] = PUBLIC
    alice = await make_user("alice")
    r = await client.post(
        "/api/webhooks",
        json={"url": "https://hooks.example.test/in", "events": ["image.ready"]},
        headers=alice,
    )
    assert r.status_code == 201, r.text


async def test_checked_again_at_send_time(fake_dns: dict[str, str], receiver: Receiver) -> None:
    """A name that was public when registered and points inside now is not sent to."""
    port = receiver.url.split(":")[2].split("/")[0]
    fake_dns["hooks.example.test"] = "127.0.0.1"  # rebound since registration
    message = delivery.Pending(
        message_id=signing.new_message_id(),
        webhook_id=1,
        url=f"http://hooks.example.test:{port}/hook",
        secret=signing.new_secret(),
        body="{}",
        status="pending",
        created_at=datetime.now(UTC),
    )
    outcome = await delivery.send(message, allow_private=False)
    assert not outcome.succeeded
    assert "resolves to 127.0.0.1, a loopback address" in (outcome.error or "")
    assert receiver.requests == []
    # The same message with private addresses allowed does arrive: the refusal above
    # was the address check, not a broken receiver.
    assert (await delivery.send(message, allow_private=True)).succeeded
    assert len(receiver.requests) == 1


async def test_sends_to_the_address_it_checked(
    monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    """DNS rebinding: the name answers 127.0.0.1 once, then an address that goes nowhere.
    The POST still reaches the receiver, so the sender did not look the name up again."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding(host, port, *args, **kwargs):
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        return real("127.0.0.1" if len(lookups) == 1 else "10.255.255.1", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    port = receiver.url.split(":")[2].split("/")[0]
    message = delivery.Pending(
        message_id=signing.new_message_id(),
        webhook_id=1,
        url=f"http://rebind.test:{port}/hook",
        secret=signing.new_secret(),
        body="{}",
        status="pending",
        created_at=datetime.now(UTC),
    )
    outcome = await delivery.send(message, allow_private=True)
    assert outcome.succeeded, outcome
    assert lookups == ["rebind.test"]
    assert receiver.requests[0].headers["host"] == f"rebind.test:{port}"
