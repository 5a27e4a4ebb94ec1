"""Media reads answer from the cache (what an object is, and a small object's bytes),
never to the wrong person and never after the object changed or went."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from litestar import Litestar
from litestar.testing import AsyncTestClient

from imageuploader.images import objects
from imageuploader.images.locate import choices_of
from imageuploader.images.records import ImageRecord
from imageuploader.images.tables import Image
from imageuploader.lru import BytesLRU

from .conftest import QueryLog, run_workers, upload


async def ready_image(app: Litestar, client: AsyncTestClient, headers: dict[str, str]) -> dict:
    image = await upload(client, headers)
    await run_workers(app)
    return image


async def shared_path(client: AsyncTestClient, headers: dict[str, str], image_id: str) -> str:
    r = await client.post(
        f"/api/images/{image_id}/expiring-links",
        json={"seconds": 600, "rendition": "h200"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return urlsplit(r.json()["url"]).path


async def test_warm_media_and_link_reads_run_no_query(
    app: Litestar,
    client: AsyncTestClient,
    make_user: Callable[..., Any],
    query_log: QueryLog,
) -> None:
    alice = await make_user("alice", "Enterprise")
    image = await ready_image(app, client, alice)
    media = f"/media/{image['id']}/h200"
    shared = await shared_path(client, alice, image["id"])
    first = await client.get(media, headers=alice)
    assert first.status_code == 200, first.text
    assert (await client.get(shared)).content == first.content

    with query_log.counting() as statements:
        again = await client.get(media, headers=alice)
        revalidated = await client.get(
            media, headers={**alice, "If-None-Match": first.headers["etag"]}
        )
        linked = await client.get(shared)
    assert again.content == first.content
    assert revalidated.status_code == 304
    assert linked.status_code == 200
    assert linked.content == first.content
    assert statements == []


async def test_an_owners_cached_object_is_not_anyone_elses(
    app: Litestar, client: AsyncTestClient, make_user: Callable[..., Any], admin_headers
) -> None:
    alice = await make_user("alice", "Enterprise")
    mallory = await make_user("mallory", "Enterprise")
    image = await ready_image(app, client, alice)
    media = f"/media/{image['id']}/h200"
    assert (await client.get(media, headers=alice)).status_code == 200
    assert (await client.get(media, headers=alice)).status_code == 200

    stolen = await client.get(media, headers=mallory)
    assert stolen.status_code == 404, stolen.text
    # An admin sees it under the owner's plan, and leaves no entry of their own behind.
    assert (await client.get(media, headers=admin_headers)).status_code == 200
    assert (await client.get(media, headers=mallory)).status_code == 404
    assert (await client.get(media, headers=alice)).status_code == 200


async def test_a_deleted_image_is_gone_from_media_and_links_at_once(
    app: Litestar, client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    alice = await make_user("alice", "Enterprise")
    image = await ready_image(app, client, alice)
    media = f"/media/{image['id']}/h200"
    shared = await shared_path(client, alice, image["id"])
    assert (await client.get(media, headers=alice)).status_code == 200
    assert (await client.get(shared)).status_code == 200

    assert (await client.delete(f"/api/images/{image['id']}", headers=alice)).status_code == 204
    assert (await client.get(media, headers=alice)).status_code == 404
    gone = await client.get(shared)
    assert gone.status_code == 404
    assert "deleted" in gone.text


def test_bytes_lru_drops_the_least_recently_used_beyond_its_bound() -> None:
    memory = BytesLRU(max_bytes=300, max_value=100)
    for n in range(3):
        memory.put(("b", f"k{n}", f"d{n}"), bytes([n]) * 100)
    assert memory.get(("b", "k0", "d0")) == bytes([0]) * 100  # now the most recent
    memory.put(("b", "k3", "d3"), b"3" * 100)
    assert memory.get(("b", "k1", "d1")) is None
    assert memory.get(("b", "k0", "d0")) is not None
    assert memory.get(("b", "k3", "d3")) == b"3" * 100
    memory.put(("b", "big", "d"), b"x" * 101)
    assert memory.get(("b", "big", "d")) is None
    assert not memory.holds(101)
    assert memory.holds(100)
    assert not memory.holds(None)


async def test_bytes_replaced_under_the_same_key_are_not_kept_under_the_old_digest(
    app: Litestar, client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    alice = await make_user("alice", "Enterprise")
    image = await ready_image(app, client, alice)
    services = app.state.services
    row = await Image.select().where(Image.id == image["id"]).first()
    choices = await choices_of(ImageRecord.from_row(row), "h200")
    found = choices.ready[choices.fallback]
    # The object changes under its key before its row says so (a remake mid-way).
    services.storage.put(found.location, found.key, b"other bytes", "image/jpeg")
    served = await services.media.small_body(found)
    assert served == b"other bytes"
    assert services.media.memory.get((found.location, found.key, found.digest)) is None
    assert objects.digest(b"other bytes") != found.digest
