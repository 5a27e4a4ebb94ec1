"""S3Storage specifics: presigning for the public URL, fast failure, bucket set-up."""

from __future__ import annotations

import socket
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.seaweedfs import SeaweedFS
from imageuploader.storage import S3Storage, StorageUnavailable


def test_presign_targets_public_url_without_network(
    make_s3: Callable[..., S3Storage], bucket_names: list[str], closed_port: int
) -> None:
    # Neither endpoint is reachable: presigning must be pure computation.
    storage = S3Storage(
        f"127.0.0.1:{closed_port}",
        "ak",
        "sk",
        bucket_names[:4],
        secure=False,
        public_url="http://127.0.0.1:9",
    )
    start = time.monotonic()
    url = storage.presign_get(bucket_names[2], "img/original", timedelta(seconds=1234))
    assert time.monotonic() - start < 0.5

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc) == ("http", "127.0.0.1:9")
    assert parts.path == f"/{bucket_names[2]}/img/original"
    assert query["X-Amz-Expires"] == ["1234"]
    assert query["X-Amz-Credential"][0].split("/")[2] == "us-east-1"


def test_presign_https_public_url_and_content_type(bucket_names: list[str]) -> None:
    storage = S3Storage(
        "minio:9000",
        "ak",
        "sk",
        bucket_names[:1],
        secure=False,
        public_url="https://media.example.com/",
    )
    url = storage.presign_get(
        bucket_names[0], "i/h200", timedelta(seconds=300), response_content_type="image/webp"
    )
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "media.example.com")
    assert parse_qs(parts.query)["response-content-type"] == ["image/webp"]
    assert parse_qs(parts.query)["X-Amz-Expires"] == ["300"]


def test_presigned_url_serves_exact_bytes(
    make_s3: Callable[..., S3Storage], bucket_names: list[str], seaweedfs: SeaweedFS
) -> None:
    storage = make_s3(bucket_names[:4], public_url=seaweedfs.url)
    storage.ensure_ready()
    data = bytes(range(256)) * 400
    storage.put(bucket_names[1], "img/original", data, "image/jpeg")

    url = storage.presign_get(
        bucket_names[1], "img/original", timedelta(seconds=600), response_content_type="image/png"
    )
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own test server
        assert response.read() == data
        assert response.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    "public_url", ["ftp://x", "http://h/prefix", "localhost:9000", "http://u:p@h"]
)
def test_bad_public_url_rejected(public_url: str) -> None:
    with pytest.raises(ValueError, match="public URL"):
        S3Storage("minio:9000", "ak", "sk", ["media-0"], secure=False, public_url=public_url)


@pytest.mark.parametrize("buckets", [[], ["media-0", "media-0"], ["Bad_Name"], ["ab"]])
def test_bad_bucket_lists_rejected(buckets: list[str]) -> None:
    with pytest.raises(ValueError):
        S3Storage("minio:9000", "ak", "sk", buckets, secure=False)


def test_refused_connection_is_unavailable_fast(bucket_names: list[str], closed_port: int) -> None:
    storage = S3Storage(f"127.0.0.1:{closed_port}", "ak", "sk", bucket_names[:4], secure=False)
    for call in (storage.check, lambda: storage.get(bucket_names[0], "k/original")):
        start = time.monotonic()
        with pytest.raises(StorageUnavailable, match="unreachable"):
            call()
        assert time.monotonic() - start < 3


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections (kernel backlog) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield int(sock.getsockname()[1])


def test_unanswered_request_times_out_as_unavailable(
    bucket_names: list[str], silent_server: int
) -> None:
    storage = S3Storage(
        f"127.0.0.1:{silent_server}", "ak", "sk", bucket_names[:1], secure=False, read_timeout=0.5
    )
    start = time.monotonic()
    with pytest.raises(StorageUnavailable):
        storage.check()
    assert time.monotonic() - start < 3


def test_ensure_ready_creates_every_bucket(
    make_s3: Callable[..., S3Storage], bucket_names: list[str]
) -> None:
    storage = make_s3(bucket_names[:4])
    with pytest.raises(StorageUnavailable, match="does not exist"):
        storage.check()
    storage.ensure_ready()
    storage.ensure_ready()
    storage.check()
    for bucket in bucket_names[:4]:
        storage.put(bucket, "probe/original", bucket.encode(), "text/plain")
        assert storage.get(bucket, "probe/original") == bucket.encode()


def test_locate_uses_the_ring(s3_storage: S3Storage) -> None:
    ids = [f"00000000-0000-4000-8000-{i:012d}" for i in range(200)]
    placed = {s3_storage.locate(i) for i in ids}
    assert placed == set(s3_storage.buckets)
    assert all(s3_storage.locate(i) == s3_storage.ring.bucket_for(i) for i in ids)


def test_large_object_keeps_md5_etag(s3_storage: S3Storage) -> None:
    # Above minio's 5 MiB part size a multipart upload would give an "md5-N"
    # ETag; single PUTs keep the etag comparable after a copy.
    import hashlib

    data = b"\x5a" * (6 * 1024 * 1024 + 7)
    bucket = s3_storage.buckets[0]
    s3_storage.put(bucket, "big/original", data, "image/tiff")
    expected = hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert s3_storage.stat(bucket, "big/original").etag == expected


def test_repr_hides_secret(s3_storage: S3Storage) -> None:
    assert "test-secret" not in repr(s3_storage)
