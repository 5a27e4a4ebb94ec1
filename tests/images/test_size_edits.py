"""Editing a size remakes its renditions in the background: new bytes, new ETag, new URL.

No reprocess is run here: the edit alone (JSON API or admin page) must get the
in-process workers to remake every rendition of the size.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from imageuploader.accounts.tables import Size
from imageuploader.images import renditions
from imageuploader.images.tables import Rendition
from tests.pages.conftest import log_in

from .conftest import DONE_WITHIN_SECONDS

pytestmark = pytest.mark.usefixtures("settings")


async def rendition(client: AsyncTestClient, headers: dict[str, str], image_id: str, slug: str):
    r = await client.get(f"/api/images/{image_id}", headers=headers)
    assert r.status_code == 200, r.text
    return next(x for x in r.json()["renditions"] if x["slug"] == slug)


async def wait_for_height(
    client: AsyncTestClient, headers: dict[str, str], image_id: str, slug: str, height: int
) -> dict[str, Any]:
    """Poll the API until the rendition is ready at `height` (a liveness bound, not a target)."""
    deadline = asyncio.get_running_loop().time() + DONE_WITHIN_SECONDS
    while True:
        found = await rendition(client, headers, image_id, slug)
        if found["status"] == "ready" and found["height"] == height:
            return found
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"{slug} not remade at height {height}: {found}")
        await asyncio.sleep(0.05)


async def stored_digest(image_id: str, slug: str) -> str:
    row = (
        await Rendition.select(Rendition.digest)
        .where((Rendition.image == image_id) & (Rendition.slug == slug))
        .first()
    )
    return row["digest"]


async def check_remade(
    client: AsyncTestClient,
    headers: dict[str, str],
    image_id: str,
    before: dict[str, Any],
    old_etag: str,
    remade: dict[str, Any],
) -> None:
    """The remade rendition: its old validator no longer matches; its URL names the new bytes."""
    path = f"/media/{image_id}/h200"
    r = await client.get(path, headers={**headers, "If-None-Match": old_etag})
    assert r.status_code == 200
    new_etag = r.headers["etag"]
    assert new_etag != old_etag
    assert new_etag == f'"{await stored_digest(image_id, "h200")}"'
    assert (
        await client.get(path, headers={**headers, "If-None-Match": new_etag})
    ).status_code == 304

    assert remade["url"] != before["url"]
    digest = new_etag.strip('"')
    assert remade["url"] == f"{path}?v={digest[:16]}"
    fresh = await client.get(remade["url"], headers=headers)
    assert fresh.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert fresh.content == r.content
    # The URL handed out before the edit still works, but may no longer be kept for good.
    stale = await client.get(before["url"], headers=headers)
    assert stale.status_code == 200
    assert stale.content == r.content
    assert stale.headers["cache-control"] == "private, no-cache"


async def test_size_edit_through_the_api_remakes_its_renditions(
    client, make_user, admin_headers, upload, wait_done
) -> None:
    headers = await make_user("ada", plan="Basic")
    image = await wait_done(headers, (await upload(headers)).json()["id"])
    before = next(x for x in image["renditions"] if x["slug"] == "h200")
    assert (before["width"], before["height"]) == (267, 200)
    old = await client.get(before["url"], headers=headers)
    assert old.status_code == 200

    r = await client.patch("/api/admin/sizes/h200", json={"height": 100}, headers=admin_headers)
    assert r.status_code == 200, r.text

    remade = await wait_for_height(client, headers, image["id"], "h200", 100)
    assert remade["width"] == 133
    await check_remade(client, headers, image["id"], before, old.headers["etag"], remade)


async def test_size_edit_on_the_admin_page_remakes_its_renditions(
    client, make_user, upload, wait_done
) -> None:
    headers = await make_user("bea", plan="Basic")
    image = await wait_done(headers, (await upload(headers)).json()["id"])
    before = next(x for x in image["renditions"] if x["slug"] == "h200")
    old = await client.get(before["url"], headers=headers)

    admin = await log_in(client, "admin", "admin")
    r = await admin.form(
        "/admin/sizes/edit", {"slug": "h200", "width": "", "height": "150", "fit": "contain"}
    )
    assert r.status_code == 200, r.text
    client.cookies.clear()  # back to the bearer token alone

    remade = await wait_for_height(client, headers, image["id"], "h200", 150)
    assert remade["width"] == 200
    await check_remade(client, headers, image["id"], before, old.headers["etag"], remade)


async def test_a_render_for_the_old_box_is_never_marked_ready(
    client, make_user, upload, wait_done
) -> None:
    """A worker that loaded its job before the edit finishes after it: its bytes follow the
    old box, so the row stays pending for the remake the edit queued."""
    headers = await make_user("cy", plan="Basic")
    image = await wait_done(headers, (await upload(headers)).json()["id"])
    ctx = client.app.state.services.worker
    where = (Rendition.image == image["id"]) & (Rendition.slug == "h200")
    row = await Rendition.select(Rendition.id).where(where).first()
    # Pending again with no message queued: only this test makes it.
    await Rendition.update({Rendition.status: "pending"}).where(where)
    job = await renditions._load_job(row["id"])
    await Size.update({Size.height: 90}).where(Size.slug == "h200")

    assert await renditions._make(ctx, job) == "superseded"
    assert (await Rendition.select(Rendition.status).where(where).first())["status"] == "pending"

    assert await renditions.make_rendition(ctx, row["id"]) == "ready"
    made = await Rendition.select(Rendition.height, Rendition.status).where(where).first()
    assert made == {"height": 90, "status": "ready"}
