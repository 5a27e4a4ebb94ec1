"""Fixtures for the images API: photos, uploads, waiting for workers, S3 mode, a clock."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import pyvips
from litestar import Litestar
from litestar.testing import AsyncTestClient

from imageuploader.settings import Settings
from tests.conftest import app_for

# Liveness bound for background work, not a speed target: a stuck job fails here.
DONE_WITHIN_SECONDS = 60
FINISHED = {"ready", "failed"}


def photo(width: int, height: int, *, suffix: str = ".jpg", alpha: bool = False) -> bytes:
    """A deterministic photo-like image (gradients, not flat colour) in any format."""
    xy = pyvips.Image.xyz(width, height)
    x, y = xy[0], xy[1]
    image = (x * (255.0 / max(width, 1))).bandjoin(
        [y * (255.0 / max(height, 1)), (x + y) * (127.0 / max(width + height, 1))]
    )
    if alpha:
        image = image.bandjoin(y * (255.0 / max(height, 1)))
    image = image.cast("uchar").copy(interpretation="srgb")
    return image.write_to_buffer(suffix)


class Clock:
    """A clock the test moves by hand, for expiring links."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["local"])
def storage_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Local storage by default; `indirect` parametrize with "s3" for the S3 path.

    "s3" streams media through the app, because these tests read the bytes with
    the in-process test client, which cannot follow a redirect to another
    server; "s3-redirect" keeps the production default (a presigned redirect).
    """
    if request.param == "local":
        return {}
    server = request.getfixturevalue("seaweedfs")
    run = uuid.uuid4().hex[:10]
    return {
        # SeaweedFS checks signatures as MinIO and AWS do (no MinIO can run here).
        "STORAGE_URL": server.storage_url,
        "S3_BUCKETS": ",".join(f"img{run}-{i}" for i in range(4)),
        "S3_PUBLIC_URL": server.url,
        "S3_DELIVERY": "redirect" if request.param == "s3-redirect" else "stream",
    }


@pytest.fixture
def settings(settings: Settings, storage_env: dict[str, str]) -> Settings:
    if not storage_env:
        return settings
    env = {
        "DATA_DIR": str(settings.data_dir),
        "CACHE_URL": "memory://",
        "DATABASE_POOL_SIZE": str(settings.database_pool_size),
        "DATABASE_URL": settings.database_url,
        **storage_env,
    }
    return Settings.from_env(env)


@pytest.fixture
def app(settings: Settings, clock: Clock) -> Litestar:
    return app_for(settings, clock=clock)


Uploader = Callable[..., Awaitable[Any]]


@pytest.fixture
def upload(client: AsyncTestClient) -> Uploader:
    """POST /api/images; returns the response (assert its status yourself)."""

    async def send(
        headers: dict[str, str],
        data: bytes | None = None,
        *,
        caption: str = "",
        resolution: str | None = None,
        filename: str = "photo.jpg",
        content_type: str = "image/jpeg",
    ) -> Any:
        form = {"caption": caption}
        if resolution is not None:
            form["resolution"] = resolution
        body = photo(640, 480) if data is None else data
        return await client.post(
            "/api/images",
            files={"file": (filename, body, content_type)},
            data=form,
            headers=headers,
        )

    return send


@pytest.fixture
def wait_done(client: AsyncTestClient) -> Callable[..., Awaitable[dict]]:
    """Poll GET /api/images/{id} until every rendition, in every format, is ready or failed."""

    async def wait(headers: dict[str, str], image_id: str) -> dict:
        deadline = asyncio.get_running_loop().time() + DONE_WITHIN_SECONDS
        while True:
            r = await client.get(f"/api/images/{image_id}", headers=headers)
            assert r.status_code == 200, r.text
            body = r.json()
            if all(
                x["status"] in FINISHED and all(f["status"] in FINISHED for f in x["formats"])
                for x in body["renditions"]
            ):
                return body
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"renditions still pending: {body['renditions']}")
            await asyncio.sleep(0.05)

    return wait
