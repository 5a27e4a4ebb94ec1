"""Fixtures for webhooks: a local receiver that records what it gets, and name lookups
answered by the test (no internet needed)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import pyvips
from litestar.testing import AsyncTestClient

from imageuploader.settings import Settings

# Liveness bound for background work, not a speed target: a stuck job fails here.
DONE_WITHIN_SECONDS = 60


def photo(width: int = 640, height: int = 480) -> bytes:
    """A deterministic gradient photo, generated (no image is committed)."""
    xy = pyvips.Image.xyz(width, height)
    image = (xy[0] * (255.0 / width)).bandjoin([xy[1] * (255.0 / height), xy[0] * 0 + 90])
    data: bytes = image.cast("uchar").copy(interpretation="srgb").write_to_buffer(".jpg")
    return data


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on 127.0.0.1: records each request, answers with `answers` in turn
    (then 204). An answer is a status, or (status, headers)."""

    url: str
    requests: list[Received] = field(default_factory=list)
    answers: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def wait_for(self, count: int) -> list[Received]:
        deadline = asyncio.get_running_loop().time() + DONE_WITHIN_SECONDS
        while len(self.requests) < count:
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"the receiver got {len(self.requests)} requests, not {count}")
            await asyncio.sleep(0.05)
        return list(self.requests)


@contextmanager
def serve_receiver() -> Iterator[Receiver]:
    """Run a Receiver on a free port of 127.0.0.1 while the block runs."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            with state.lock:
                state.requests.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                answer = state.answers.pop(0) if state.answers else 204
            status, headers = answer if isinstance(answer, tuple) else (answer, {})
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as state:
        yield state


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Names the test maps to addresses at the socket level; others resolve as usual."""
    names: dict[str, str] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name in names:
            return real(names[name], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


@pytest.fixture
def allow_private() -> bool:
    """WEBHOOK_ALLOW_PRIVATE for the test's app: on, as the receiver is on this machine;
    a module that tests the refusals overrides it."""
    return True


@pytest.fixture
def settings(
    settings: Settings, make_settings: Callable[..., Settings], allow_private: bool
) -> Settings:
    return make_settings(
        DATABASE_URL=settings.database_url, WEBHOOK_ALLOW_PRIVATE=str(allow_private).lower()
    )


Upload = Callable[..., Awaitable[dict]]


@pytest.fixture
def upload(client: AsyncTestClient) -> Upload:
    async def send(headers: dict[str, str], data: bytes | None = None) -> dict:
        r = await client.post(
            "/api/images",
            files={"file": ("photo.jpg", data or photo(), "image/jpeg")},
            data={"caption": "a webhook test"},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        return r.json()

    return send
