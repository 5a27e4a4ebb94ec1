"""Without WEBHOOK_ALLOW_PRIVATE, webhooks may only point at public addresses: refused
when registered (422, nothing stored) and refused again when sent."""

from __future__ import annotations

import contextlib
import socket
import ssl
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

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


def _tls_server(tmp_path: Path, seen: list[str | None]) -> tuple[socket.socket, threading.Thread]:
    """A TLS listener with a self-signed certificate that records the SNI of each hello."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
    command += ["-subj", "/CN=hooks.example.test", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(  # noqa: S603 - a fixed command, our own paths
        command,
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen.append(name)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        # The client refuses our self-signed certificate, as it should.
        with conn, contextlib.suppress(ssl.SSLError, OSError):
            context.wrap_socket(conn, server_side=True).close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


async def test_https_connects_to_the_address_with_the_name_for_tls(
    tmp_path: Path, fake_dns: dict[str, str]
) -> None:
    """TLS is negotiated (SNI) and verified for the name, while the socket goes to the
    checked address; an unknown certificate fails the attempt."""
    seen: list[str | None] = []
    listener, thread = _tls_server(tmp_path, seen)
    fake_dns["hooks.example.test"] = "127.0.0.1"
    port = listener.getsockname()[1]
    message = delivery.Pending(
        message_id=signing.new_message_id(),
        webhook_id=1,
        url=f"https://hooks.example.test:{port}/hook",
        secret=signing.new_secret(),
        body="{}",
        status="pending",
        created_at=datetime.now(UTC),
    )
    try:
        outcome = await delivery.send(message, allow_private=True)
    finally:
        thread.join(timeout=10)
        listener.close()
    assert seen == ["hooks.example.test"]
    assert not outcome.succeeded
    assert "CERTIFICATE_VERIFY_FAILED" in (outcome.error or ""), outcome.error
