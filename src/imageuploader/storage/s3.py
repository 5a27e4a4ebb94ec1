"""S3Storage: objects in several S3/MinIO buckets chosen by a consistent-hash ring."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TypeVar
from urllib.parse import urlsplit

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import CopySource
from minio.deleteobjects import DeleteObject
from minio.error import MinioException, S3Error, ServerError
from minio.helpers import MAX_PART_SIZE, check_bucket_name
from urllib3.exceptions import HTTPError as Urllib3HTTPError

from .base import (
    ObjectInfo,
    ObjectNotFound,
    ObjectStream,
    StorageError,
    StorageUnavailable,
    validate_key,
)
from .ring import HashRing

T = TypeVar("T")

_NOT_FOUND_CODES = {"NoSuchKey", "NoSuchBucket", "NoSuchObject", "ResourceNotFound"}


class S3Storage:
    """Several buckets behind one ring; each image's objects all live in its ring bucket."""

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        buckets: Sequence[str],
        *,
        secure: bool,
        region: str = "us-east-1",
        public_url: str | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 30.0,
        retries: int = 1,
    ) -> None:
        for bucket in buckets:
            check_bucket_name(bucket, strict=True)
        self.ring = HashRing(buckets)
        self.buckets = self.ring.buckets
        self.endpoint = endpoint
        self.region = region
        # minio's default pool waits 5 minutes and retries 5 times; a dead S3
        # must fail a request (and /health) in seconds instead.
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            retries=urllib3.Retry(
                total=retries,
                connect=retries,
                read=0,  # a timed-out read is not retried: it may be a slow body
                backoff_factor=0.1,
                status_forcelist=[500, 502, 503, 504],
            ),
            maxsize=16,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
        )
        # A fixed region means minio never asks the server for a bucket's
        # location, so presigning is pure computation.
        self._client = Minio(
            endpoint,
            access_key,
            secret_key,
            secure=secure,
            region=region,
            http_client=self._http,
        )
        if public_url is None:
            self._public = self._client
            self.public_url = f"{'https' if secure else 'http'}://{endpoint}"
        else:
            public_endpoint, public_secure = parse_public_url(public_url)
            self._public = Minio(
                public_endpoint,
                access_key,
                secret_key,
                secure=public_secure,
                region=region,
                http_client=self._http,
            )
            self.public_url = public_url.rstrip("/")

    def __repr__(self) -> str:
        # Never show credentials.
        return f"S3Storage(endpoint={self.endpoint!r}, buckets={list(self.buckets)!r})"

    def _call(self, location: str, key: str | None, fn: Callable[[], T]) -> T:
        """Run one minio call, translating its errors into storage errors."""
        try:
            return fn()
        except S3Error as exc:
            if exc.code in _NOT_FOUND_CODES and key is not None:
                raise ObjectNotFound(location, key) from exc
            raise StorageError(f"S3 {exc.code} on {location}/{key or ''}: {exc.message}") from exc
        except ServerError as exc:
            raise StorageUnavailable(f"S3 at {self.endpoint} answered {exc.status_code}") from exc
        except (Urllib3HTTPError, OSError) as exc:
            raise StorageUnavailable(f"S3 at {self.endpoint} unreachable: {exc}") from exc
        except MinioException as exc:
            raise StorageError(f"S3 error on {location}/{key or ''}: {exc}") from exc

    def locate(self, image_id: str) -> str:
        return self.ring.bucket_for(image_id)

    def put(self, location: str, key: str, data: bytes, content_type: str) -> None:
        validate_key(key)
        # One PUT (not multipart) up to 5 GiB keeps the ETag the content MD5,
        # which is what rebalance compares after a copy.
        part_size = max(min(len(data), MAX_PART_SIZE), 5 * 1024 * 1024)
        self._call(
            location,
            key,
            lambda: self._client.put_object(
                location,
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type,
                part_size=part_size,
            ),
        )

    def get(self, location: str, key: str) -> bytes:
        validate_key(key)
        response = self._call(location, key, lambda: self._client.get_object(location, key))
        try:
            return self._call(location, key, response.read)
        finally:
            response.close()
            response.release_conn()

    def open(
        self, location: str, key: str, *, offset: int = 0, length: int | None = None
    ) -> tuple[ObjectStream, int]:
        validate_key(key)
        if length == 0:
            return ObjectStream(lambda n: b"", lambda: None), 0  # S3 reads 0 as "to the end"
        response = self._call(
            location,
            key,
            lambda: self._client.get_object(location, key, offset=offset, length=length or 0),
        )
        size = int(response.headers.get("Content-Length", "0"))

        def read(n: int) -> bytes:
            return self._call(location, key, lambda: response.read(n))

        def close() -> None:
            response.close()
            response.release_conn()

        return ObjectStream(read, close), size

    def stat(self, location: str, key: str) -> ObjectInfo:
        validate_key(key)
        obj = self._call(location, key, lambda: self._client.stat_object(location, key))
        return ObjectInfo(
            size=int(obj.size or 0),
            content_type=obj.content_type or "application/octet-stream",
            etag=(obj.etag or "").strip('"'),
        )

    def delete(self, location: str, key: str) -> None:
        validate_key(key)
        # S3 DELETE succeeds for a missing key, which is the contract we want.
        self._call(location, key, lambda: self._client.remove_object(location, key))

    def delete_many(self, location: str, keys: Iterable[str]) -> None:
        objects = [DeleteObject(validate_key(k)) for k in keys]
        if not objects:
            return
        # remove_objects is lazy: nothing is sent until its iterator is consumed.
        errors = self._call(
            location, None, lambda: list(self._client.remove_objects(location, objects))
        )
        if errors:
            detail = ", ".join(f"{e.name}: {e.code}" for e in errors[:5])
            raise StorageError(f"{len(errors)} objects not deleted from {location}: {detail}")

    def copy(self, src_location: str, key: str, dst_location: str) -> None:
        validate_key(key)
        if src_location == dst_location:
            # S3 refuses to copy an object onto itself without a metadata change.
            self.stat(src_location, key)
            return
        self._call(
            src_location,
            key,
            lambda: self._client.copy_object(dst_location, key, CopySource(src_location, key)),
        )

    def list_keys(self, location: str, prefix: str = "") -> Iterator[str]:
        objects = self._call(
            location,
            None,
            lambda: self._client.list_objects(location, prefix=prefix or None, recursive=True),
        )
        iterator = iter(objects)
        while True:
            obj = self._call(location, None, lambda: next(iterator, None))
            if obj is None:
                return
            if obj.object_name and not obj.is_dir:
                yield obj.object_name

    def presign_get(
        self,
        location: str,
        key: str,
        expires: timedelta,
        *,
        response_content_type: str | None = None,
        response_content_disposition: str | None = None,
        signed_at: datetime | None = None,
    ) -> str:
        """A presigned GET for the public endpoint; computed locally, no request is made."""
        validate_key(key)
        headers = {
            name: value
            for name, value in (
                ("response-content-type", response_content_type),
                ("response-content-disposition", response_content_disposition),
            )
            if value
        }
        return self._public.presigned_get_object(
            location,
            key,
            expires=expires,
            response_headers=headers or None,
            request_date=signed_at,
        )

    def ensure_ready(self) -> None:
        for bucket in self.buckets:
            if self._call(bucket, None, lambda b=bucket: self._client.bucket_exists(b)):
                continue
            try:
                self._call(bucket, None, lambda b=bucket: self._client.make_bucket(b))
            except StorageError as exc:
                # Another process (a second web replica) may have won the race.
                cause = exc.__cause__
                if not (isinstance(cause, S3Error) and cause.code == "BucketAlreadyOwnedByYou"):
                    raise

    def check(self) -> None:
        for bucket in self.buckets:
            if not self._call(bucket, None, lambda b=bucket: self._client.bucket_exists(b)):
                raise StorageUnavailable(
                    f"S3 bucket {bucket!r} does not exist (ensure_ready not run?)"
                )


def parse_public_url(public_url: str) -> tuple[str, bool]:
    """Split `http(s)://host[:port]` into a minio endpoint and its `secure` flag."""
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"public URL {public_url!r} must look like http(s)://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        # minio signs path-style URLs from the host root; a path prefix would break the signature.
        raise ValueError(f"public URL {public_url!r} must not have a path, query or credentials")
    return parts.netloc, parts.scheme == "https"
