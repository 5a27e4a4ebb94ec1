"""Output formats per plan: validation, built-ins, variants made by workers, backfill on a
plan change, the placeholder in the image JSON, and deletion of every variant."""

from __future__ import annotations

import asyncio
import base64

import pytest
import pyvips

from imageuploader.images.tables import Variant
from tests.images.conftest import photo

pytestmark = pytest.mark.usefixtures("settings")


def formats_of(image: dict, slug: str) -> dict[str, dict]:
    rendition = next(r for r in image["renditions"] if r["slug"] == slug)
    return {f["format"]: f for f in rendition["formats"]}


async def test_built_in_plans_list_their_formats(client, admin_headers) -> None:
    r = await client.get("/api/admin/plans", headers=admin_headers)
    assert r.status_code == 200
    assert {p["name"]: p["formats"] for p in r.json()} == {
        "Basic": ["jpeg"],
        "Premium": ["jpeg", "webp"],
        "Enterprise": ["jpeg", "webp"],
        "Studio": ["jpeg", "webp", "avif"],
    }


@pytest.mark.parametrize(
    ("formats", "detail"),
    [
        (["jpeg", "gif"], "unknown format(s): gif"),
        (["webp"], "jpeg is always made"),
        (["jpeg", "webp", "webp"], "once"),
        ([], "jpeg is always made"),
    ],
)
async def test_bad_formats_are_refused_with_422(client, admin_headers, formats, detail) -> None:
    body = {"name": "Odd", "sizes": ["h200"], "formats": formats}
    r = await client.post("/api/admin/plans", json=body, headers=admin_headers)
    assert r.status_code == 422, r.text
    assert detail in r.json()["detail"]
    patch = await client.patch(
        "/api/admin/plans/Basic", json={"formats": formats}, headers=admin_headers
    )
    assert patch.status_code == 422
    plans = (await client.get("/api/admin/plans", headers=admin_headers)).json()
    assert "Odd" not in {p["name"] for p in plans}
    assert next(p for p in plans if p["name"] == "Basic")["formats"] == ["jpeg"]


async def test_formats_are_stored_in_canonical_order(client, admin_headers) -> None:
    body = {"name": "Mixed", "sizes": ["h200"], "formats": ["avif", "jpeg"]}
    r = await client.post("/api/admin/plans", json=body, headers=admin_headers)
    assert r.status_code == 201 and r.json()["formats"] == ["jpeg", "avif"]
    r = await client.patch(
        "/api/admin/plans/Mixed", json={"formats": ["webp", "jpeg", "avif"]}, headers=admin_headers
    )
    assert r.json()["formats"] == ["jpeg", "webp", "avif"]


async def test_studio_upload_gets_webp_and_avif_from_workers(
    client, make_user, upload, wait_done
) -> None:
    headers = await make_user("stu", plan="Studio")
    created = await upload(headers, photo(1200, 800))
    assert created.status_code == 201, created.text
    body = created.json()
    # At once: the primary JPEG is ready, its variants are queued, not made in the request.
    high = formats_of(body, "high")
    assert high["jpeg"]["status"] == "ready"
    assert list(high) == ["jpeg", "webp", "avif"]
    done = await wait_done(headers, body["id"])
    for rendition in done["renditions"]:
        made = {f["format"]: f for f in rendition["formats"]}
        assert {f: made[f]["status"] for f in made} == dict.fromkeys(made, "ready")
        for fmt, ext in (("jpeg", "jpg"), ("webp", "webp"), ("avif", "avif")):
            # Versioned by the variant's own digest (?v=), so a remake changes the URL.
            path, version = made[fmt]["url"].split("?v=")
            assert path == f"/media/{done['id']}/{rendition['slug']}.{ext}" and len(version) == 16
    rows = await Variant.select(Variant.format, Variant.bytes, Variant.digest)
    assert len(rows) == 8  # four sizes, two extra formats
    assert all(len(r["digest"]) == 64 and r["bytes"] > 0 for r in rows)
    # very-high and high are both 1024x683 here (same pixels, same bytes): 3 sizes x 2 formats.
    assert len({r["digest"] for r in rows}) == 6


async def test_basic_gets_jpeg_only(make_user, upload, wait_done) -> None:
    headers = await make_user("bas", plan="Basic")
    done = await wait_done(headers, (await upload(headers)).json()["id"])
    assert list(formats_of(done, "h200")) == ["jpeg"]
    assert await Variant.count() == 0


async def test_placeholder_is_in_the_image_json(make_user, upload, client) -> None:
    headers = await make_user("ph", plan="Basic")
    body = (await upload(headers, photo(900, 300))).json()
    raw = base64.b64decode(body["placeholder"])
    assert 5 <= len(raw) <= 25
    assert raw[4] & 0x80  # the landscape bit of the ThumbHash header
    again = (await client.get(f"/api/images/{body['id']}", headers=headers)).json()
    listed = (await client.get("/api/images", headers=headers)).json()["items"][0]
    assert again["placeholder"] == listed["placeholder"] == body["placeholder"]


async def test_a_plan_gaining_a_format_backfills_variants(
    client, make_user, admin_headers, upload, wait_done
) -> None:
    headers = await make_user("gain", plan="Basic")
    done = await wait_done(headers, (await upload(headers)).json()["id"])
    assert await Variant.count() == 0
    r = await client.patch(
        "/api/admin/plans/Basic", json={"formats": ["jpeg", "avif"]}, headers=admin_headers
    )
    assert r.status_code == 200, r.text
    after = await wait_done(headers, done["id"])
    avif = formats_of(after, "h200")["avif"]
    assert avif["status"] == "ready"
    fetched = await Variant.select(Variant.key).where(Variant.format == "avif").first()
    assert fetched["key"].endswith("/h200.avif")


async def test_moving_to_a_plan_with_more_formats_backfills(
    client, make_user, admin_headers, upload, wait_done
) -> None:
    headers = await make_user("mv", plan="Basic")
    image = await wait_done(headers, (await upload(headers)).json()["id"])
    r = await client.patch("/api/admin/users/mv", json={"plan": "Premium"}, headers=admin_headers)
    assert r.status_code == 200
    after = await wait_done(headers, image["id"])
    assert {s: formats_of(after, s)["webp"]["status"] for s in ("h200", "h400")} == {
        "h200": "ready",
        "h400": "ready",
    }


async def test_png_alpha_variants_keep_alpha(make_user, upload, wait_done, settings) -> None:
    headers = await make_user("alf", plan="Studio")
    body = (await upload(headers, photo(400, 300, suffix=".png", alpha=True))).json()
    done = await wait_done(headers, body["id"])
    # A source with alpha falls back to WebP, as before; AVIF is the one extra variant.
    assert list(formats_of(done, "low")) == ["webp", "avif"]
    stored = [p for p in settings.data_dir.rglob("*.avif") if body["id"] in str(p)]
    assert len(stored) == 4
    for path in stored:
        assert pyvips.Image.new_from_buffer(path.read_bytes(), "").hasalpha(), path


async def test_delete_removes_variants(client, make_user, upload, wait_done, settings) -> None:
    headers = await make_user("dv", plan="Studio")
    done = await wait_done(headers, (await upload(headers)).json()["id"])
    stored = [p for p in settings.data_dir.rglob("*") if done["id"] in str(p) and p.is_file()]
    assert any(p.suffix == ".avif" for p in stored) and any(p.suffix == ".webp" for p in stored)
    assert (await client.delete(f"/api/images/{done['id']}", headers=headers)).status_code == 204
    assert not [p for p in settings.data_dir.rglob("*") if done["id"] in str(p) and p.is_file()]
    assert await Variant.count() == 0


async def test_a_size_edit_remakes_its_variants(
    client, make_user, admin_headers, upload, wait_done
) -> None:
    headers = await make_user("edit", plan="Premium")
    image_id = (await wait_done(headers, (await upload(headers, photo(900, 600))).json()["id"]))[
        "id"
    ]
    before = await Variant.select(Variant.digest).where(Variant.format == "webp")
    r = await client.patch("/api/admin/sizes/h200", json={"height": 150}, headers=admin_headers)
    assert r.status_code == 200, r.text
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        body = (await client.get(f"/api/images/{image_id}", headers=headers)).json()
        h200 = next(x for x in body["renditions"] if x["slug"] == "h200")
        webp = formats_of(body, "h200")["webp"]
        if h200["height"] == 150 and webp["status"] == "ready":
            break
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.1)
    got = await client.get(webp["url"], headers=headers)
    assert got.status_code == 200
    assert pyvips.Image.new_from_buffer(got.content, "").height == 150
    after = await Variant.select(Variant.digest).where(Variant.format == "webp")
    assert {r["digest"] for r in after} != {r["digest"] for r in before}
