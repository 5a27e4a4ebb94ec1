"""POST /api/images end to end on the embedded default: refusals store nothing; the
upload answers with the primary rendition ready and workers make the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips

from imageuploader.images.tables import Image, Rendition
from imageuploader.settings import Settings

from .conftest import photo

pytestmark = pytest.mark.usefixtures("settings")


def stored_files(settings: Settings) -> list[Path]:
    root = settings.data_dir / "media"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def assert_nothing_stored(settings: Settings) -> None:
    assert await Image.count() == 0
    assert await Rendition.count() == 0
    assert stored_files(settings) == []


def truncated_jpeg() -> bytes:
    data = photo(800, 600)
    return data[: len(data) // 2]


REFUSALS = [
    pytest.param(b"", {}, 415, "empty", id="empty"),
    pytest.param(b"just some text, not a photo", {}, 415, "not a supported image", id="text"),
    pytest.param(
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        {},
        415,
        "SVG",
        id="svg",
    ),
    pytest.param(b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n%%EOF\n", {}, 415, "PDF", id="pdf"),
    pytest.param(truncated_jpeg(), {}, 422, "damaged or truncated", id="truncated"),
    pytest.param(photo(640, 480), {"resolution": "800x600"}, 422, "640", id="resolution-mismatch"),
    pytest.param(photo(640, 480), {"resolution": "big"}, 422, "resolution", id="resolution-bad"),
]


@pytest.mark.parametrize(("data", "form", "status", "words"), REFUSALS)
async def test_refusals_store_nothing(
    upload, make_user, settings, data, form, status, words
) -> None:
    headers = await make_user("ann", plan="Studio")
    r = await upload(headers, data, **form)
    assert r.status_code == status, r.text
    assert words.lower() in r.json()["detail"].lower()
    await assert_nothing_stored(settings)


async def test_missing_file_field_is_a_clear_400(client, make_user, settings) -> None:
    headers = await make_user("ann", plan="Studio")
    r = await client.post("/api/images", data={"caption": "no file"}, headers=headers)
    assert r.status_code == 400
    assert r.json()["detail"]
    await assert_nothing_stored(settings)


async def test_twelve_megapixels_on_studio(client, make_user, upload, wait_done, settings) -> None:
    headers = await make_user("stu", plan="Studio")
    r = await upload(headers, photo(4000, 3000), caption="a 12 MP photo")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["width"], body["height"], body["format"]) == (4000, 3000, "jpeg")
    status = {x["slug"]: x["status"] for x in body["renditions"]}
    # high is the primary, made in the request; on a 4:3 photo very-high's box
    # gives the same 1024x768, so it is stored with it rather than made again.
    assert status == {"very-high": "ready", "high": "ready", "medium": "pending", "low": "pending"}
    assert [x["slug"] for x in body["renditions"]] == ["very-high", "high", "medium", "low"]

    done = await wait_done(headers, body["id"])
    dims = {x["slug"]: (x["status"], x["width"], x["height"]) for x in done["renditions"]}
    assert dims == {
        "very-high": ("ready", 1024, 768),
        "high": ("ready", 1024, 768),
        "medium": ("ready", 786, 590),
        "low": ("ready", 124, 93),
    }
    for slug, (_, width, height) in dims.items():
        served = await client.get(f"/media/{body['id']}/{slug}", headers=headers)
        assert served.status_code == 200
        image = pyvips.Image.new_from_buffer(served.content, "")
        assert (image.width, image.height) == (width, height)
        assert not [f for f in image.get_fields() if f.startswith(("exif-", "xmp-"))]
    original = await client.get(done["original_url"], headers=headers)
    assert original.content == photo(4000, 3000)  # byte for byte
    assert "filename=" in original.headers["content-disposition"]


async def test_only_sizes_identical_to_the_primary_are_ready_at_once(
    client, make_user, upload, wait_done
) -> None:
    headers = await make_user("por", plan="Studio")
    # Portrait: very-high's 1024x1024 box gives 768x1024; high's 1024x786 box and
    # medium's 786x786 one both give 590x786.
    r = await upload(headers, photo(900, 1200))
    assert r.status_code == 201, r.text
    status = {x["slug"]: x["status"] for x in r.json()["renditions"]}
    assert status == {
        "very-high": "pending",
        "high": "ready",
        "medium": "ready",
        "low": "pending",
    }
    done = await wait_done(headers, r.json()["id"])
    dims = {x["slug"]: (x["width"], x["height"]) for x in done["renditions"]}
    assert dims == {"very-high": (768, 1024), "high": (590, 786), "medium": (590, 786),
                    "low": (93, 124)}  # fmt: skip
    twin = await upload(headers, photo(4000, 3000))
    image_id = twin.json()["id"]
    high = await client.get(f"/media/{image_id}/high", headers=headers)
    very_high = await client.get(f"/media/{image_id}/very-high", headers=headers)
    assert high.status_code == very_high.status_code == 200
    assert high.content == very_high.content


async def test_caption_resolution_and_alpha(client, make_user, upload, wait_done) -> None:
    headers = await make_user("ali", plan="Premium")
    data = photo(500, 400, suffix=".png", alpha=True)
    r = await upload(headers, data, caption="  see-through  ", resolution="500x400")
    assert r.status_code == 201, r.text
    done = await wait_done(headers, r.json()["id"])
    assert done["caption"] == "see-through"
    assert {x["format"] for x in done["renditions"]} == {"webp"}  # alpha kept
    served = await client.get(f"/media/{done['id']}/h400", headers=headers)
    assert served.headers["content-type"] == "image/webp"
    assert pyvips.Image.new_from_buffer(served.content, "").hasalpha()


async def test_list_is_newest_first_and_paginated(client, make_user, upload) -> None:
    headers = await make_user("lin", plan="Basic")
    # Distinct bytes: the same bytes again would be the same image.
    ids = [
        (await upload(headers, photo(640 + i, 480), caption=f"n{i}")).json()["id"] for i in range(5)
    ]
    page1 = (await client.get("/api/images?per_page=2", headers=headers)).json()
    page3 = (await client.get("/api/images?per_page=2&page=3", headers=headers)).json()
    assert page1["total"] == 5
    assert [i["id"] for i in page1["items"]] == ids[::-1][:2]
    assert [i["id"] for i in page3["items"]] == ids[::-1][4:]
    for bad in ("per_page=0", "per_page=101", "page=0", "page=x"):
        r = await client.get(f"/api/images?{bad}", headers=headers)
        assert r.status_code in (400, 422), bad
        assert r.json()["detail"]


async def test_delete_removes_every_object(client, make_user, upload, wait_done, settings) -> None:
    headers = await make_user("del", plan="Studio")
    keep = await wait_done(headers, (await upload(headers, photo(300, 300))).json()["id"])
    gone = await wait_done(headers, (await upload(headers)).json()["id"])
    before = stored_files(settings)
    assert any(gone["id"] in str(p) for p in before)
    r = await client.delete(f"/api/images/{gone['id']}", headers=headers)
    assert r.status_code == 204
    after = stored_files(settings)
    assert not any(gone["id"] in str(p) for p in after)
    assert [p for p in before if gone["id"] not in str(p)] == after  # the other image kept
    assert any(keep["id"] in str(p) for p in after)
    assert (await client.get(f"/api/images/{gone['id']}", headers=headers)).status_code == 404
    assert await Rendition.count().where(Rendition.image == gone["id"]) == 0
