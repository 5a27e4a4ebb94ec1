"""HTTP semantics of stored bytes on /media and /s/: ETag, 304, HEAD, Range, Cache-Control."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from imageuploader import maintenance
from imageuploader.container import Services
from imageuploader.images.tables import Image, Rendition
from imageuploader.imaging import strip_metadata

from .conftest import photo

pytestmark = pytest.mark.usefixtures("settings")


@dataclass
class Target:
    """One way to the same object: its path and the headers that open it."""

    path: str
    headers: dict[str, str]

    def with_(self, **extra: str) -> dict[str, str]:
        return {**self.headers, **{k.replace("_", "-"): v for k, v in extra.items()}}


@pytest.fixture
def services(app: Litestar) -> Services:
    """The services the test's app runs on (the reprocess command needs them too)."""
    return app.state.slot.services


Make = Callable[..., Awaitable[tuple[dict[str, Any], dict[str, Target]]]]


@pytest.fixture
def make_image(client: AsyncTestClient, make_plan, make_user, upload, wait_done) -> Make:
    """An image on a plan of one size in two formats (so answers vary by Accept), and
    its `low` object by permanent link and by /s/ link."""

    async def make() -> tuple[dict[str, Any], dict[str, Target]]:
        slug = "low"
        plan = await make_plan("Delivery", [slug], formats=("jpeg", "webp"))
        headers = await make_user("sam", plan=plan)
        r = await upload(headers)
        assert r.status_code == 201, r.text
        image = await wait_done(headers, r.json()["id"])
        r = await client.post(
            f"/api/images/{image['id']}/expiring-links",
            json={"seconds": 600, "rendition": slug},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        shared = urlsplit(r.json()["url"]).path
        assert shared.startswith("/s/")
        return image, {
            "media": Target(f"/media/{image['id']}/{slug}", headers),
            "shared": Target(shared, {}),
        }

    return make


def sha256_etag(body: bytes) -> str:
    return f'"{hashlib.sha256(body).hexdigest()}"'


ROUTES = pytest.mark.parametrize("route", ["media", "shared"])


@ROUTES
async def test_strong_etag_is_the_digest_of_the_bytes(client, make_image, route) -> None:
    _, targets = await make_image()
    t = targets[route]
    r = await client.get(t.path, headers=t.headers)
    assert r.status_code == 200, r.text
    assert len(r.content) > 1000
    assert r.headers["etag"] == sha256_etag(r.content)
    assert not r.headers["etag"].startswith("W/")
    assert r.headers["last-modified"].endswith(" GMT")
    assert r.headers["accept-ranges"] == "bytes"
    assert r.headers["content-length"] == str(len(r.content))
    assert r.headers["content-type"] == "image/jpeg"


@ROUTES
async def test_if_none_match_is_304_without_body(client, make_image, route) -> None:
    _, targets = await make_image()
    t = targets[route]
    first = await client.get(t.path, headers=t.headers)
    etag = first.headers["etag"]

    again = await client.get(t.path, headers=t.with_(If_None_Match=etag))
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == first.headers["cache-control"]

    listed = await client.get(t.path, headers=t.with_(If_None_Match=f'"nope", W/{etag}'))
    assert listed.status_code == 304
    other = await client.get(t.path, headers=t.with_(If_None_Match='"something-else"'))
    assert other.status_code == 200
    assert other.content == first.content


@ROUTES
async def test_a_304_carries_only_what_updates_the_cached_response(
    client, make_image, route
) -> None:
    _, targets = await make_image()
    t = targets[route]
    first = await client.get(t.path, headers=t.with_(Accept="image/webp"))
    assert first.headers["vary"] == "Accept"
    assert "content-security-policy" in first.headers
    etag = first.headers["etag"]
    r = await client.get(t.path, headers=t.with_(Accept="image/webp", If_None_Match=etag))
    assert r.status_code == 304
    assert r.headers["etag"] == etag
    assert r.headers["cache-control"] == first.headers["cache-control"]
    assert r.headers["vary"] == "Accept"
    # RFC 9110 15.4.5: nothing else; the client's stored 200 keeps its own headers.
    assert set(r.headers) == {"etag", "cache-control", "vary", "x-request-id"}


@ROUTES
async def test_if_modified_since(client, make_image, route) -> None:
    _, targets = await make_image()
    t = targets[route]
    first = await client.get(t.path, headers=t.headers)
    since = first.headers["last-modified"]
    r = await client.get(t.path, headers=t.with_(If_Modified_Since=since))
    assert r.status_code == 304
    assert r.content == b""
    old = await client.get(
        t.path, headers=t.with_(If_Modified_Since="Mon, 01 Jan 2024 00:00:00 GMT")
    )
    assert old.status_code == 200
    assert old.content == first.content


@ROUTES
async def test_head_has_the_headers_and_no_body(client, make_image, route) -> None:
    _, targets = await make_image()
    t = targets[route]
    full = await client.get(t.path, headers=t.headers)
    head = await client.head(t.path, headers=t.headers)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("etag", "last-modified", "content-type", "cache-control", "accept-ranges"):
        assert head.headers[name] == full.headers[name], name
    assert head.headers["content-length"] == str(len(full.content))
    conditional = await client.head(t.path, headers=t.with_(If_None_Match=full.headers["etag"]))
    assert conditional.status_code == 304


@ROUTES
async def test_range_is_206_with_content_range(client, make_image, route) -> None:
    _, targets = await make_image()
    t = targets[route]
    full = (await client.get(t.path, headers=t.headers)).content
    size = len(full)

    r = await client.get(t.path, headers=t.with_(Range="bytes=0-99"))
    assert r.status_code == 206
    assert r.content == full[:100]
    assert r.headers["content-range"] == f"bytes 0-99/{size}"
    assert r.headers["content-length"] == "100"

    tail = await client.get(t.path, headers=t.with_(Range="bytes=-10"))
    assert tail.status_code == 206
    assert tail.content == full[-10:]
    assert tail.headers["content-range"] == f"bytes {size - 10}-{size - 1}/{size}"

    middle = await client.get(t.path, headers=t.with_(Range=f"bytes=100-{size + 50}"))
    assert middle.status_code == 206
    assert middle.content == full[100:]

    # Several ranges are answered with the whole body.
    several = await client.get(t.path, headers=t.with_(Range="bytes=0-1,5-6"))
    assert several.status_code == 200
    assert several.content == full


@ROUTES
async def test_unsatisfiable_range_is_416(client, make_image, route) -> None:
    _, targets = await make_image()
    t = targets[route]
    size = len((await client.get(t.path, headers=t.headers)).content)
    r = await client.get(t.path, headers=t.with_(Range=f"bytes={size}-"))
    assert r.status_code == 416
    assert r.headers["content-range"] == f"bytes */{size}"
    assert r.content == b""


@ROUTES
async def test_if_range(client, make_image, route) -> None:
    _, targets = await make_image()
    t = targets[route]
    full = await client.get(t.path, headers=t.headers)
    current = await client.get(
        t.path, headers=t.with_(Range="bytes=0-9", If_Range=full.headers["etag"])
    )
    assert current.status_code == 206
    assert current.content == full.content[:10]
    stale = await client.get(t.path, headers=t.with_(Range="bytes=0-9", If_Range='"stale"'))
    assert stale.status_code == 200
    assert stale.content == full.content


async def test_cache_control_per_kind_of_link(client, make_image, clock) -> None:
    _, targets = await make_image()
    media, shared = targets["media"], targets["shared"]
    r = await client.get(media.path, headers=media.headers)
    assert r.headers["cache-control"] == "private, no-cache"

    s = await client.get(shared.path)
    assert s.headers["cache-control"] == "public, max-age=600"
    clock.advance(100)
    s = await client.get(shared.path)
    assert s.headers["cache-control"] == "public, max-age=500"

    digest = r.headers["etag"].strip('"')
    versioned = await client.get(f"{media.path}?v={digest[:16]}", headers=media.headers)
    assert versioned.status_code == 200
    assert versioned.headers["cache-control"] == "private, max-age=31536000, immutable"
    wrong = await client.get(f"{media.path}?v=0123456789abcdef", headers=media.headers)
    assert wrong.headers["cache-control"] == "private, no-cache"
    short = await client.get(f"{media.path}?v={digest[:1]}", headers=media.headers)
    assert short.headers["cache-control"] == "private, no-cache"


async def test_original_has_the_digest_of_the_upload(client, make_user, upload) -> None:
    """The stored original is the upload without its metadata (its digest and ETag)."""
    headers = await make_user("olga", plan="Studio")

    data = photo(300, 200)
    stored_bytes = strip_metadata(data, "jpeg")
    image = (await upload(headers, data)).json()
    r = await client.get(image["original_url"], headers=headers)
    assert r.status_code == 200
    assert r.content == stored_bytes
    assert r.headers["etag"] == sha256_etag(stored_bytes)
    stored = await Image.select(Image.digest).where(Image.id == image["id"]).first()
    assert stored["digest"] == hashlib.sha256(stored_bytes).hexdigest()


async def test_remade_rendition_never_validates_under_its_old_etag(
    client, make_image, services, admin_headers, wait_done
) -> None:
    image, targets = await make_image()
    before = {}
    for route, t in targets.items():
        r = await client.get(t.path, headers=t.headers)
        before[route] = r
        assert (
            await client.get(t.path, headers=t.with_(If_None_Match=r.headers["etag"]))
        ).status_code == 304

    # The size is edited, and the rendition made again with other bytes.
    r = await client.patch("/api/admin/sizes/low", json={"width": 100}, headers=admin_headers)
    assert r.status_code == 200, r.text
    # The edit queues the remake on the workers; the command makes whatever they have
    # not taken yet. Either way it is done once every rendition has settled.
    result = await maintenance.reprocess(services, everything=True, say=lambda _: None)
    assert result.failed == 0
    await wait_done(targets["media"].headers, image["id"])

    for route, t in targets.items():
        old = before[route]
        r = await client.get(t.path, headers=t.with_(If_None_Match=old.headers["etag"]))
        assert r.status_code == 200, route
        assert r.content != old.content
        assert r.headers["etag"] == sha256_etag(r.content) != old.headers["etag"]
        # A resumed download against the old bytes gets the whole new body.
        resumed = await client.get(
            t.path, headers=t.with_(Range="bytes=10-", If_Range=old.headers["etag"])
        )
        assert resumed.status_code == 200, route
        assert resumed.content == r.content


async def test_rows_without_a_digest_get_one_on_first_read(client, make_image) -> None:
    image, targets = await make_image()
    await Rendition.update({Rendition.digest: None}, force=True)
    await Image.update({Image.digest: None}, force=True)
    t = targets["media"]
    r = await client.get(t.path, headers=t.headers)
    assert r.status_code == 200
    assert r.headers["etag"] == sha256_etag(r.content)
    row = (
        await Rendition.select(Rendition.digest)
        .where((Rendition.image == image["id"]) & (Rendition.slug == "low"))
        .first()
    )
    assert f'"{row["digest"]}"' == r.headers["etag"]
    assert (
        await client.get(t.path, headers=t.with_(If_None_Match=r.headers["etag"]))
    ).status_code == 304

    o = await client.get(image["original_url"], headers=t.headers)
    assert o.headers["etag"] == sha256_etag(o.content)
    stored = await Image.select(Image.digest).where(Image.id == image["id"]).first()
    assert stored["digest"] == hashlib.sha256(o.content).hexdigest()
