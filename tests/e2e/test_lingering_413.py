"""An over-limit upload from a client that sends its whole body before reading the
answer (Python's urllib) gets the 413 and its detail, not a connection reset."""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import _start, _stop, _wait_healthy, free_port

LIMIT = 25 * 1024 * 1024  # the default MAX_UPLOAD_BYTES


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The embedded default under uvicorn (`imageuploader serve`), with the default 25 MiB limit."""
    tmp = tmp_path_factory.mktemp("lingering")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("S3_", "RATE_LIMIT_"))},
        "APP_ENV": "embedded",
        "DATA_DIR": str(tmp / "data"),
        "DATABASE_URL": f"sqlite:///{tmp / 'data' / 'db.sqlite'}",
        "CACHE_URL": "memory://",
        "BROKER_URL": "memory://",
        "STORAGE_URL": "",
        "PORT": str(port),
        "MAX_UPLOAD_BYTES": str(LIMIT),
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp / "web.log"
    process = _start([sys.executable, "-m", "imageuploader.cli", "serve"], env, log)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", process, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


def token(base: str) -> str:
    request = urllib.request.Request(  # noqa: S310 - our own server's http URL
        f"{base}/api/auth/token",
        data=json.dumps({"username": "admin", "password": "admin"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - our own server
        return str(json.load(response)["access_token"])


def multipart(size: int) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    body += b"\xff\xd8" + os.urandom(size) + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("size", [LIMIT + 1024 * 1024, 2 * LIMIT])
def test_urllib_reads_the_413(server: str, size: int) -> None:
    body, content_type = multipart(size)
    request = urllib.request.Request(  # noqa: S310 - our own server's http URL
        f"{server}/api/images",
        data=body,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {token(server)}"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=60)  # noqa: S310 - our own server
    assert refused.value.code == 413
    detail = json.loads(refused.value.read())
    assert detail["status_code"] == 413
    assert detail["detail"]


def test_a_body_far_past_the_bound_is_cut_off(server: str, tmp_path: Path) -> None:
    """Draining is bounded: a client sending far more is not read to the end."""
    body, content_type = multipart(4 * LIMIT)
    request = urllib.request.Request(  # noqa: S310 - our own server's http URL
        f"{server}/api/images",
        data=body,
        headers={"Content-Type": content_type, "Authorization": f"Bearer {token(server)}"},
    )
    try:
        urllib.request.urlopen(request, timeout=60)  # noqa: S310 - our own server
    except urllib.error.HTTPError as exc:
        assert exc.code == 413
    except (ConnectionError, urllib.error.URLError):
        pass  # cut off past the bound, as intended
    else:
        pytest.fail("an over-limit upload was accepted")
    assert token(server)  # and the server goes on serving
