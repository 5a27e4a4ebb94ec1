"""The original as delivered (media link and expiring link) carries no location or device
metadata unless its owner chose, at upload, to keep it."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import pyvips

from tests.imaging.metadata_samples import SECRETS, camera_jpeg, jpeg_scans, jpeg_segments

pytestmark = pytest.mark.usefixtures("settings")

IDENTIFYING = ("GPS", "Make", "Model", "Serial", "MakerNote")


def identifying_fields(image: pyvips.Image) -> list[str]:
    fields = image.get_fields()
    found = [f for f in fields if f.startswith("exif-") and any(n in f for n in IDENTIFYING)]
    return found + [f for f in ("xmp-data", "iptc-data") if f in fields]


async def test_delivered_original_has_no_location_or_device_ids(client, make_user, upload) -> None:
    headers = await make_user("sam", plan="Studio")
    data = camera_jpeg(1280, 960, orientation=6)
    r = await upload(headers, data)
    assert r.status_code == 201, r.text
    image = r.json()
    assert (image["width"], image["height"]) == (960, 1280)  # orientation honoured

    delivered = await client.get(image["original_url"], headers=headers)
    assert delivered.status_code == 200
    assert delivered.headers["content-type"] == "image/jpeg"
    body = delivered.content
    for secret in SECRETS:
        assert secret not in body, secret
    assert b"http://ns.adobe.com/xap" not in body
    got, sent = pyvips.Image.new_from_buffer(body, ""), pyvips.Image.new_from_buffer(data, "")
    assert identifying_fields(sent)  # the sample does carry them
    assert identifying_fields(got) == []
    assert got.get("orientation") == 6
    assert got.get("icc-profile-data") == sent.get("icc-profile-data")
    # Not re-encoded: the same scans, quantisation and Huffman tables, so the same pixels.
    assert jpeg_scans(body) == jpeg_scans(data)
    tables = {0xC0, 0xC2, 0xC4, 0xDB, 0xDD}
    assert [s for s in jpeg_segments(body) if s[0] in tables] == [
        s for s in jpeg_segments(data) if s[0] in tables
    ]
    assert (got.width, got.height) == (sent.width, sent.height)
    assert got.avg() == sent.avg()
    assert image["keep_metadata"] is False  # and the API says so

    link = await client.post(
        f"/api/images/{image['id']}/expiring-links", json={"seconds": 600}, headers=headers
    )
    assert link.status_code == 201, link.text
    client.cookies.clear()
    shared = await client.get(urlsplit(link.json()["url"]).path)
    assert shared.status_code == 200
    assert shared.content == body


@pytest.mark.parametrize("value", ["true", "on", "1"])
async def test_an_owner_may_keep_the_metadata(client, make_user, upload, value) -> None:
    headers = await make_user("sam", plan="Studio")
    data = camera_jpeg()
    r = await client.post(
        "/api/images",
        files={"file": ("p.jpg", data, "image/jpeg")},
        data={"keep_metadata": value},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["keep_metadata"] is True
    delivered = await client.get(r.json()["original_url"], headers=headers)
    assert delivered.content == data  # byte for byte
    again = await client.get(f"/api/images/{r.json()['id']}", headers=headers)
    assert again.json()["keep_metadata"] is True


async def test_a_bad_keep_metadata_value_is_refused(client, make_user, upload) -> None:
    headers = await make_user("sam", plan="Studio")
    r = await client.post(
        "/api/images",
        files={"file": ("p.jpg", camera_jpeg(), "image/jpeg")},
        data={"keep_metadata": "perhaps"},
        headers=headers,
    )
    assert r.status_code == 422, r.text
    assert "keep_metadata" in r.json()["detail"]
    assert (await client.get("/api/images", headers=headers)).json()["total"] == 0
