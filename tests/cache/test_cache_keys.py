"""One image, one detail cache entry: only the canonical spelling of its id is served."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from imageuploader.container import Services
from imageuploader.images.cache import MemoryBackend, RedisBackend

from .conftest import upload


def spellings(image_id: str) -> list[str]:
    """Strings uuid.UUID() reads as the same id; none of them is the canonical form."""
    bare = image_id.replace("-", "")
    return [
        image_id.upper(),
        bare,
        f"urn:uuid:{image_id}",
        f"{{{image_id}}}",
        "-".join(image_id.split("-")[:2]) + "-" + "-".join(image_id.split("-")[2:]) + "-",
        image_id[:8] + "--" + image_id[9:],
    ]


def detail_keys(services: Services) -> list[str]:
    backend = services.cache.backend
    if isinstance(backend, MemoryBackend):
        keys = list(backend._entries)
    else:
        assert isinstance(backend, RedisBackend)
        keys = [k.decode() for k in backend.client.scan_iter("imageuploader:cache:v:*")]
    return [k for k in keys if ":image:" in k]


async def test_non_canonical_ids_are_404_and_make_no_cache_entries(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    alice = await make_user("alice", "Premium")
    image_id = (await upload(client, alice))["id"]
    assert (await client.get(f"/api/images/{image_id}", headers=alice)).status_code == 200
    services: Services = client.app.state.services
    assert len(detail_keys(services)) == 1
    for spelling in spellings(image_id):
        for path in (
            f"/api/images/{spelling}",
            f"/media/{spelling}/original",
            f"/media/{spelling}/h200",
        ):
            r = await client.get(path, headers=alice)
            assert r.status_code == 404, (path, r.status_code)
        r = await client.post(
            f"/api/images/{spelling}/expiring-links", json={"seconds": 600}, headers=alice
        )
        assert r.status_code in (403, 404), r.text  # Premium has no expiring links
    assert len(detail_keys(services)) == 1


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_a_non_canonical_id_never_reaches_the_image(
    client: AsyncTestClient, make_user: Callable[..., Any], method: str
) -> None:
    alice = await make_user("alice", "Premium")
    image_id = (await upload(client, alice))["id"]
    r = await client.request(method, f"/api/images/{image_id.upper()}", headers=alice)
    assert r.status_code == 404
    assert (await client.get(f"/api/images/{image_id}", headers=alice)).status_code == 200
