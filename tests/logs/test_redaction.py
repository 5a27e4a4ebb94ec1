"""Expiring-link tokens are credentials: never in the access log or in metric labels."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from litestar.testing import AsyncTestClient

from tests.logs.test_request_id import log_lines, photo  # noqa: F401 - the fixture
from tests.metrics.conftest import wait_until_finished


async def test_link_tokens_are_redacted_in_logs_and_metrics(
    client: AsyncTestClient,
    make_user: Callable[..., Any],
    log_lines: Callable[[], list[dict]],  # noqa: F811 - the fixture imported above
) -> None:
    headers = await make_user("sam", plan="Studio")
    r = await client.post(
        "/api/images", files={"file": ("p.jpg", photo(), "image/jpeg")}, headers=headers
    )
    image_id = r.json()["id"]
    await wait_until_finished(client, headers, image_id)
    r = await client.post(
        f"/api/images/{image_id}/expiring-links", json={"seconds": 600}, headers=headers
    )
    path = urlsplit(r.json()["url"]).path
    token = path.removeprefix("/s/")
    assert len(token) > 40
    for url, status in (
        (path, 200),
        (path + "x", 403),  # altered
        (path + "/more", 404),  # no route: nothing groups the path
        (path + "?download=1", 200),
    ):
        assert (await client.get(url)).status_code == status, url
        assert (await client.head(url)).status_code in (status, 405), url
    await asyncio.sleep(0)

    # The test's own HTTP client (httpx) logs its requests too: only ours count.
    lines = [line for line in log_lines() if line["logger"] != "httpx"]
    shared = [line for line in lines if str(line.get("path", "")).startswith("/s/")]
    # Unrouted requests (the 404 and HEAD) never reach the app's middleware.
    assert len(shared) >= 3, lines
    for line in lines:
        assert token not in str(line), line
    assert all(line["path"].startswith("/s/[redacted]") for line in shared)
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    assert token not in metrics.text
    assert token[:20] not in metrics.text
