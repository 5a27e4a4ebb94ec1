"""The image list runs a constant number of SQL queries whatever the page size."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from imageuploader.accounts.tables import User
from imageuploader.images.tables import Image, Rendition

from .conftest import QueryLog

IMAGES = 60


async def add_images(username: str, count: int) -> None:
    """Rows straight into the database: the list reads rows, not pixels."""
    owner = await User.select(User.id).where(User.username == username).first()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    images, renditions = [], []
    for n in range(count):
        ident = uuid.uuid4()
        at = start + timedelta(minutes=n)
        images.append(
            Image(
                id=ident,
                owner=owner["id"],
                caption=f"image {n}",
                width=640,
                height=480,
                format="jpeg",
                mime_type="image/jpeg",
                bytes=1000,
                location="local",
                original_key=f"{ident}/original",
                intermediate_key=None,
                created_at=at,
            )
        )
        for slug in ("h200", "h400"):
            renditions.append(
                Rendition(image=ident, slug=slug, status="pending", created_at=at, updated_at=at)
            )
    await Image.insert(*images)
    await Rendition.insert(*renditions)


async def test_list_query_count_does_not_grow_with_page_size(
    client: AsyncTestClient, make_user: Callable[..., Any], query_log: QueryLog
) -> None:
    alice = await make_user("alice", "Premium")
    await add_images("alice", IMAGES)
    # Authentication is cached per process: warm it, so both reads count the same way.
    assert (await client.get("/api/me", headers=alice)).status_code == 200
    counts = {}
    for per_page in (1, 50):
        # Each page size is a different cache key: both reads are cold.
        with query_log.counting() as queries:
            r = await client.get("/api/images", params={"per_page": per_page}, headers=alice)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) == per_page
        assert body["total"] == IMAGES
        assert all(len(i["renditions"]) == 2 for i in body["items"])
        counts[per_page] = len(queries)
    assert counts[1] == counts[50], counts
    # Authentication included; a per-image query would add 50 here.
    assert counts[50] < 15, counts
