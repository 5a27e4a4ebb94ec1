"""LocalStorage specifics: atomic writes, path safety, sidecar metadata, health."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from imageuploader.storage import LocalStorage, StorageUnavailable


def files_under(path: Path) -> list[str]:
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())


def test_files_live_at_root_location_key(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("local", "abc/original", b"bytes", "image/jpeg")
    assert (tmp_path / "local" / "abc" / "original").read_bytes() == b"bytes"


def test_failed_fsync_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("local", "img/original", b"version one", "image/jpeg")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        storage.put("local", "img/original", b"version two, half written", "image/jpeg")
    monkeypatch.undo()

    # The old version is intact and no temp file is left beside it.
    assert storage.get("local", "img/original") == b"version one"
    assert files_under(tmp_path / "local") == ["img/original"]


def test_failed_rename_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = LocalStorage(tmp_path)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="simulated crash"):
        storage.put("local", "new/original", b"x" * 100_000, "image/jpeg")
    monkeypatch.undo()

    assert not (tmp_path / "local" / "new" / "original").exists()
    assert files_under(tmp_path / "local") == []
    assert list(storage.list_keys("local")) == []


def test_temp_files_are_not_listed(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("local", "a/original", b"1", "image/jpeg")
    (tmp_path / "local" / "a" / ".tmp-abandoned").write_bytes(b"partial")
    assert list(storage.list_keys("local")) == ["a/original"]


@pytest.mark.parametrize("location", ["..", ".", "", "a/b", ".meta", "../local"])
def test_bad_locations_refused(tmp_path: Path, location: str) -> None:
    storage = LocalStorage(tmp_path / "root")
    with pytest.raises(ValueError):
        storage.put(location, "k/original", b"x", "image/jpeg")
    assert not (tmp_path / "k").exists()


def test_symlink_escape_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    storage = LocalStorage(tmp_path / "root")
    storage.ensure_ready()
    (tmp_path / "root" / "local" / "evil").symlink_to(outside, target_is_directory=True)

    with pytest.raises(ValueError, match="outside"):
        storage.put("local", "evil/original", b"x", "image/jpeg")
    with pytest.raises(ValueError, match="outside"):
        storage.get("local", "evil/original")
    assert list(outside.iterdir()) == []


def test_stat_without_sidecar_derives_values(tmp_path: Path) -> None:
    # A file whose metadata write never happened (crash) still stats correctly.
    storage = LocalStorage(tmp_path)
    storage.put("local", "s/original", b"old", "image/png")
    (tmp_path / "local" / "s" / "original").write_bytes(b"newer content")

    info = storage.stat("local", "s/original")
    assert info.size == 13
    assert info.etag == hashlib.md5(b"newer content", usedforsecurity=False).hexdigest()
    assert info.content_type == "application/octet-stream"  # stale sidecar ignored


def test_delete_prunes_empty_directories(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("local", "img/original", b"1", "image/jpeg")
    storage.put("local", "img/h200", b"2", "image/jpeg")
    storage.delete_many("local", ["img/original", "img/h200"])
    assert not (tmp_path / "local" / "img").exists()
    assert (tmp_path / "local").is_dir()  # the location itself stays
    assert files_under(tmp_path) == []  # sidecars gone too


def test_presign_returns_none(tmp_path: Path) -> None:
    from datetime import timedelta

    storage = LocalStorage(tmp_path)
    storage.put("local", "p/original", b"1", "image/jpeg")
    assert storage.presign_get("local", "p/original", timedelta(seconds=300)) is None


def test_check_reports_missing_directory(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "not-yet")
    with pytest.raises(StorageUnavailable, match="does not exist"):
        storage.check()
    storage.ensure_ready()
    storage.check()


def test_ensure_ready_fails_clearly_when_root_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    storage = LocalStorage(tmp_path / "file")
    with pytest.raises(StorageUnavailable, match="cannot create"):
        storage.ensure_ready()


def test_objects_are_world_readable(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("local", "m/original", b"1", "image/jpeg")
    assert (tmp_path / "local" / "m" / "original").stat().st_mode & 0o777 == 0o644
