"""Plan changes take effect at once, on both storages: links go, links come, renditions follow."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("settings")

BOTH_STORAGES = pytest.mark.parametrize("storage_env", ["local", "s3"], indirect=True)


def slugs(image: dict) -> list[str]:
    return [r["slug"] for r in image["renditions"]]


@BOTH_STORAGES
async def test_moving_down_loses_links_at_once(
    client, make_user, admin_headers, upload, wait_done
) -> None:
    headers = await make_user("pia", plan="Premium")
    image = await wait_done(headers, (await upload(headers)).json()["id"])
    assert slugs(image) == ["h200", "h400"]
    assert image["original_url"]
    assert (await client.get(image["original_url"], headers=headers)).status_code == 200
    assert (await client.get(f"/media/{image['id']}/h400", headers=headers)).status_code == 200

    r = await client.patch("/api/admin/users/pia", json={"plan": "Basic"}, headers=admin_headers)
    assert r.status_code == 200, r.text

    now = (await client.get(f"/api/images/{image['id']}", headers=headers)).json()
    assert slugs(now) == ["h200"]
    assert now["original_url"] is None
    listed = (await client.get("/api/images", headers=headers)).json()["items"][0]
    assert slugs(listed) == ["h200"]
    assert listed["original_url"] is None
    assert (await client.get(f"/media/{image['id']}/original", headers=headers)).status_code == 403
    assert (await client.get(f"/media/{image['id']}/h400", headers=headers)).status_code == 403
    assert (await client.get(f"/media/{image['id']}/h200", headers=headers)).status_code == 200


@BOTH_STORAGES
async def test_moving_up_gains_links_and_missing_renditions(
    client, make_user, admin_headers, upload, wait_done
) -> None:
    headers = await make_user("bo", plan="Basic")
    image = await wait_done(headers, (await upload(headers)).json()["id"])
    assert slugs(image) == ["h200"]
    assert image["original_url"] is None

    r = await client.patch("/api/admin/users/bo", json={"plan": "Studio"}, headers=admin_headers)
    assert r.status_code == 200, r.text

    # The links show at once; the renditions are made in the background.
    now = (await client.get(f"/api/images/{image['id']}", headers=headers)).json()
    assert slugs(now) == ["very-high", "high", "medium", "low"]
    assert now["original_url"]
    done = await wait_done(headers, image["id"])
    assert {r["slug"]: r["status"] for r in done["renditions"]} == {
        "very-high": "ready",
        "high": "ready",
        "medium": "ready",
        "low": "ready",
    }
    sizes = {r["slug"]: (r["width"], r["height"]) for r in done["renditions"]}
    assert sizes["low"] == (124, 93)  # 640x480 into 124x124, contain
    assert sizes["high"] == (640, 480)  # never upscaled
    low = await client.get(f"/media/{image['id']}/low", headers=headers)
    assert low.status_code == 200
    assert low.headers["content-type"] == "image/jpeg"
    original = await client.get(done["original_url"], headers=headers)
    assert original.status_code == 200


@BOTH_STORAGES
async def test_plan_gaining_a_size_backfills_its_users(
    client, make_user, admin_headers, upload, wait_done
) -> None:
    headers = await make_user("cy", plan="Basic")
    image = await wait_done(headers, (await upload(headers)).json()["id"])
    r = await client.post(
        "/api/admin/sizes",
        json={"slug": "w64", "width": 64, "height": 64, "fit": "cover"},
        headers=admin_headers,
    )
    assert r.status_code == 201, r.text
    r = await client.patch(
        "/api/admin/plans/Basic", json={"sizes": ["h200", "w64"]}, headers=admin_headers
    )
    assert r.status_code == 200, r.text
    done = await wait_done(headers, image["id"])
    made = {r["slug"]: r for r in done["renditions"]}
    assert made["w64"]["status"] == "ready"
    assert (made["w64"]["width"], made["w64"]["height"]) == (64, 64)  # cover crops
