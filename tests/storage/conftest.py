"""Storage test fixtures: S3 backends on SeaweedFS, a local backend, a dead endpoint."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from bench.seaweedfs import SeaweedFS
from imageuploader.storage import LocalStorage, S3Storage


@pytest.fixture
def bucket_names() -> list[str]:
    """Five bucket names unique to this test, so tests never see each other's objects."""
    run = uuid.uuid4().hex[:12]
    return [f"t{run}-b{i}" for i in range(5)]


@pytest.fixture
def make_s3(seaweedfs: SeaweedFS) -> Callable[..., S3Storage]:
    """Build an S3Storage on the session's SeaweedFS; ensure_ready() creates the buckets."""

    def make(buckets: Sequence[str], **kwargs: Any) -> S3Storage:
        kwargs.setdefault("secure", False)
        return S3Storage(
            seaweedfs.endpoint, seaweedfs.access_key, seaweedfs.secret_key, buckets, **kwargs
        )

    return make


@pytest.fixture
def s3_storage(make_s3: Callable[..., S3Storage], bucket_names: list[str]) -> S3Storage:
    """A ready S3Storage over 4 fresh buckets (the 5th name is kept for rebalance tests)."""
    storage = make_s3(bucket_names[:4])
    storage.ensure_ready()
    return storage


@pytest.fixture
def local_storage(tmp_path: Path) -> LocalStorage:
    storage = LocalStorage(tmp_path / "media")
    storage.ensure_ready()
    return storage


@pytest.fixture
def closed_port() -> int:
    """A localhost port nobody listens on: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
