"""Image list and detail reads are cached and invalidated by every change.

Each test first reads (filling the cache), then changes something, then reads
again: a missing invalidation serves the stale view and fails the test. Runs
with the in-process cache and with Redis, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.testing import AsyncTestClient

from imageuploader.container import Services
from imageuploader.images.tables import Image, Rendition

from .conftest import QueryLog, run_queued, run_workers, upload


def statuses(view: dict) -> dict[str, str]:
    return {r["slug"]: r["status"] for r in view["renditions"]}


async def listing(client: AsyncTestClient, headers: dict[str, str]) -> dict:
    r = await client.get("/api/images", params={"per_page": 10}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def detail(client: AsyncTestClient, headers: dict[str, str], image_id: str) -> dict:
    r = await client.get(f"/api/images/{image_id}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_warm_read_is_served_from_the_cache(
    client: AsyncTestClient, make_user: Callable[..., Any], query_log: QueryLog
) -> None:
    alice = await make_user("alice", "Premium")
    image = await upload(client, alice)
    await listing(client, alice)
    await detail(client, alice, image["id"])
    with query_log.counting() as warm:
        await listing(client, alice)
        await detail(client, alice, image["id"])
    # Quoted table names: the plan query's "max_images" column is not the images table.
    touched = [q for q in warm if '"images"' in q or '"renditions"' in q]
    assert touched == [], touched


async def test_upload_invalidates_the_list(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    alice = await make_user("alice", "Basic")
    first = await upload(client, alice, "first")
    assert [i["id"] for i in (await listing(client, alice))["items"]] == [first["id"]]
    second = await upload(client, alice, "second")
    page = await listing(client, alice)
    assert page["total"] == 2
    assert {i["id"] for i in page["items"]} == {first["id"], second["id"]}


async def test_rendition_ready_invalidates_list_and_detail(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    alice = await make_user("alice", "Premium")
    image = await upload(client, alice)
    assert statuses(await detail(client, alice, image["id"])) == {
        "h200": "ready",
        "h400": "pending",
    }
    assert statuses((await listing(client, alice))["items"][0])["h400"] == "pending"

    assert await run_workers(client.app) == ["ready"]

    assert statuses(await detail(client, alice, image["id"])) == {"h200": "ready", "h400": "ready"}
    assert statuses((await listing(client, alice))["items"][0])["h400"] == "ready"


async def test_rendition_failed_invalidates(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    alice = await make_user("alice", "Premium")
    image = await upload(client, alice)
    assert statuses(await detail(client, alice, image["id"]))["h400"] == "pending"
    # Without its original and intermediate the rendition cannot be made: it fails.
    services: Services = client.app.state.services
    row = await Image.select().where(Image.id == image["id"]).first()
    services.storage.delete_many(row["location"], [row["original_key"], row["intermediate_key"]])

    assert await run_workers(client.app) == ["failed"]

    view = await detail(client, alice, image["id"])
    assert statuses(view)["h400"] == "failed"
    assert statuses((await listing(client, alice))["items"][0])["h400"] == "failed"


async def test_delete_invalidates_list_and_detail(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    alice = await make_user("alice", "Basic")
    keep = await upload(client, alice, "keep")
    gone = await upload(client, alice, "gone")
    assert (await listing(client, alice))["total"] == 2
    await detail(client, alice, gone["id"])

    r = await client.delete(f"/api/images/{gone['id']}", headers=alice)
    assert r.status_code == 204, r.text

    page = await listing(client, alice)
    assert [i["id"] for i in page["items"]] == [keep["id"]]
    assert page["total"] == 1
    r = await client.get(f"/api/images/{gone['id']}", headers=alice)
    assert r.status_code == 404


async def test_plan_edit_invalidates(
    client: AsyncTestClient, make_user: Callable[..., Any], admin_headers: dict[str, str]
) -> None:
    alice = await make_user("alice", "Premium")
    image = await upload(client, alice)
    assert (await detail(client, alice, image["id"]))["original_url"]
    assert (await listing(client, alice))["items"][0]["original_url"]

    r = await client.patch(
        "/api/admin/plans/Premium",
        json={"original_link": False, "sizes": ["h200"]},
        headers=admin_headers,
    )
    assert r.status_code == 200, r.text

    view = await detail(client, alice, image["id"])
    assert view["original_url"] is None
    assert list(statuses(view)) == ["h200"]
    item = (await listing(client, alice))["items"][0]
    assert item["original_url"] is None
    assert list(statuses(item)) == ["h200"]


async def test_user_plan_change_invalidates(
    client: AsyncTestClient, make_user: Callable[..., Any], admin_headers: dict[str, str]
) -> None:
    alice = await make_user("alice", "Basic")
    image = await upload(client, alice)
    assert (await detail(client, alice, image["id"]))["original_url"] is None
    assert list(statuses((await listing(client, alice))["items"][0])) == ["h200"]

    r = await client.patch(
        "/api/admin/users/alice", json={"plan": "Premium"}, headers=admin_headers
    )
    assert r.status_code == 200, r.text

    view = await detail(client, alice, image["id"])
    assert view["original_url"]
    assert list(statuses(view)) == ["h200", "h400"]
    assert list(statuses((await listing(client, alice))["items"][0])) == ["h200", "h400"]


async def test_size_edit_remake_shows_pending_then_its_new_url(
    client: AsyncTestClient, make_user: Callable[..., Any], admin_headers: dict[str, str]
) -> None:
    alice = await make_user("alice", "Premium")
    image = await upload(client, alice)
    await run_workers(client.app)
    await run_queued(client.app)  # the upload's messages, for rows already made
    before = await detail(client, alice, image["id"])
    h400 = next(r for r in before["renditions"] if r["slug"] == "h400")
    assert h400["status"] == "ready" and "?v=" in h400["url"]
    assert (await listing(client, alice))["items"][0] == before

    r = await client.patch("/api/admin/sizes/h400", json={"height": 120}, headers=admin_headers)
    assert r.status_code == 200, r.text

    assert await run_queued(client.app) == ["remake_size: None"]
    pending = await detail(client, alice, image["id"])
    assert statuses(pending) == {"h200": "ready", "h400": "pending"}
    # Until it is remade, no version: the digest kept names the bytes being replaced.
    assert {r["slug"]: r["url"] for r in pending["renditions"]}["h400"] == (
        f"/media/{image['id']}/h400"
    )
    assert (await listing(client, alice))["items"][0] == pending

    assert await run_queued(client.app) == ["make_rendition: ready"]
    after = await detail(client, alice, image["id"])
    remade = next(r for r in after["renditions"] if r["slug"] == "h400")
    row = (
        await Rendition.select(Rendition.digest)
        .where((Rendition.image == image["id"]) & (Rendition.slug == "h400"))
        .first()
    )
    assert (remade["status"], remade["height"]) == ("ready", 120)
    assert remade["url"] == f"/media/{image['id']}/h400?v={row['digest'][:16]}" != h400["url"]
    assert (await listing(client, alice))["items"][0] == after


async def test_an_admin_read_neither_poisons_nor_goes_stale(
    client: AsyncTestClient, make_user: Callable[..., Any], admin_headers: dict[str, str]
) -> None:
    alice = await make_user("alice", "Premium")
    image = await upload(client, alice)
    # The admin (Enterprise) sees alice's image as her plan shows it.
    admin_view = await detail(client, admin_headers, image["id"])
    assert statuses(admin_view) == {"h200": "ready", "h400": "pending"}
    assert await detail(client, alice, image["id"]) == admin_view

    await run_workers(client.app)

    # Neither the admin's nor alice's read is stale after the worker's change.
    assert statuses(await detail(client, admin_headers, image["id"]))["h400"] == "ready"
    assert statuses(await detail(client, alice, image["id"]))["h400"] == "ready"


async def test_cached_views_stay_private(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    alice = await make_user("alice", "Basic")
    bob = await make_user("bob", "Basic")
    image = await upload(client, alice)
    await detail(client, alice, image["id"])
    await listing(client, alice)

    r = await client.get(f"/api/images/{image['id']}", headers=bob)
    assert r.status_code == 404
    assert (await listing(client, bob))["items"] == []
