"""Format negotiation on /media and /s/: the best ready format for Accept, Vary: Accept,
an ETag per variant, formats named by extension, and expiring links of either kind."""

from __future__ import annotations

import hashlib

import pytest

from imageuploader.images.tables import Variant
from tests.images.conftest import photo

pytestmark = pytest.mark.usefixtures("settings")

CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
WEBP_ONLY = "image/webp,*/*"
ANY = "*/*"


FORMATS_PLAN = "Formats"


async def negotiable_image(make_plan, make_user, upload, wait_done) -> tuple[dict, str]:
    """An image on a plan with Studio's three formats, in two of its sizes."""
    plan = await make_plan(FORMATS_PLAN, ["medium", "low"], formats=("jpeg", "webp", "avif"))
    headers = await make_user("neg", plan=plan)
    created = await upload(headers, photo(900, 600))
    assert created.status_code == 201, created.text
    done = await wait_done(headers, created.json()["id"])
    return headers, done["id"]


def etag_of(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()}"'


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (CHROME, "image/avif"),
        (WEBP_ONLY, "image/webp"),
        ("image/avif;q=0.5,image/webp;q=0.9", "image/webp"),
        ("image/avif;q=0,image/webp;q=0,*/*", "image/jpeg"),
        (ANY, "image/jpeg"),
        (None, "image/jpeg"),
    ],
)
async def test_media_serves_the_best_ready_format(
    client, make_plan, make_user, upload, wait_done, accept, media_type
) -> None:
    headers, image_id = await negotiable_image(make_plan, make_user, upload, wait_done)
    ask = {**headers, **({"Accept": accept} if accept else {})}
    r = await client.get(f"/media/{image_id}/medium", headers=ask)
    assert r.status_code == 200
    assert r.headers["content-type"] == media_type
    assert r.headers["vary"] == "Accept"
    assert r.headers["etag"] == etag_of(r.content)


async def test_each_variant_has_its_own_etag_and_304(
    client, make_plan, make_user, upload, wait_done
) -> None:
    headers, image_id = await negotiable_image(make_plan, make_user, upload, wait_done)
    url = f"/media/{image_id}/medium"
    tags = {}
    for accept in (CHROME, WEBP_ONLY, ANY):
        r = await client.get(url, headers={**headers, "Accept": accept})
        tags[r.headers["content-type"]] = r.headers["etag"]
    assert len(set(tags.values())) == 3
    avif_tag = tags["image/avif"]
    again = await client.get(url, headers={**headers, "Accept": CHROME, "If-None-Match": avif_tag})
    assert again.status_code == 304
    assert again.headers["vary"] == "Accept" and again.headers["etag"] == avif_tag
    # The same validator from a client that gets JPEG is another variant: full answer.
    other = await client.get(url, headers={**headers, "Accept": ANY, "If-None-Match": avif_tag})
    assert other.status_code == 200 and other.headers["etag"] == tags["image/jpeg"]
    head = await client.head(url, headers={**headers, "Accept": CHROME})
    assert head.status_code == 200 and head.headers["etag"] == avif_tag
    assert head.headers["content-type"] == "image/avif"


@pytest.mark.parametrize(
    ("suffix", "media_type"),
    [(".avif", "image/avif"), (".webp", "image/webp"), (".jpg", "image/jpeg")],
)
async def test_an_extension_names_the_format(
    client, make_plan, make_user, upload, wait_done, suffix, media_type
) -> None:
    headers, image_id = await negotiable_image(make_plan, make_user, upload, wait_done)
    r = await client.get(f"/media/{image_id}/low{suffix}", headers={**headers, "Accept": ANY})
    assert r.status_code == 200
    assert r.headers["content-type"] == media_type
    assert "vary" not in r.headers  # nothing was negotiated
    assert r.headers["etag"] == etag_of(r.content)


async def test_formats_the_plan_lacks_or_we_never_make_are_404(
    client, make_user, upload, wait_done
) -> None:
    headers = await make_user("prem", plan="Premium")
    image_id = (await wait_done(headers, (await upload(headers)).json()["id"]))["id"]
    assert (await client.get(f"/media/{image_id}/h200.webp", headers=headers)).status_code == 200
    for name in ("h200.avif", "h200.gif", "h200.png", "original.webp"):
        r = await client.get(f"/media/{image_id}/{name}", headers=headers)
        assert r.status_code == 404, name
    r = await client.get(f"/media/{image_id}/h200", headers={**headers, "Accept": CHROME})
    assert r.headers["content-type"] == "image/webp"  # Premium has no AVIF


async def test_only_ready_variants_are_chosen(
    client, make_plan, make_user, upload, wait_done
) -> None:
    headers, image_id = await negotiable_image(make_plan, make_user, upload, wait_done)
    await Variant.update({Variant.status: "pending"}).where(Variant.format == "avif")
    r = await client.get(f"/media/{image_id}/medium", headers={**headers, "Accept": CHROME})
    assert r.headers["content-type"] == "image/webp"
    named = await client.get(f"/media/{image_id}/medium.avif", headers=headers)
    assert named.status_code == 404


async def test_a_plan_without_formats_does_not_vary(client, make_user, upload, wait_done) -> None:
    headers = await make_user("basic", plan="Basic")
    image_id = (await wait_done(headers, (await upload(headers)).json()["id"]))["id"]
    r = await client.get(f"/media/{image_id}/h200", headers={**headers, "Accept": CHROME})
    assert r.headers["content-type"] == "image/jpeg"
    assert "vary" not in r.headers


async def test_a_plan_losing_a_format_stops_serving_it(
    client, make_plan, make_user, upload, wait_done, admin_headers
) -> None:
    headers, image_id = await negotiable_image(make_plan, make_user, upload, wait_done)
    r = await client.patch(
        f"/api/admin/plans/{FORMATS_PLAN}",
        json={"formats": ["jpeg", "webp"]},
        headers=admin_headers,
    )
    assert r.status_code == 200
    r = await client.get(f"/media/{image_id}/medium", headers={**headers, "Accept": CHROME})
    assert r.headers["content-type"] == "image/webp"


async def test_expiring_links_negotiate_or_name_a_format(
    client, make_plan, make_user, upload, wait_done
) -> None:
    headers, image_id = await negotiable_image(make_plan, make_user, upload, wait_done)

    async def link(rendition: str) -> str:
        r = await client.post(
            f"/api/images/{image_id}/expiring-links",
            json={"seconds": 600, "rendition": rendition},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        return str(r.json()["url"])

    negotiating = await link("medium")
    avif = await client.get(negotiating, headers={"Accept": CHROME})
    jpeg = await client.get(negotiating, headers={"Accept": ANY})
    assert avif.headers["content-type"] == "image/avif" and avif.headers["vary"] == "Accept"
    assert jpeg.headers["content-type"] == "image/jpeg"
    assert avif.headers["etag"] != jpeg.headers["etag"]
    named = await link("medium.webp")
    webp = await client.get(named, headers={"Accept": CHROME})
    assert webp.headers["content-type"] == "image/webp" and "vary" not in webp.headers
    bad = await client.post(
        f"/api/images/{image_id}/expiring-links",
        json={"seconds": 600, "rendition": "medium.gif"},
        headers=headers,
    )
    assert bad.status_code == 404
