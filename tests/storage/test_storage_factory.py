"""storage_from_url: URL forms, decoded credentials, errors that name the variable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from imageuploader.storage import LocalStorage, S3Storage, factory, storage_from_url

BUCKETS = ["media-0", "media-1"]


def test_absolute_file_url(tmp_path: Path) -> None:
    storage = storage_from_url(f"file://{tmp_path}/media", buckets=[], public_url=None)
    assert isinstance(storage, LocalStorage)
    assert storage.root == (tmp_path / "media").resolve()


@pytest.mark.parametrize("url", ["file://./data/media", "file:data/media"])
def test_relative_file_url(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    storage = storage_from_url(url, buckets=BUCKETS, public_url=None)
    assert isinstance(storage, LocalStorage)
    assert storage.root == (tmp_path / "data" / "media").resolve()


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Record what the factory passes to S3Storage."""
    seen: dict[str, Any] = {}

    def fake(*args: Any, **kwargs: Any) -> str:
        seen["args"], seen["kwargs"] = args, kwargs
        return "s3-storage"

    monkeypatch.setattr(factory, "S3Storage", fake)
    return seen


@pytest.mark.parametrize(
    ("url", "endpoint", "secure", "region"),
    [
        (
            "s3://AK:S%2Fsecret%40x@minio:9000?secure=false&region=eu-west-1",
            "minio:9000",
            False,
            "eu-west-1",
        ),
        ("s3://AK:S%2Fsecret%40x@s3.example.com", "s3.example.com", True, "us-east-1"),
        ("http://AK:S%2Fsecret%40x@minio:9000", "minio:9000", False, "us-east-1"),
        ("https://AK:S%2Fsecret%40x@minio:9443?region=auto", "minio:9443", True, "auto"),
    ],
)
def test_s3_urls(
    url: str, endpoint: str, secure: bool, region: str, captured: dict[str, Any]
) -> None:
    result = storage_from_url(url, buckets=BUCKETS, public_url="http://localhost:9000")
    assert result == "s3-storage"
    assert captured["args"] == (endpoint, "AK", "S/secret@x", BUCKETS)
    assert captured["kwargs"] == {
        "secure": secure,
        "region": region,
        "public_url": "http://localhost:9000",
    }


def test_s3_url_builds_real_storage() -> None:
    storage = storage_from_url(
        "s3://ak:sk@minio:9000?secure=false", buckets=[" media-0 ", "media-1"], public_url=None
    )
    assert isinstance(storage, S3Storage)
    assert storage.buckets == ("media-0", "media-1")


@pytest.mark.parametrize(
    ("url", "buckets", "public_url", "names"),
    [
        ("ftp://host/x", BUCKETS, None, "STORAGE_URL"),
        ("media", BUCKETS, None, "STORAGE_URL"),
        ("file://otherhost/data", BUCKETS, None, "STORAGE_URL"),
        ("s3://minio:9000", BUCKETS, None, "STORAGE_URL"),
        ("s3://ak:sk@minio:notaport", BUCKETS, None, "STORAGE_URL"),
        ("s3://ak:sk@minio:9000/bucket", BUCKETS, None, "STORAGE_URL"),
        ("s3://ak:sk@minio:9000?secure=maybe", BUCKETS, None, "STORAGE_URL"),
        ("s3://ak:sk@minio:9000?bucket=x", BUCKETS, None, "STORAGE_URL"),
        ("http://ak:sk@minio:9000?secure=true", BUCKETS, None, "STORAGE_URL"),
        ("s3://ak:sk@minio:9000", [], None, "S3_BUCKETS"),
        ("s3://ak:sk@minio:9000", ["", " "], None, "S3_BUCKETS"),
        ("s3://ak:sk@minio:9000", ["media-0", "media-0"], None, "S3_BUCKETS"),
        ("s3://ak:sk@minio:9000", ["Not_Valid"], None, "S3_BUCKETS"),
        ("s3://ak:sk@minio:9000", BUCKETS, "minio:9000", "S3_PUBLIC_URL"),
    ],
)
def test_bad_configuration_names_the_variable(
    url: str, buckets: list[str], public_url: str | None, names: str
) -> None:
    with pytest.raises(ValueError, match=names):
        storage_from_url(url, buckets=buckets, public_url=public_url)


def test_error_message_does_not_leak_the_secret() -> None:
    with pytest.raises(ValueError) as excinfo:
        storage_from_url("s3://ak:topsecret@minio:bad", buckets=BUCKETS, public_url=None)
    assert "topsecret" not in str(excinfo.value)
