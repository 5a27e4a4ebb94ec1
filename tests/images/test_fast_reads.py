"""The fast lane for media and expiring-link reads answers exactly as the route handlers do.

Two apps on one database: the one as shipped, and one built with
`fast_reads=False`, where every read goes through its handler. Each request of
the matrix is asked of both; status, headers (but the request id) and body
must be the same. Another test proves the lane answers the plain reads
itself, so that the comparison is not between a handler and itself.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar.testing import AsyncTestClient

from imageuploader.app import create_app
from imageuploader.settings import Settings
from imageuploader.web.reads import FastReads, _headers
from tests.images.conftest import Clock

pytestmark = pytest.mark.usefixtures("settings")


@pytest.fixture
async def reference(
    settings: Settings, clock: Clock, client: AsyncTestClient
) -> AsyncIterator[AsyncTestClient]:
    """The same data served with every read left to its handler (started after `client`,
    so the database is migrated and seeded already)."""
    async with AsyncTestClient(app=create_app(settings, clock=clock, fast_reads=False)) as c:
        c.follow_redirects = False
        yield c


@pytest.fixture
async def world(client: AsyncTestClient, make_user, upload, wait_done) -> dict[str, Any]:
    """An image of a Studio user (every format), another user, an admin, an expiring link."""
    owner = await make_user("owner", plan="Studio")
    other = await make_user("other", plan="Studio")
    r = await upload(owner)
    assert r.status_code == 201, r.text
    image = await wait_done(owner, r.json()["id"])
    r = await client.post(
        f"/api/images/{image['id']}/expiring-links",
        json={"seconds": 600, "rendition": "low"},
        headers=owner,
    )
    assert r.status_code == 201, r.text
    shared = urlsplit(r.json()["url"]).path
    r = await client.get(f"/media/{image['id']}/low", headers=owner)
    assert r.status_code == 200, r.text
    r = await client.post("/api/auth/token", json={"username": "admin", "password": "admin"})
    admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
    return {
        "image": image,
        "owner": owner,
        "other": other,
        "admin": admin,
        "shared": shared,
        "etag": r.headers.get("etag"),
        "low_etag": (await client.get(f"/media/{image['id']}/low", headers=owner)).headers["etag"],
    }


def requests_of(w: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    media = f"/media/{w['image']['id']}"
    owner, etag = w["owner"], w["low_etag"]
    digest = etag.strip('"')
    shared = w["shared"]
    return [
        ("GET", f"{media}/low", owner),
        ("HEAD", f"{media}/low", owner),
        ("GET", f"{media}/original", owner),
        ("GET", f"{media}/low.webp", owner),
        ("GET", f"{media}/low.avif", owner),
        ("GET", f"{media}/low.jpg", owner),
        ("GET", f"{media}/low", {**owner, "Accept": "image/avif,image/webp,*/*"}),
        ("GET", f"{media}/low", {**owner, "Accept": "image/webp;q=0.5,image/jpeg"}),
        ("GET", f"{media}/low", {**owner, "If-None-Match": etag}),
        ("HEAD", f"{media}/low", {**owner, "If-None-Match": etag}),
        ("GET", f"{media}/low", {**owner, "If-None-Match": '"other"'}),
        ("GET", f"{media}/low", {**owner, "If-Match": '"other"'}),
        ("GET", f"{media}/low", {**owner, "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"}),
        ("GET", f"{media}/low", {**owner, "Range": "bytes=0-9"}),
        ("GET", f"{media}/low", {**owner, "Range": "bytes=-5"}),
        ("GET", f"{media}/low", {**owner, "Range": "bytes=999999999-"}),
        ("GET", f"{media}/low", {**owner, "Range": "bytes=0-9", "If-Range": '"stale"'}),
        ("GET", f"{media}/low?v={digest[:16]}", owner),
        ("GET", f"{media}/low?v=abc", owner),
        ("GET", f"{media}/low?v={'a' * 70}", owner),
        ("GET", f"{media}/low?v=a&v=b", owner),
        ("GET", f"{media}/low?v=%61bc", owner),
        ("GET", f"{media}/low?other=1", owner),
        ("GET", f"{media}/nosuch", owner),
        ("GET", f"{media}/low", w["other"]),
        ("GET", f"{media}/low", w["admin"]),
        ("GET", f"{media}/low", {}),
        ("GET", f"{media}/low", {"Authorization": "Bearer not-a-token"}),
        ("GET", f"{media}/low", {"Authorization": "Basic YTpi"}),
        ("GET", f"{media}/low", {"Authorization": "Bearer "}),
        ("GET", "/media/not-an-id/low", owner),
        ("GET", f"{media.upper()}/low", owner),
        ("GET", shared, {}),
        ("HEAD", shared, {}),
        ("GET", shared, {"Accept": "image/webp"}),
        ("GET", shared, {"If-None-Match": etag}),
        ("GET", shared, {"Range": "bytes=3-7"}),
        ("GET", shared, owner),
        ("GET", shared[:-2] + ("AA" if not shared.endswith("AA") else "BB"), {}),
        ("GET", "/s/garbage", {}),
        ("GET", "/api/images", owner),
        ("GET", "/api/images?page=1&per_page=50", owner),
        ("GET", "/api/images?page=2&per_page=1", owner),
        ("GET", "/api/images?per_page=01", owner),
        ("GET", "/api/images?per_page=0", owner),
        ("GET", "/api/images?per_page=100000", owner),
        ("GET", "/api/images?page=-1", owner),
        ("GET", "/api/images?page=x", owner),
        ("GET", "/api/images?page=", owner),
        ("GET", "/api/images?page=1&page=2", owner),
        ("GET", "/api/images?per_page=%35", owner),
        ("GET", "/api/images?q=1", owner),
        ("GET", "/api/images", w["other"]),
        ("GET", "/api/images", w["admin"]),
        ("GET", "/api/images", {}),
        ("GET", "/api/images", {"Authorization": "Bearer not-a-token"}),
        ("GET", "/api/me", owner),
        ("GET", "/api/me", {**owner, "Accept": "application/json"}),
        ("GET", "/api/me", w["admin"]),
        ("GET", "/api/me", {}),
        ("GET", "/api/me?x=1", owner),
    ]


def comparable(r: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    headers = sorted((k, v) for k, v in r.headers.multi_items() if k != "x-request-id")
    return r.status_code, headers, r.content


async def test_every_read_answers_as_the_handler_does(
    client: AsyncTestClient, reference: AsyncTestClient, world: dict[str, Any]
) -> None:
    statuses = set()
    for method, path, headers in requests_of(world):
        fast = await client.request(method, path, headers=headers)
        slow = await reference.request(method, path, headers=headers)
        assert comparable(fast) == comparable(slow), (method, path, headers)
        statuses.add(fast.status_code)
    # The matrix reaches every kind of answer, errors included.
    assert {200, 206, 304, 400, 401, 403, 404, 412, 416} <= statuses


@pytest.fixture
def lane(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each read the fast lane saw: True if it answered, False if it passed it on."""
    seen: list[bool] = []
    original = FastReads._answer

    async def recorded(self: FastReads, kind: str, scope: Any) -> Any:
        answer = await original(self, kind, scope)
        seen.append(answer is not None)
        return answer

    monkeypatch.setattr(FastReads, "_answer", recorded)
    return seen


async def test_plain_reads_skip_the_handler(
    client: AsyncTestClient, world: dict[str, Any], lane: list[bool]
) -> None:
    media = f"/media/{world['image']['id']}/low"
    owner = world["owner"]
    for headers in (owner, {**owner, "If-None-Match": world["low_etag"]}):
        assert (await client.get(media, headers=headers)).status_code in (200, 304)
    assert (await client.head(media, headers=owner)).status_code == 200
    assert (await client.get(world["shared"])).status_code == 200
    assert (await client.get("/api/images?per_page=5", headers=owner)).status_code == 200
    assert (await client.get("/api/me", headers=owner)).status_code == 200
    assert lane == [True] * 6
    # What the lane leaves alone reaches the handler: an error, an encoded query.
    assert (await client.get(media, headers=world["other"])).status_code == 404
    assert (await client.get(f"{media}?v=%61bc", headers=owner)).status_code == 200
    assert (await client.get("/api/images?page=0", headers=owner)).status_code == 422
    assert lane[6:] == [False, False, False]


def test_a_repeated_header_is_left_to_the_handler() -> None:
    once = [(b"accept", b"image/webp"), (b"range", b"bytes=0-1")]
    assert _headers({"headers": once}) == {"accept": "image/webp", "range": "bytes=0-1"}
    assert _headers({"headers": [*once, (b"range", b"bytes=5-9")]}) is None


async def test_a_session_cookie_read_is_left_to_the_handler(
    client: AsyncTestClient, world: dict[str, Any], lane: list[bool]
) -> None:
    r = await client.get("/login", headers={"Accept": "text/html"})
    token = re.search(r'name="_csrf_token" value="([^"]+)"', r.text)
    assert token is not None, r.text
    r = await client.post(
        "/login",
        data={"username": "owner", "password": "secret-pass", "_csrf_token": token[1]},
        headers={"Accept": "text/html"},
    )
    assert r.status_code == 303, r.text
    r = await client.get(f"/media/{world['image']['id']}/low")
    assert r.status_code == 200
    assert lane == [False]
