"""Plan limits and usage: every limit refuses with the usage named and nothing stored;
usage equals the bytes really stored through deletes, late renditions and plan changes;
the same bytes uploaded again by the same user are the same image."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from imageuploader.images.reconciler import reconcile_once
from imageuploader.images.tables import Image, Rendition
from imageuploader.imaging import strip_metadata
from imageuploader.settings import Settings

from .conftest import photo
from .test_upload import stored_files

pytestmark = pytest.mark.usefixtures("settings")

GIB = 1024**3


def bytes_on_disk(settings: Settings, image_ids: list[str]) -> int:
    """The objects local storage holds for these images, of every kind (its own
    metadata sidecars under .meta are not objects)."""
    wanted = set(image_ids)
    return sum(
        p.stat().st_size
        for p in stored_files(settings)
        if p.parent.name in wanted and ".meta" not in p.parts
    )


async def me(client: AsyncTestClient, headers: dict[str, str]) -> dict[str, Any]:
    r = await client.get("/api/me", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


async def set_limits(client: AsyncTestClient, admin: dict[str, str], plan: str, **limits: Any):
    r = await client.patch(f"/api/admin/plans/{plan}", json=limits, headers=admin)
    assert r.status_code == 200, r.text
    return r.json()


async def test_builtin_limits(client, admin_headers) -> None:
    r = await client.get("/api/admin/plans", headers=admin_headers)
    assert r.status_code == 200, r.text
    limits = {p["name"]: (p["max_images"], p["max_bytes"], p["max_upload_bytes"]) for p in r.json()}
    assert limits == {
        "Basic": (100, 1 * GIB, None),
        "Premium": (1000, 10 * GIB, None),
        "Enterprise": (None, None, None),
        "Studio": (None, None, None),
    }


async def test_limits_are_edited_and_validated(client, admin_headers, settings) -> None:
    body = {"name": "Tiny", "sizes": ["h200"], "max_images": 5, "max_upload_bytes": 1000}
    r = await client.post("/api/admin/plans", json=body, headers=admin_headers)
    assert r.status_code == 201, r.text
    assert (r.json()["max_images"], r.json()["max_bytes"], r.json()["max_upload_bytes"]) == (
        5,
        None,
        1000,
    )
    # null sets a limit back to unlimited; unnamed limits stay as they were.
    edited = await set_limits(client, admin_headers, "Tiny", max_images=None, max_bytes=4096)
    assert (edited["max_images"], edited["max_bytes"], edited["max_upload_bytes"]) == (
        None,
        4096,
        1000,
    )
    too_big = settings.max_upload_bytes + 1
    for method, path, payload in [
        ("patch", "/api/admin/plans/Tiny", {"max_upload_bytes": too_big}),
        ("post", "/api/admin/plans", {**body, "name": "Big", "max_upload_bytes": too_big}),
    ]:
        r = await getattr(client, method)(path, json=payload, headers=admin_headers)
        assert r.status_code == 422, r.text
        assert "MAX_UPLOAD_BYTES" in r.json()["detail"]
    r = await client.patch("/api/admin/plans/Tiny", json={"max_images": -1}, headers=admin_headers)
    assert r.status_code == 400, r.text
    r = await client.get("/api/admin/plans/Tiny", headers=admin_headers)
    assert r.json()["max_upload_bytes"] == 1000


async def test_max_images_refuses_and_stores_nothing(
    client, upload, make_user, admin_headers, settings
) -> None:
    await set_limits(client, admin_headers, "Basic", max_images=2)
    ann = await make_user("ann")
    for width in (320, 330):
        r = await upload(ann, photo(width, 240))
        assert r.status_code == 201, r.text
    files = stored_files(settings)
    r = await upload(ann, photo(340, 240))
    assert r.status_code == 403, r.text
    detail = r.json()["detail"]
    assert "max_images" in detail
    assert "limit is 2 images and you have 2" in detail
    assert await Image.count() == 2
    assert stored_files(settings) == files
    # A larger limit lets the same upload in.
    await set_limits(client, admin_headers, "Basic", max_images=3)
    assert (await upload(ann, photo(340, 240))).status_code == 201


async def test_max_bytes_refuses_with_usage(client, upload, make_user, admin_headers, settings):
    ann = await make_user("ann")
    first = await upload(ann, photo(320, 240))
    assert first.status_code == 201, first.text
    used = (await me(client, ann))["usage"]["bytes"]
    assert used == bytes_on_disk(settings, [first.json()["id"]])
    await set_limits(client, admin_headers, "Basic", max_bytes=used + 100)
    files = stored_files(settings)
    r = await upload(ann, photo(330, 240))
    assert r.status_code == 403, r.text
    detail = r.json()["detail"]
    assert "max_bytes" in detail
    assert f"{used + 100:,} bytes" in detail
    assert f"you use {used:,} bytes" in detail
    assert stored_files(settings) == files
    assert await Image.count() == 1


async def test_plan_upload_limit_is_413(client, upload, make_user, admin_headers, settings):
    data = photo(640, 480)
    await set_limits(client, admin_headers, "Basic", max_upload_bytes=len(data) - 1)
    ann = await make_user("ann")
    r = await upload(ann, data)
    assert r.status_code == 413, r.text
    assert "max_upload_bytes" in r.json()["detail"]
    assert f"{len(data) - 1:,} bytes" in r.json()["detail"]
    assert stored_files(settings) == []
    await set_limits(client, admin_headers, "Basic", max_upload_bytes=len(data))
    assert (await upload(ann, data)).status_code == 201


async def test_me_shows_usage_and_limits(client, upload, make_user, settings) -> None:
    ann = await make_user("ann")
    body = await me(client, ann)
    assert body["usage"] == {"images": 0, "bytes": 0}
    assert (body["plan"]["max_images"], body["plan"]["max_bytes"]) == (100, GIB)
    r = await upload(ann, photo(320, 240))
    assert r.status_code == 201, r.text
    usage = (await me(client, ann))["usage"]
    assert usage == {"images": 1, "bytes": bytes_on_disk(settings, [r.json()["id"]])}


async def test_usage_through_late_renditions_plan_changes_and_deletes(
    client, upload, make_user, admin_headers, settings, wait_done
) -> None:
    ann = await make_user("ann")  # Basic: h200 only, made in the request
    ids = []
    for width in (640, 800):
        r = await upload(ann, photo(width, 480))
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    before = (await me(client, ann))["usage"]
    assert before == {"images": 2, "bytes": bytes_on_disk(settings, ids)}

    # Premium adds h400 and WebP variants, made later by workers: their bytes join the
    # usage when stored.
    r = await client.patch("/api/admin/users/ann", json={"plan": "Premium"}, headers=admin_headers)
    assert r.status_code == 200, r.text
    added = 0
    for image_id in ids:
        done = await wait_done(ann, image_id)
        rendition = next(x for x in done["renditions"] if x["slug"] == "h400")
        assert rendition["status"] == "ready"
        added += rendition["bytes"]
        for x in done["renditions"]:
            webp = next(f for f in x["formats"] if f["format"] == "webp")
            assert webp["status"] == "ready" and webp["bytes"] > 0
            added += webp["bytes"]
    after = await me(client, ann)
    assert after["usage"] == {"images": 2, "bytes": before["bytes"] + added}
    assert after["usage"]["bytes"] == bytes_on_disk(settings, ids)
    assert after["plan"]["max_images"] == 1000

    # Back on a plan it is over: still the same stored bytes, and new uploads refused.
    await set_limits(client, admin_headers, "Basic", max_images=1)
    r = await client.patch("/api/admin/users/ann", json={"plan": "Basic"}, headers=admin_headers)
    assert r.status_code == 200, r.text
    assert (await me(client, ann))["usage"] == after["usage"]
    refused = await upload(ann, photo(900, 480))
    assert refused.status_code == 403, refused.text
    assert "you have 2" in refused.json()["detail"]

    # A delete gives back exactly what the image held.
    assert (await client.delete(f"/api/images/{ids[0]}", headers=ann)).status_code == 204
    left = (await me(client, ann))["usage"]
    assert left == {"images": 1, "bytes": bytes_on_disk(settings, ids[1:])}
    assert left["bytes"] == bytes_on_disk(settings, ids)  # nothing of ids[0] remains
    assert (await upload(ann, photo(900, 480))).status_code == 403  # 1 of 1
    assert (await client.delete(f"/api/images/{ids[1]}", headers=ann)).status_code == 204
    assert (await me(client, ann))["usage"] == {"images": 0, "bytes": 0}


async def test_failed_upload_uses_nothing(client, upload, make_user) -> None:
    ann = await make_user("ann")
    r = await upload(ann, photo(800, 600)[:5000])  # truncated
    assert r.status_code == 422, r.text
    assert (await me(client, ann))["usage"] == {"images": 0, "bytes": 0}


async def test_duplicate_is_the_same_image(client, upload, make_user, settings) -> None:
    ann = await make_user("ann")
    data = photo(640, 480)
    first = await upload(ann, data, caption="first")
    assert first.status_code == 201, first.text
    assert first.json()["duplicate"] is False
    files = stored_files(settings)
    usage = (await me(client, ann))["usage"]

    again = await upload(ann, data, caption="second", filename="other-name.jpg")
    assert again.status_code == 200, again.text
    body = again.json()
    assert body["duplicate"] is True
    assert body["id"] == first.json()["id"]
    assert body["caption"] == "first"
    assert stored_files(settings) == files
    assert (await me(client, ann))["usage"] == usage
    assert await Image.count() == 1
    row = await Image.select(Image.digest).first()
    # The digest of the stored original: the upload without its metadata.
    assert row["digest"] == hashlib.sha256(strip_metadata(data, "jpeg")).hexdigest()

    # A wrong declared resolution is refused as for any upload.
    wrong = await upload(ann, data, resolution="800x600")
    assert wrong.status_code == 422, wrong.text
    assert (await upload(ann, data, resolution="640x480")).json()["duplicate"] is True

    # Different bytes are a new image, even if the picture looks the same.
    other = await upload(ann, photo(640, 480, suffix=".png"))
    assert other.status_code == 201, other.text


async def test_duplicates_are_never_shared_across_users(client, upload, make_user, settings):
    ann, bob = await make_user("ann"), await make_user("bob")
    data = photo(640, 480)
    mine = await upload(ann, data)
    theirs = await upload(bob, data)
    assert (mine.status_code, theirs.status_code) == (201, 201), theirs.text
    assert theirs.json()["duplicate"] is False
    assert theirs.json()["id"] != mine.json()["id"]
    assert (await me(client, bob))["usage"]["images"] == 1
    # Each owns an independent copy: ann deleting hers leaves bob's intact.
    assert (await client.delete(f"/api/images/{mine.json()['id']}", headers=ann)).status_code == 204
    r = await client.get(f"/api/images/{theirs.json()['id']}", headers=bob)
    assert r.status_code == 200, r.text
    media = await client.get(r.json()["renditions"][0]["url"], headers=bob)
    assert media.status_code == 200
    assert (
        bytes_on_disk(settings, [theirs.json()["id"]]) == (await me(client, bob))["usage"]["bytes"]
    )


async def test_duplicate_over_the_limit_is_still_answered(
    client, upload, make_user, admin_headers
) -> None:
    """Uploading bytes one already has takes no quota, so a full plan still answers 200."""
    await set_limits(client, admin_headers, "Basic", max_images=1)
    ann = await make_user("ann")
    data = photo(640, 480)
    assert (await upload(ann, data)).status_code == 201
    again = await upload(ann, data)
    assert again.status_code == 200, again.text
    assert again.json()["duplicate"] is True
    assert await Rendition.count() == 1


async def test_reconciler_measures_images_stored_before_sizes_were_recorded(
    client, upload, make_user, app, settings
) -> None:
    """Images from before the intermediate's size was recorded: the sweep measures it."""
    ann = await make_user("ann")
    r = await upload(ann, photo(640, 480))
    assert r.status_code == 201, r.text
    exact = bytes_on_disk(settings, [r.json()["id"]])
    await Image.update({Image.intermediate_bytes: None}, force=True)
    assert (await me(client, ann))["usage"]["bytes"] < exact

    services = app.state.services
    await reconcile_once(services.jobs, timedelta(hours=1), services.storage, services.cache)
    assert (await me(client, ann))["usage"]["bytes"] == exact
    assert await Image.count().where(Image.intermediate_bytes.is_null()) == 0
