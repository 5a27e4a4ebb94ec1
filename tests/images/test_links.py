"""Expiring links: validation, plan rules, signed local tokens with a clock, S3 presigning."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import pyvips

pytestmark = pytest.mark.usefixtures("settings")


async def linked_image(make_plan, make_user, upload, wait_done) -> tuple[dict, dict]:
    """An image of a user whose plan has two sizes, JPEG only, and expiring links."""
    plan = await make_plan("Links", ["medium", "low"])
    headers = await make_user("sam", plan=plan)
    r = await upload(headers)
    assert r.status_code == 201, r.text
    return headers, await wait_done(headers, r.json()["id"])


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def tamper(token: str, position: int) -> str:
    """The token with one character changed: its lowest base64 bit flipped (the
    subtlest change; in the last character it only touches padding bits)."""
    old = token[position]
    new = B64[B64.index(old) ^ 1] if old in B64 else "A"
    return token[:position] + new + token[position + 1 :]


def app_path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def test_link_serves_bytes_without_login_until_expiry(
    client, make_plan, make_user, upload, wait_done, clock
) -> None:
    headers, image = await linked_image(make_plan, make_user, upload, wait_done)
    original = await client.get(image["original_url"], headers=headers)
    r = await client.post(
        f"/api/images/{image['id']}/expiring-links", json={"seconds": 300}, headers=headers
    )
    assert r.status_code == 201, r.text
    link = r.json()
    expires_at = datetime.fromisoformat(link["expires_at"])
    assert (expires_at - clock()).total_seconds() == 300
    path = app_path(link["url"])
    assert path.startswith("/s/")

    client.cookies.clear()  # no session, no token: the link alone
    clock.advance(299)
    shared = await client.get(path)
    assert shared.status_code == 200
    assert shared.content == original.content
    assert shared.headers["content-type"] == "image/jpeg"
    assert shared.headers["x-content-type-options"] == "nosniff"

    clock.advance(2)  # expiry + 1 s
    expired = await client.get(path)
    assert expired.status_code in (403, 410)
    assert "expired" in expired.json()["detail"]


async def test_tampered_token_is_refused(client, make_plan, make_user, upload, wait_done) -> None:
    headers, image = await linked_image(make_plan, make_user, upload, wait_done)
    r = await client.post(
        f"/api/images/{image['id']}/expiring-links",
        json={"seconds": 3600, "rendition": "low"},
        headers=headers,
    )
    path = app_path(r.json()["url"])
    good = await client.get(path)
    assert good.status_code == 200
    assert pyvips.Image.new_from_buffer(good.content, "").width == 124
    token = path.removeprefix("/s/")
    for position in range(len(token)):
        bad = await client.get("/s/" + tamper(token, position))
        assert bad.status_code == 403, (position, bad.text)
    assert (await client.get("/s/not-a-token")).status_code == 403


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"seconds": 299}, 422),
        ({"seconds": 30001}, 422),
        ({"seconds": -5}, 422),
        ({"seconds": "soon"}, 400),
        ({"seconds": 3.5}, 400),
        ({"seconds": True}, 400),
        ({}, 400),
        ({"seconds": 300, "rendition": "h200"}, 403),  # a size the plan lacks
        ({"seconds": 300, "rendition": "../etc"}, 403),
        ({"seconds": 300, "extra": 1}, 400),
    ],
)
async def test_bad_link_requests(
    client, make_plan, make_user, upload, wait_done, body, status
) -> None:
    headers, image = await linked_image(make_plan, make_user, upload, wait_done)
    r = await client.post(f"/api/images/{image['id']}/expiring-links", json=body, headers=headers)
    assert r.status_code == status, r.text
    assert r.json()["detail"]


async def test_edge_durations_are_accepted(
    client, make_plan, make_user, upload, wait_done, clock
) -> None:
    headers, image = await linked_image(make_plan, make_user, upload, wait_done)
    for seconds in (300, 30000):
        r = await client.post(
            f"/api/images/{image['id']}/expiring-links",
            json={"seconds": seconds, "rendition": "medium"},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        assert (datetime.fromisoformat(r.json()["expires_at"]) - clock()).total_seconds() == (
            seconds
        )


async def test_plan_without_expiring_links_is_refused(client, make_user, upload, wait_done):
    headers = await make_user("pat", plan="Premium")
    image = await wait_done(headers, (await upload(headers)).json()["id"])
    r = await client.post(
        f"/api/images/{image['id']}/expiring-links", json={"seconds": 600}, headers=headers
    )
    assert r.status_code == 403
    assert "expiring links" in r.json()["detail"]


async def test_link_dies_with_its_image(client, make_plan, make_user, upload, wait_done) -> None:
    headers, image = await linked_image(make_plan, make_user, upload, wait_done)
    r = await client.post(
        f"/api/images/{image['id']}/expiring-links", json={"seconds": 600}, headers=headers
    )
    path = app_path(r.json()["url"])
    assert (await client.delete(f"/api/images/{image['id']}", headers=headers)).status_code == 204
    assert (await client.get(path)).status_code == 404


@pytest.mark.parametrize("storage_env", ["s3"], indirect=True)
async def test_s3_link_is_presigned_for_the_public_url(
    client, make_plan, make_user, upload, wait_done, settings
) -> None:
    headers, image = await linked_image(make_plan, make_user, upload, wait_done)
    original = await client.get(image["original_url"], headers=headers)
    assert original.status_code == 200
    r = await client.post(
        f"/api/images/{image['id']}/expiring-links", json={"seconds": 1234}, headers=headers
    )
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    assert url.startswith(settings.s3_public_url + "/")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["1234"]
    # Fetched from the S3 server itself (SeaweedFS, which checks the signature),
    # with no app credentials.
    async with httpx.AsyncClient() as outside:
        fetched = await outside.get(url)
        assert fetched.status_code == 200, fetched.text
        assert fetched.content == original.content
        assert fetched.headers["content-type"] == "image/jpeg"

        signature = query["X-Amz-Signature"][0]
        changed = "0" if signature[-1] != "0" else "1"
        tampered = await outside.get(url.replace(signature, signature[:-1] + changed))
        assert tampered.status_code == 403, tampered.text
        assert "SignatureDoesNotMatch" in tampered.text
        unsigned = await outside.get(url.split("?")[0])
        assert unsigned.status_code == 403, unsigned.text


async def test_a_shared_link_sets_no_cookie(
    client, make_plan, make_user, upload, wait_done
) -> None:
    """Whoever opens a link is no visitor of ours: no CSRF or session cookie is handed out."""
    headers, image = await linked_image(make_plan, make_user, upload, wait_done)
    r = await client.post(
        f"/api/images/{image['id']}/expiring-links", json={"seconds": 300}, headers=headers
    )
    path = app_path(r.json()["url"])
    client.cookies.clear()
    for url in (path, "/s/not-a-token"):
        shared = await client.get(url, headers={"Accept": "image/*,text/html"})
        assert shared.status_code in (200, 403), shared.text
        assert "set-cookie" not in shared.headers, (url, shared.headers.get_list("set-cookie"))
