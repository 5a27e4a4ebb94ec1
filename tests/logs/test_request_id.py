"""JSON log lines carry the request id, in the web app and in the worker that ran its job."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import pyvips
from litestar.testing import AsyncTestClient

from imageuploader.logs import configure_logging
from tests.metrics.conftest import wait_until_finished


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict]]]:
    """JSON lines written through the root logger while the test runs."""
    buffer = io.StringIO()
    root = logging.getLogger()
    handler = logging.StreamHandler(buffer)
    level = root.level
    root.addHandler(handler)
    configure_logging("INFO")
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def photo() -> bytes:
    xy = pyvips.Image.xyz(320, 240)
    image = (xy[0] * 0.7).bandjoin([xy[1], xy[0] * 0 + 90])
    return image.cast("uchar").copy(interpretation="srgb").write_to_buffer(".jpg")


async def test_the_worker_logs_with_the_request_id_of_the_upload(
    client: AsyncTestClient, make_user: Callable[..., Any], log_lines: Callable[[], list[dict]]
) -> None:
    alice = await make_user("alice", "Premium")
    r = await client.post(
        "/api/images",
        files={"file": ("p.jpg", photo(), "image/jpeg")},
        headers={**alice, "X-Request-ID": "upload-42"},
    )
    assert r.status_code == 201, r.text
    assert r.headers["x-request-id"] == "upload-42"
    await wait_until_finished(client, alice, r.json()["id"])

    lines = log_lines()
    worker = [line for line in lines if line["logger"] == "imageuploader.tasks.actors"]
    assert worker, lines
    assert all(line["message"].endswith(": ready") for line in worker)
    assert {line["request_id"] for line in worker} == {"upload-42"}
    access = [line for line in lines if line["logger"] == "imageuploader.access"]
    upload = [line for line in access if line["path"] == "/api/images" and line["status"] == 201]
    assert [line["request_id"] for line in upload] == ["upload-42"]
    assert {"time", "level", "message"} <= set(upload[0])


async def test_a_request_id_is_made_when_none_is_given(client: AsyncTestClient) -> None:
    first = (await client.get("/health")).headers["x-request-id"]
    second = (await client.get("/health")).headers["x-request-id"]
    assert len(first) >= 16 and first != second


@pytest.mark.parametrize("bad", ["x" * 200, "has space", "semi;colon"])
async def test_an_unsafe_request_id_is_replaced(client: AsyncTestClient, bad: str) -> None:
    r = await client.get("/health", headers={"X-Request-ID": bad})
    assert r.headers["x-request-id"] != bad
