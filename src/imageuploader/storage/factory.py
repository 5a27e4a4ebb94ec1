"""storage_from_url: build the configured Storage from STORAGE_URL and S3_BUCKETS."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from .base import Storage
from .local import LocalStorage
from .s3 import S3Storage, parse_public_url

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def storage_from_url(
    storage_url: str, *, buckets: Sequence[str], public_url: str | None
) -> Storage:
    """`file://...` gives LocalStorage; `s3://`, `http://`, `https://` give S3Storage.

    Raises ValueError naming the environment variable at fault; messages never
    echo the URL itself because it carries the S3 secret.
    """
    try:
        parts = urlsplit(storage_url.strip())
    except ValueError as exc:
        raise ValueError(f"STORAGE_URL is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme == "file":
        return LocalStorage(_local_root(parts.netloc, parts.path))
    if scheme in ("s3", "http", "https"):
        return _s3_from_parts(parts, scheme, buckets, public_url)
    raise ValueError("STORAGE_URL must start with file://, s3://, http:// or https://")


def _local_root(netloc: str, path: str) -> Path:
    # file:///abs/path has an empty host; file://./data/media puts "." in the
    # host slot, which we read as a path relative to the working directory.
    if netloc in ("", "localhost"):
        root = unquote(path)
    elif netloc in (".", ".."):
        root = netloc + unquote(path)
    else:
        raise ValueError(
            "STORAGE_URL file:// URLs take a path "
            "(file:///abs/path or file://./relative), not a host"
        )
    if not root:
        raise ValueError("STORAGE_URL file:// URL has no path")
    return Path(root)


def _flag(value: str, name: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f"STORAGE_URL parameter {name} must be true or false, got {value!r}")


def _s3_from_parts(
    parts: SplitResult, scheme: str, buckets: Sequence[str], public_url: str | None
) -> S3Storage:
    try:
        port = parts.port
    except ValueError:
        raise ValueError("STORAGE_URL has an invalid port") from None
    if not parts.hostname:
        raise ValueError("STORAGE_URL has no S3 host")
    if not parts.username or parts.password is None:
        raise ValueError("STORAGE_URL must carry S3 credentials as ACCESS_KEY:SECRET_KEY@host")
    if parts.path not in ("", "/"):
        raise ValueError(
            "STORAGE_URL must not name a bucket in its path; list buckets in S3_BUCKETS"
        )

    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = sorted(set(query) - {"secure", "region"})
    if unknown:
        raise ValueError(f"STORAGE_URL has unknown parameters: {', '.join(unknown)}")
    secure = scheme != "http"  # s3:// defaults to TLS
    if "secure" in query:
        wanted = _flag(query["secure"], "secure")
        if scheme != "s3" and wanted != secure:
            raise ValueError(f"STORAGE_URL scheme {scheme}:// contradicts secure={query['secure']}")
        secure = wanted
    region = query.get("region") or "us-east-1"

    names = [b.strip() for b in buckets if b and b.strip()]
    if not names:
        raise ValueError("S3_BUCKETS must list at least one bucket when STORAGE_URL points at S3")
    if public_url:
        try:
            parse_public_url(public_url)
        except ValueError as exc:
            raise ValueError(f"S3_PUBLIC_URL: {exc}") from None

    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    endpoint = f"{host}:{port}" if port else host
    try:
        return S3Storage(
            endpoint,
            unquote(parts.username),
            unquote(parts.password),
            names,
            secure=secure,
            region=region,
            public_url=public_url or None,
        )
    except ValueError as exc:
        # Bucket names are the only constructor input left unchecked here.
        raise ValueError(f"S3_BUCKETS: {exc}") from None
