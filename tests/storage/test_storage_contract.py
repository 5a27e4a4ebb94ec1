"""The Storage contract, run against both LocalStorage and S3Storage (on SeaweedFS)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

import pytest

from imageuploader.storage import (
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
)


@dataclass
class Backend:
    storage: Storage
    home: str  # where new objects go
    other: str  # a second location for copy tests


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "local":
        local: LocalStorage = request.getfixturevalue("local_storage")
        return Backend(local, local.locate("any"), "backup")
    s3: S3Storage = request.getfixturevalue("s3_storage")
    return Backend(s3, s3.buckets[0], s3.buckets[1])


def payload(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


BAD_KEYS = [
    "",
    "../etc/passwd",
    "a/../../b",
    "..",
    "/abs/path",
    "a\\b",
    "a//b",
    "dir/",
    ".hidden",
    "a/.tmp-x",
    "sp ace",
    "ümlaut",
    "a" * 1025,
]


def test_storage_satisfies_protocol(backend: Backend) -> None:
    assert isinstance(backend.storage, Storage)


def test_put_get_stat_round_trip(backend: Backend) -> None:
    data = payload(300_000)
    backend.storage.put(backend.home, "img-1/original", data, "image/jpeg")

    assert backend.storage.get(backend.home, "img-1/original") == data
    info = backend.storage.stat(backend.home, "img-1/original")
    assert info.size == 300_000
    assert info.content_type == "image/jpeg"
    assert info.etag == hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_empty_object(backend: Backend) -> None:
    backend.storage.put(backend.home, "img-0/empty", b"", "image/png")
    assert backend.storage.get(backend.home, "img-0/empty") == b""
    assert backend.storage.stat(backend.home, "img-0/empty").size == 0


def test_put_overwrites(backend: Backend) -> None:
    backend.storage.put(backend.home, "img-1/h200", b"first", "image/jpeg")
    backend.storage.put(backend.home, "img-1/h200", b"second!", "image/webp")
    assert backend.storage.get(backend.home, "img-1/h200") == b"second!"
    info = backend.storage.stat(backend.home, "img-1/h200")
    assert (info.size, info.content_type) == (7, "image/webp")


def test_open_streams_in_chunks(backend: Backend) -> None:
    data = payload(1_000_003, seed=2)
    backend.storage.put(backend.home, "big/original", data, "image/tiff")

    stream, size = backend.storage.open(backend.home, "big/original")
    with stream:
        chunks = list(stream)
    assert size == len(data)
    assert len(chunks) > 1  # really streamed, not one read
    assert b"".join(chunks) == data


@pytest.mark.parametrize(
    ("offset", "length"),
    [(0, 10), (70_000, None), (1, 150_000), (199_990, 10), (199_999, 500), (5, 0)],
)
def test_open_reads_a_byte_range(backend: Backend, offset: int, length: int | None) -> None:
    data = payload(200_000, seed=3)
    backend.storage.put(backend.home, "r/original", data, "image/png")
    stream, size = backend.storage.open(backend.home, "r/original", offset=offset, length=length)
    with stream:
        got = b"".join(stream)
    expected = data[offset:] if length is None else data[offset : offset + length]
    assert got == expected
    assert size == len(expected)


def test_open_can_be_closed_early(backend: Backend) -> None:
    backend.storage.put(backend.home, "k/original", payload(200_000), "image/png")
    stream, _ = backend.storage.open(backend.home, "k/original")
    first = next(stream)
    stream.close()
    assert first
    assert list(stream) == []
    # The backend is still usable afterwards (no leaked/poisoned connection).
    assert backend.storage.get(backend.home, "k/original")[: len(first)] == first


@pytest.mark.parametrize("method", ["get", "stat", "open"])
def test_missing_object_raises_not_found(backend: Backend, method: str) -> None:
    with pytest.raises(ObjectNotFound) as excinfo:
        getattr(backend.storage, method)(backend.home, "nope/original")
    assert excinfo.value.key == "nope/original"
    assert excinfo.value.location == backend.home


def test_copy_missing_raises_not_found(backend: Backend) -> None:
    with pytest.raises(ObjectNotFound):
        backend.storage.copy(backend.home, "nope/original", backend.other)


def test_delete_is_idempotent(backend: Backend) -> None:
    backend.storage.put(backend.home, "d/original", b"x", "image/jpeg")
    backend.storage.delete(backend.home, "d/original")
    backend.storage.delete(backend.home, "d/original")
    with pytest.raises(ObjectNotFound):
        backend.storage.get(backend.home, "d/original")


def test_delete_many_removes_only_listed(backend: Backend) -> None:
    for name in ("a", "b", "c"):
        backend.storage.put(backend.home, f"m/{name}", name.encode(), "image/jpeg")
    backend.storage.delete_many(backend.home, ["m/a", "m/c", "m/absent"])
    backend.storage.delete_many(backend.home, [])
    assert list(backend.storage.list_keys(backend.home)) == ["m/b"]
    assert backend.storage.get(backend.home, "m/b") == b"b"


def test_copy_to_other_location(backend: Backend) -> None:
    data = payload(50_000, seed=3)
    backend.storage.put(backend.home, "c/original", data, "image/avif")
    backend.storage.copy(backend.home, "c/original", backend.other)

    assert backend.storage.get(backend.other, "c/original") == data
    assert backend.storage.get(backend.home, "c/original") == data  # source kept
    src = backend.storage.stat(backend.home, "c/original")
    dst = backend.storage.stat(backend.other, "c/original")
    assert (dst.size, dst.content_type, dst.etag) == (src.size, "image/avif", src.etag)


def test_copy_onto_itself_is_a_no_op(backend: Backend) -> None:
    backend.storage.put(backend.home, "s/original", b"same", "image/png")
    backend.storage.copy(backend.home, "s/original", backend.home)
    assert backend.storage.get(backend.home, "s/original") == b"same"


def test_list_keys_with_prefix(backend: Backend) -> None:
    for key in ("p1/original", "p1/h200", "p2/original"):
        backend.storage.put(backend.home, key, b"z", "image/jpeg")
    assert sorted(backend.storage.list_keys(backend.home)) == [
        "p1/h200",
        "p1/original",
        "p2/original",
    ]
    assert sorted(backend.storage.list_keys(backend.home, "p1/")) == ["p1/h200", "p1/original"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_rejected_everywhere(backend: Backend, key: str) -> None:
    s, loc = backend.storage, backend.home
    calls = [
        lambda: s.put(loc, key, b"x", "image/jpeg"),
        lambda: s.get(loc, key),
        lambda: s.open(loc, key),
        lambda: s.stat(loc, key),
        lambda: s.delete(loc, key),
        lambda: s.delete_many(loc, ["fine/key", key]),
        lambda: s.copy(loc, key, backend.other),
    ]
    for call in calls:
        with pytest.raises(ValueError):
            call()


def test_ensure_ready_is_idempotent(backend: Backend) -> None:
    backend.storage.put(backend.home, "keep/original", b"kept", "image/jpeg")
    backend.storage.ensure_ready()
    backend.storage.ensure_ready()
    backend.storage.check()
    assert backend.storage.get(backend.home, "keep/original") == b"kept"


def test_locate_is_stable(backend: Backend) -> None:
    image_id = "0b7e4f0e-6f0c-4c8e-9d0a-3b8f1b0f3a11"
    first = backend.storage.locate(image_id)
    assert first == backend.storage.locate(image_id)
    backend.storage.put(first, f"{image_id}/original", b"ok", "image/jpeg")
    assert backend.storage.get(first, f"{image_id}/original") == b"ok"
