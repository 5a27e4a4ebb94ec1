"""Rebalance: move each image's objects to its ring bucket (copy, verify, commit, delete)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from .base import ObjectNotFound, StorageError, StorageUnavailable
from .s3 import S3Storage

Action = Literal["moved", "in_place", "missing", "orphans_deleted", "error", "gone"]
# commit(image_id, bucket): point the row at the bucket; return the keys the image owns
# now (a worker may have added one during the move), or None if it was deleted meanwhile.
Commit = Callable[[str, str], "list[str] | None"]


@dataclass
class Placement:
    """Where the database says an image lives, and every key it owns there."""

    image_id: str
    location: str
    keys: list[str]


@dataclass(frozen=True)
class MissingObject:
    """An object the database expects but no bucket holds: data loss to surface."""

    image_id: str
    location: str
    key: str


@dataclass(frozen=True)
class RebalanceEvent:
    """One step of a run, for progress output."""

    image_id: str
    action: Action
    source: str
    target: str
    detail: str = ""


@dataclass
class RebalanceReport:
    """What a run did; `ok` is False when anything needs a human."""

    examined: int = 0
    moved: int = 0
    already_in_place: int = 0
    orphans_deleted: int = 0
    gone: int = 0  # deleted while they moved; their copies removed
    missing: list[MissingObject] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.missing and not self.errors


def rebalance(
    storage: S3Storage,
    placements: Iterable[Placement],
    commit: Commit,
    *,
    progress: Callable[[RebalanceEvent], None] | None = None,
) -> RebalanceReport:
    """Move every image whose ring bucket differs from its recorded location.

    Per image: copy each key to the ring bucket (overwriting), verify size and
    etag (or content digest), call `commit(image_id, bucket)` so the caller
    updates its row, then delete the old objects. If the image was deleted
    meanwhile, every copy is removed; a key that appeared during the move (a
    rendition a worker wrote to the old bucket) is moved after the commit.
    Copies left in other buckets by an earlier interrupted run are deleted once
    the current copy verifies.
    Interrupting at any point loses nothing; running again finishes the job.
    `commit` errors and StorageUnavailable abort the run; other storage errors
    are recorded per image and the run goes on. Not safe to run twice at once.
    """
    run = _Run(storage, commit, progress)
    for placement in placements:
        run.handle(placement)
    return run.report


class _Run:
    def __init__(
        self,
        storage: S3Storage,
        commit: Commit,
        progress: Callable[[RebalanceEvent], None] | None,
    ) -> None:
        self.storage = storage
        self.commit = commit
        self.progress = progress
        self.report = RebalanceReport()
        # One listing per bucket instead of a HEAD per key per bucket per image.
        self._inventory: dict[str, set[str]] = {}

    def _emit(
        self, image_id: str, action: Action, source: str, target: str, detail: str = ""
    ) -> None:
        if self.progress is not None:
            self.progress(RebalanceEvent(image_id, action, source, target, detail))

    def _keys_in(self, bucket: str) -> set[str]:
        if bucket not in self._inventory:
            self._inventory[bucket] = set(self.storage.list_keys(bucket))
        return self._inventory[bucket]

    def _exists(self, bucket: str, key: str) -> bool:
        if key in self._keys_in(bucket):
            return True
        # The listing is a snapshot: confirm absence before calling it lost.
        try:
            self.storage.stat(bucket, key)
        except ObjectNotFound:
            return False
        self._keys_in(bucket).add(key)
        return True

    def handle(self, placement: Placement) -> None:
        self.report.examined += 1
        target = self.storage.locate(placement.image_id)
        try:
            keys = list(dict.fromkeys(placement.keys))
            if placement.location == target:
                self._in_place(placement, keys)
            else:
                self._move(placement, keys, target)
        except StorageUnavailable:
            raise  # every later image would fail the same way
        except (StorageError, ValueError) as exc:
            self.report.errors.append((placement.image_id, str(exc)))
            self._emit(placement.image_id, "error", placement.location, target, str(exc))

    def _missing(self, image_id: str, location: str, key: str) -> None:
        self.report.missing.append(MissingObject(image_id, location, key))
        self._emit(image_id, "missing", location, location, key)

    def _in_place(self, placement: Placement, keys: list[str]) -> None:
        self.report.already_in_place += 1
        self._emit(placement.image_id, "in_place", placement.location, placement.location)
        present = []
        for key in keys:
            if self._exists(placement.location, key):
                present.append(key)
            else:
                self._missing(placement.image_id, placement.location, key)
        self._clean_others(placement.image_id, present, placement.location, skip=set())

    def _move(self, placement: Placement, keys: list[str], target: str) -> None:
        source, image_id = placement.location, placement.image_id
        at_source: list[str] = []
        at_target_only: list[str] = []
        for key in keys:
            try:
                self.storage.copy(source, key, target)
                at_source.append(key)
            except ObjectNotFound:
                # Gone from the source; an earlier run may still have copied it.
                if self._exists(target, key):
                    at_target_only.append(key)
                else:
                    self._missing(image_id, source, key)
        if not at_source and not at_target_only:
            return  # nothing to move; every key is already reported missing
        for key in at_source:
            if not self._same(source, target, key):
                raise StorageError(
                    f"copy of {key!r} to {target!r} does not match {source!r}; not moved"
                )
        if target in self._inventory:
            self._inventory[target].update(at_source)
        # The row moves only once every object is verified at the target: an
        # interruption before this line leaves it on the complete old copy.
        owned = self.commit(image_id, target)
        if owned is None:
            # Deleted while it moved: its delete removes what it saw, maybe only the
            # source; nothing of it may stay anywhere.
            for bucket in (target, source):
                self.storage.delete_many(bucket, keys)
                if bucket in self._inventory:
                    self._inventory[bucket].difference_update(keys)
            self.report.gone += 1
            self._emit(image_id, "gone", source, target)
            return
        self.report.moved += 1
        self._emit(image_id, "moved", source, target)
        late = [k for k in owned if k not in keys]
        moved_late = self._move_late(image_id, late, source, target)
        self.storage.delete_many(source, at_source + moved_late)
        if source in self._inventory:
            self._inventory[source].difference_update(at_source + moved_late)
        self._clean_others(image_id, at_source + at_target_only + moved_late, target, skip={source})

    def _move_late(self, image_id: str, late: list[str], source: str, target: str) -> list[str]:
        """Keys that appeared at the source after the listing (a worker finishing a
        rendition into the bucket it read from): copy and verify them too."""
        moved = []
        for key in late:
            try:
                self.storage.copy(source, key, target)
            except ObjectNotFound:
                # The worker saw the move and wrote it to the target itself.
                if not self._exists(target, key):
                    self._missing(image_id, source, key)
                continue
            if not self._same(source, target, key):
                raise StorageError(f"copy of {key!r} to {target!r} does not match {source!r}")
            moved.append(key)
        return moved

    def _clean_others(self, image_id: str, keys: list[str], current: str, skip: set[str]) -> None:
        """Delete copies of `keys` outside `current`, once the current copy verifies."""
        for bucket in self.storage.buckets:
            if bucket == current or bucket in skip:
                continue
            inventory = self._keys_in(bucket)
            stale = []
            for key in keys:
                if key not in inventory:
                    continue
                try:
                    self.storage.stat(bucket, key)
                except ObjectNotFound:
                    inventory.discard(key)  # deleted since the listing
                    continue
                # If the current copy vanished, _same raises ObjectNotFound and
                # the whole image is reported as an error: the orphan is kept.
                if self._same(current, bucket, key):
                    stale.append(key)
            if stale:
                self.storage.delete_many(bucket, stale)
                inventory.difference_update(stale)
                self.report.orphans_deleted += len(stale)
                self._emit(image_id, "orphans_deleted", bucket, current, ", ".join(stale))

    def _same(self, current: str, other: str, key: str) -> bool:
        """True if `key` has the same content in both locations."""
        a = self.storage.stat(current, key)
        b = self.storage.stat(other, key)
        if a.size != b.size:
            return False
        if a.etag and a.etag == b.etag:
            return True
        # Multipart uploads and encrypted buckets have ETags that are not the
        # content MD5; compare the bytes themselves before trusting a copy.
        return self._digest(current, key) == self._digest(other, key)

    def _digest(self, location: str, key: str) -> str:
        stream, _ = self.storage.open(location, key)
        digest = hashlib.sha256()
        with stream:
            for chunk in stream:
                digest.update(chunk)
        return digest.hexdigest()
