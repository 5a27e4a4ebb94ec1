"""Presigned links judged by a server that checks signatures and expiry (SeaweedFS).

Each refusal test first shows that a good link to the same object opens, so
that a 403 can only come from what the test changed, never from signing that
is broken everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest

from bench.seaweedfs import SeaweedFS
from imageuploader.storage import S3Storage

KEY = "0b7e4f0e-6f0c-4c8e-9d0a-3b8f1b0f3a11/original"
DATA = bytes(range(256)) * 64
HEX = "0123456789abcdef"


@pytest.fixture
def storage(make_s3: Callable[..., S3Storage], bucket_names: list[str]) -> S3Storage:
    """A ready S3Storage whose links point at the server itself, holding one JPEG."""
    storage = make_s3(bucket_names[:2])
    storage.ensure_ready()
    storage.put(storage.buckets[0], KEY, DATA, "image/jpeg")
    return storage


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode({**query_of(url), **changes})))


def flip_hex(text: str, position: int) -> str:
    old = text[position]
    return text[:position] + HEX[(HEX.index(old) + 1) % 16] + text[position + 1 :]


def said(response: httpx.Response) -> str:
    """A response in a line, for assertion messages (an image body is not printed)."""
    kind = response.headers.get("content-type", "")
    body = response.text[:300] if "xml" in kind else f"{len(response.content)} bytes"
    return f"{response.status_code} {kind}: {body}"


def error_code(response: httpx.Response) -> str:
    """The S3 error code from an XML error body."""
    text = response.text
    start = text.find("<Code>") + len("<Code>")
    return text[start : text.find("</Code>")] if start >= len("<Code>") else ""


def test_link_opens_with_the_stored_type(storage: S3Storage) -> None:
    url = storage.presign_get(storage.buckets[0], KEY, timedelta(seconds=600))
    r = httpx.get(url)
    assert r.status_code == 200, said(r)
    assert r.content == DATA
    assert r.headers["content-type"] == "image/jpeg"


def test_link_can_name_the_response_type(storage: S3Storage) -> None:
    url = storage.presign_get(
        storage.buckets[0], KEY, timedelta(seconds=600), response_content_type="image/webp"
    )
    r = httpx.get(url)
    assert r.status_code == 200, said(r)
    assert r.headers["content-type"] == "image/webp"


def test_link_signed_at_a_fixed_time_is_the_same_url_and_names_the_disposition(
    storage: S3Storage,
) -> None:
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=30)

    def make() -> str:
        return storage.presign_get(
            storage.buckets[0],
            KEY,
            timedelta(seconds=600),
            response_content_type="image/jpeg",
            response_content_disposition='inline; filename="a.jpg"',
            signed_at=at,
        )

    url = make()
    assert make() == url
    assert query_of(url)["X-Amz-Date"] == at.strftime("%Y%m%dT%H%M%SZ")
    r = httpx.get(url)
    assert r.status_code == 200, said(r)
    assert r.headers["content-disposition"] == 'inline; filename="a.jpg"'
    r = httpx.get(with_query(url, **{"response-content-disposition": "attachment"}))
    assert r.status_code == 403, said(r)


def test_changed_signature_is_refused(storage: S3Storage) -> None:
    url = storage.presign_get(storage.buckets[0], KEY, timedelta(seconds=600))
    assert httpx.get(url).status_code == 200
    signature = query_of(url)["X-Amz-Signature"]
    assert len(signature) == 64
    with httpx.Client() as client:
        for position in range(len(signature)):
            bad = with_query(url, **{"X-Amz-Signature": flip_hex(signature, position)})
            r = client.get(bad)
            assert r.status_code == 403, (position, said(r))
            assert error_code(r) == "SignatureDoesNotMatch", (position, said(r))


def signed_at(url: str) -> datetime:
    return datetime.strptime(query_of(url)["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def earlier(url: str) -> str:
    return (signed_at(url) - timedelta(seconds=1)).strftime("%Y%m%dT%H%M%SZ")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Amz-Expires", lambda url: "604800"),  # a longer life than was signed
        ("response-content-type", lambda url: "text/html"),  # a type that was not signed
        ("X-Amz-Date", earlier),  # another signing time, still inside the lifetime
    ],
    ids=["expires", "content-type", "date"],
)
def test_changed_signed_parameter_is_refused(
    storage: S3Storage, name: str, value: Callable[[str], str]
) -> None:
    url = storage.presign_get(storage.buckets[0], KEY, timedelta(seconds=600))
    assert httpx.get(url).status_code == 200
    r = httpx.get(with_query(url, **{name: value(url)}))
    assert r.status_code == 403, said(r)
    assert error_code(r) == "SignatureDoesNotMatch", said(r)


def test_link_to_another_object_is_refused(storage: S3Storage) -> None:
    other = KEY.replace("original", "h200")
    storage.put(storage.buckets[0], other, b"other", "image/jpeg")
    url = storage.presign_get(storage.buckets[0], KEY, timedelta(seconds=600))
    assert httpx.get(url).status_code == 200
    parts = urlsplit(url)
    moved = urlunsplit(parts._replace(path=parts.path.replace(KEY, other)))
    r = httpx.get(moved)
    assert r.status_code == 403, said(r)
    assert error_code(r) == "SignatureDoesNotMatch"


def test_link_signed_with_the_wrong_secret_is_refused(
    storage: S3Storage, seaweedfs: SeaweedFS
) -> None:
    assert httpx.get(storage.presign_get(storage.buckets[0], KEY, timedelta(seconds=60))).is_success
    impostor = S3Storage(
        seaweedfs.endpoint,
        seaweedfs.access_key,
        seaweedfs.secret_key[::-1],
        storage.buckets,
        secure=False,
    )
    r = httpx.get(impostor.presign_get(storage.buckets[0], KEY, timedelta(seconds=600)))
    assert r.status_code == 403, said(r)
    assert error_code(r) == "SignatureDoesNotMatch"


def test_object_is_not_public(storage: S3Storage) -> None:
    assert httpx.get(storage.presign_get(storage.buckets[0], KEY, timedelta(seconds=60))).is_success
    r = httpx.get(f"{storage.public_url}/{storage.buckets[0]}/{KEY}")
    assert r.status_code == 403, said(r)


def test_link_is_refused_once_expired(storage: S3Storage) -> None:
    url = storage.presign_get(storage.buckets[0], KEY, timedelta(seconds=1))
    assert query_of(url)["X-Amz-Expires"] == "1"
    # Past the 1 s lifetime plus a second, as X-Amz-Date has whole seconds.
    while datetime.now(UTC) < signed_at(url) + timedelta(seconds=2):
        time.sleep(0.1)

    expired = httpx.get(url)
    assert expired.status_code == 403, said(expired)
    assert "expired" in expired.text, said(expired)
    # A link made the same way with a longer life opens: the refusal above is
    # the expiry, not the signing.
    fresh = httpx.get(storage.presign_get(storage.buckets[0], KEY, timedelta(seconds=600)))
    assert fresh.status_code == 200, said(fresh)
    assert fresh.content == DATA


def test_link_is_signed_for_the_public_host(
    make_s3: Callable[..., S3Storage], bucket_names: list[str], seaweedfs: SeaweedFS
) -> None:
    """Why S3_PUBLIC_URL must be the endpoint as the browser reaches it: the host is
    part of what is signed, so the same server reached by another name refuses."""
    port = seaweedfs.ports["s3.port"]
    storage = make_s3(bucket_names[:1], public_url=f"http://localhost:{port}")
    storage.ensure_ready()
    storage.put(storage.buckets[0], KEY, DATA, "image/jpeg")
    url = storage.presign_get(storage.buckets[0], KEY, timedelta(seconds=600))
    assert urlsplit(url).netloc == f"localhost:{port}"
    assert httpx.get(url).status_code == 200

    r = httpx.get(url.replace(f"//localhost:{port}/", f"//127.0.0.1:{port}/"))
    assert r.status_code == 403, said(r)
    assert error_code(r) == "SignatureDoesNotMatch"
