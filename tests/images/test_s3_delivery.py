"""S3 delivery against SeaweedFS: redirects to presigned URLs, or streaming with ETag/Range."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from itsdangerous import URLSafeSerializer

from imageuploader.images import links
from imageuploader.settings import Settings

pytestmark = pytest.mark.usefixtures("settings")
REDIRECT = pytest.mark.parametrize("storage_env", ["s3-redirect"], indirect=True)
STREAM = pytest.mark.parametrize("storage_env", ["s3"], indirect=True)
WINDOW = 300  # the default S3_REDIRECT_WINDOW


@pytest.fixture
def clock(clock):
    """The test clock set to real time: SeaweedFS judges expiry by its own clock."""
    clock.now = datetime.now(UTC).replace(microsecond=0)
    return clock


async def stored_image(make_plan, make_user, upload, wait_done) -> tuple[dict, dict]:
    """An image of a user whose plan has two sizes, JPEG only, and expiring links."""
    plan = await make_plan("Stored", ["medium", "low"])
    headers = await make_user("sam", plan=plan)
    r = await upload(headers)
    assert r.status_code == 201, r.text
    return headers, await wait_done(headers, r.json()["id"])


async def fetch(url: str) -> httpx.Response:
    """GET `url` from outside the app, with no app credentials."""
    async with httpx.AsyncClient(timeout=30) as outside:
        return await outside.get(url)


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def shared_token(settings: Settings, image_id: str, slug: str, expires: datetime) -> str:
    """A /s/ token as the app signs it (with S3 storage the API hands out presigned
    URLs instead, but a token minted before a move to S3 must keep working)."""
    signer = URLSafeSerializer(settings.secret_key, salt=links._SALT)
    return signer.dumps([image_id, slug, int(expires.timestamp())])


@REDIRECT
async def test_media_redirects_to_a_presigned_url_that_opens(
    client, make_plan, make_user, upload, wait_done, settings
) -> None:
    headers, image = await stored_image(make_plan, make_user, upload, wait_done)
    for slug, kind, name in (
        ("low", "image/jpeg", f"{image['id']}-low.jpg"),
        ("original", "image/jpeg", f"{image['id']}.jpg"),
    ):
        r = await client.get(f"/media/{image['id']}/{slug}", headers=headers)
        assert r.status_code == 307, r.text
        url = r.headers["location"]
        assert url.startswith(settings.s3_public_url)
        assert r.headers["cache-control"].startswith("private, max-age=")
        assert 0 < int(r.headers["cache-control"].rsplit("=", 1)[1]) <= WINDOW
        assert r.content == b""

        opened = await fetch(url)
        assert opened.status_code == 200, opened.text
        assert opened.headers["content-type"] == kind
        assert opened.headers["content-disposition"] == f'inline; filename="{name}"'
        if slug == "low":
            assert len(opened.content) == next(
                x["bytes"] for x in image["renditions"] if x["slug"] == "low"
            )
        else:
            assert len(opened.content) == image["bytes"]

        head = await client.head(f"/media/{image['id']}/{slug}", headers=headers)
        assert head.status_code == 307
        assert head.headers["location"] == url


@REDIRECT
async def test_redirect_url_is_the_same_throughout_its_window(
    client, make_plan, make_user, upload, wait_done, clock
) -> None:
    headers, image = await stored_image(make_plan, make_user, upload, wait_done)
    path = f"/media/{image['id']}/low"
    # Start of a window, so that the steps below stay inside it.
    window_start = datetime.fromtimestamp(int(clock.now.timestamp()) // WINDOW * WINDOW, UTC)
    clock.now = window_start
    first = (await client.get(path, headers=headers)).headers["location"]
    assert (await client.get(path, headers=headers)).headers["cache-control"] == (
        f"private, max-age={WINDOW}"
    )
    clock.advance(WINDOW - 1)
    last = await client.get(path, headers=headers)
    assert last.headers["location"] == first
    assert last.headers["cache-control"] == "private, max-age=1"
    query = query_of(first)
    assert query["X-Amz-Date"] == window_start.strftime("%Y%m%dT%H%M%SZ")
    assert int(query["X-Amz-Expires"]) == 2 * WINDOW

    clock.advance(1)  # the next window: a new URL
    following = (await client.get(path, headers=headers)).headers["location"]
    assert following != first
    # The URL handed out at the very end of its window still opens now.
    assert (await fetch(first)).status_code == 200


@REDIRECT
async def test_shared_link_on_s3_redirects_within_its_expiry(
    client, make_plan, make_user, upload, wait_done, settings, clock
) -> None:
    _, image = await stored_image(make_plan, make_user, upload, wait_done)
    expires = clock.now + timedelta(seconds=400)
    # The app's settings carry the secret it generated (the fixture's have none).
    token = shared_token(client.app.state.settings, image["id"], "medium", expires)
    client.cookies.clear()
    r = await client.get(f"/s/{token}")
    assert r.status_code == 307, r.text
    url = r.headers["location"]
    assert r.headers["cache-control"].startswith("public, max-age=")
    query = query_of(url)
    signed_at = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    # Never valid past the link's own expiry.
    assert signed_at + timedelta(seconds=int(query["X-Amz-Expires"])) <= expires
    opened = await fetch(url)
    assert opened.status_code == 200, opened.text
    assert opened.headers["content-type"] == "image/jpeg"


@REDIRECT
async def test_expiring_link_on_s3_carries_type_and_disposition(
    client, make_plan, make_user, upload, wait_done
) -> None:
    headers, image = await stored_image(make_plan, make_user, upload, wait_done)
    r = await client.post(
        f"/api/images/{image['id']}/expiring-links",
        json={"seconds": 600, "rendition": "low"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    opened = await fetch(r.json()["url"])
    assert opened.status_code == 200, opened.text
    assert opened.headers["content-type"] == "image/jpeg"
    assert opened.headers["content-disposition"] == f'inline; filename="{image["id"]}-low.jpg"'


@STREAM
async def test_streaming_from_s3_keeps_etag_and_ranges(
    client, make_plan, make_user, upload, wait_done
) -> None:
    headers, image = await stored_image(make_plan, make_user, upload, wait_done)
    path = f"/media/{image['id']}/low"
    full = await client.get(path, headers=headers)
    assert full.status_code == 200
    body = full.content
    etag = full.headers["etag"]
    assert etag == f'"{hashlib.sha256(body).hexdigest()}"'

    assert (await client.get(path, headers={**headers, "If-None-Match": etag})).status_code == 304
    part = await client.get(path, headers={**headers, "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == body[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(body)}"
    beyond = await client.get(path, headers={**headers, "Range": f"bytes={len(body)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(body)}"
    head = await client.head(path, headers=headers)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(body))


@pytest.mark.parametrize("storage_env", ["s3-redirect", "s3"], indirect=True)
async def test_pages_allow_images_from_where_media_redirects(client, settings, storage_env) -> None:
    # A redirect to S3 from an <img> is judged by the page's img-src.
    r = await client.get("/login", headers={"Accept": "text/html"})
    directives = dict(
        (d.split()[0], d.split()[1:]) for d in r.headers["content-security-policy"].split(";")
    )
    allowed = settings.s3_public_url in directives["img-src"]
    assert allowed == (storage_env["S3_DELIVERY"] == "redirect")
    assert directives["script-src"] == ["'self'"]
