"""LocalStorage: objects as files under one directory, written atomically."""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from .base import (
    ObjectInfo,
    ObjectNotFound,
    ObjectStream,
    StorageUnavailable,
    validate_key,
    validate_location,
)

LOCAL_LOCATION = "local"
# Sidecar metadata (content type, etag) lives in a parallel tree; locations
# cannot start with a dot, so it never collides with one.
_META_DIR = ".meta"
_TMP_PREFIX = ".tmp-"


class LocalStorage:
    """Files at `root/<location>/<key>`; a crash mid-write never leaves a partial file."""

    def __init__(self, root: Path, location: str = LOCAL_LOCATION) -> None:
        self.root = Path(root).resolve()
        self.location = validate_location(location)

    def __repr__(self) -> str:
        return f"LocalStorage(root={str(self.root)!r})"

    # -- paths -----------------------------------------------------------------

    def _path(self, location: str, key: str) -> Path:
        base = self.root / validate_location(location)
        path = base / validate_key(key)
        # Validation already forbids "..", but a symlink planted inside the
        # tree could still point outside: resolve and re-check.
        if not path.resolve().is_relative_to(base.resolve()):
            raise ValueError(f"object key {key!r} resolves outside the storage root")
        return path

    def _meta_path(self, location: str, key: str) -> Path:
        return self.root / _META_DIR / location / f"{key}.json"

    # -- writing ---------------------------------------------------------------

    def _write_atomic(self, path: Path, write: Callable[[BinaryIO], None]) -> None:
        for attempt in range(3):
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=_TMP_PREFIX)
                break
            except FileNotFoundError:
                # A concurrent delete pruned the directory between mkdir and
                # mkstemp; make it again.
                if attempt == 2:
                    raise
        try:
            with os.fdopen(fd, "wb") as tmp:
                write(tmp)
                tmp.flush()
                os.fsync(tmp.fileno())
            # mkstemp creates 0600; objects should be readable like any upload.
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        _fsync_dir(path.parent)

    def _write_meta(self, location: str, key: str, content_type: str, etag: str) -> None:
        st = self._path(location, key).stat()
        # Size and mtime pin the metadata to this exact file version; a data
        # file replaced without its sidecar (crash in between) is detected.
        meta = {
            "content_type": content_type,
            "etag": etag,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
        }
        body = json.dumps(meta).encode()
        self._write_atomic(self._meta_path(location, key), lambda f: f.write(body))

    def put(self, location: str, key: str, data: bytes, content_type: str) -> None:
        """Write atomically: temp file in the same directory, fsync, rename."""
        path = self._path(location, key)
        self._write_atomic(path, lambda f: f.write(data))
        self._write_meta(
            location,
            key,
            content_type,
            hashlib.md5(data, usedforsecurity=False).hexdigest(),
        )

    # -- reading ---------------------------------------------------------------

    def get(self, location: str, key: str) -> bytes:
        path = self._path(location, key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(location, key) from None

    def open(
        self, location: str, key: str, *, offset: int = 0, length: int | None = None
    ) -> tuple[ObjectStream, int]:
        path = self._path(location, key)
        try:
            # Opened now, not on first iteration, so a missing file is
            # reported before the web layer has started its response.
            f = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(location, key) from None
        size = os.fstat(f.fileno()).st_size
        if offset == 0 and length is None:
            return ObjectStream(f.read, f.close), size
        f.seek(offset)
        left = max(0, size - offset) if length is None else max(0, min(length, size - offset))
        total = left

        def read(n: int) -> bytes:
            nonlocal left
            chunk = f.read(left if n < 0 else min(n, left)) if left > 0 else b""
            left -= len(chunk)
            return chunk

        return ObjectStream(read, f.close), total

    def stat(self, location: str, key: str) -> ObjectInfo:
        path = self._path(location, key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectNotFound(location, key) from None
        if not path.is_file():
            raise ObjectNotFound(location, key)
        try:
            meta = json.loads(self._meta_path(location, key).read_bytes())
            if meta["size"] == st.st_size and meta["mtime_ns"] == st.st_mtime_ns:
                return ObjectInfo(
                    size=st.st_size,
                    content_type=meta["content_type"],
                    etag=meta["etag"],
                )
        except (OSError, ValueError, KeyError, TypeError):
            pass  # missing or stale sidecar: fall back to deriving the values
        return ObjectInfo(
            size=st.st_size,
            content_type=mimetypes.guess_type(key)[0] or "application/octet-stream",
            etag=_md5_file(path),
        )

    def list_keys(self, location: str, prefix: str = "") -> Iterator[str]:
        base = self.root / validate_location(location)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel = Path(dirpath).relative_to(base)
            for name in sorted(filenames):
                if name.startswith("."):
                    continue  # temp files of writes in progress
                key = (rel / name).as_posix()
                if key.startswith(prefix):
                    yield key

    # -- deleting / copying ------------------------------------------------------

    def delete(self, location: str, key: str) -> None:
        path = self._path(location, key)
        if path.is_dir():
            return  # a "directory" key is not an object
        path.unlink(missing_ok=True)
        meta = self._meta_path(location, key)
        meta.unlink(missing_ok=True)
        _prune_empty_dirs(path.parent, self.root / location)
        _prune_empty_dirs(meta.parent, self.root / _META_DIR / location)

    def delete_many(self, location: str, keys: Iterable[str]) -> None:
        keys = [validate_key(k) for k in keys]  # refuse the whole batch before deleting any
        for key in keys:
            self.delete(location, key)

    def copy(self, src_location: str, key: str, dst_location: str) -> None:
        src = self._path(src_location, key)
        dst = self._path(dst_location, key)
        info = self.stat(src_location, key)
        if src == dst:
            return
        try:
            with src.open("rb") as f:
                self._write_atomic(dst, lambda out: shutil.copyfileobj(f, out, 1024 * 1024))
        except FileNotFoundError:
            raise ObjectNotFound(src_location, key) from None
        self._write_meta(dst_location, key, info.content_type, info.etag)

    # -- service ---------------------------------------------------------------

    def locate(self, image_id: str) -> str:
        return self.location

    def presign_get(
        self,
        location: str,
        key: str,
        expires: timedelta,
        *,
        response_content_type: str | None = None,
        response_content_disposition: str | None = None,
        signed_at: datetime | None = None,
    ) -> str | None:
        """Local files have no public URL; the app signs its own links."""
        return None

    def ensure_ready(self) -> None:
        try:
            (self.root / self.location).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"cannot create storage directory {self.root}: {exc}") from exc

    def check(self) -> None:
        base = self.root / self.location
        if not base.is_dir():
            raise StorageUnavailable(f"storage directory {base} does not exist")
        if not os.access(base, os.W_OK | os.X_OK):
            raise StorageUnavailable(f"storage directory {base} is not writable")


def _md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    # The rename is only durable once the directory entry is on disk.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on directories; the data is synced
    finally:
        os.close(fd)


def _prune_empty_dirs(directory: Path, stop: Path) -> None:
    # Keys look like "<image id>/<slug>": without pruning, every deleted image
    # would leave an empty directory behind.
    while directory != stop and directory.is_relative_to(stop):
        try:
            directory.rmdir()
        except OSError:
            return  # not empty (or raced with a writer): keep it
        directory = directory.parent
