"""rebalance against SeaweedFS: exact moves, verification, interruption and re-run, orphans."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from imageuploader.storage import (
    ObjectInfo,
    Placement,
    RebalanceEvent,
    S3Storage,
    StorageUnavailable,
    rebalance,
)
from imageuploader.storage.rebalance import MissingObject

SLUGS = ("original", "h200", "h400")


@dataclass
class World:
    """200 images x 3 keys put by a 4-bucket ring, and a 'database' of their rows."""

    old: S3Storage
    new: S3Storage
    data: dict[str, bytes]  # key -> bytes
    rows: dict[str, str] = field(default_factory=dict)  # image id -> location
    commits: list[tuple[str, str]] = field(default_factory=list)

    def keys(self, image_id: str) -> list[str]:
        return [f"{image_id}/{slug}" for slug in SLUGS]

    def placements(self) -> list[Placement]:
        return [Placement(i, loc, self.keys(i)) for i, loc in self.rows.items()]

    def commit(self, image_id: str, bucket: str) -> list[str]:
        self.commits.append((image_id, bucket))
        self.rows[image_id] = bucket
        return self.keys(image_id)

    def should_move(self) -> set[str]:
        return {i for i in self.rows if self.old.locate(i) != self.new.locate(i)}

    def assert_balanced_and_complete(self) -> None:
        """Every row at its ring bucket, every object there byte for byte, nothing elsewhere."""
        for image_id, location in self.rows.items():
            assert location == self.new.locate(image_id)
            for key in self.keys(image_id):
                assert self.new.get(location, key) == self.data[key], key
        for bucket in self.new.buckets:
            expected = {k for i, loc in self.rows.items() if loc == bucket for k in self.keys(i)}
            assert set(self.new.list_keys(bucket)) == expected, bucket

    def assert_nothing_lost(self) -> None:
        """Every object readable, byte for byte, where its row points right now."""
        for image_id, location in self.rows.items():
            for key in self.keys(image_id):
                assert self.new.get(location, key) == self.data[key], key


def build_world(old: S3Storage, new: S3Storage, images: int) -> World:
    rng = random.Random(7)
    w = World(old=old, new=new, data={})
    for n in range(images):
        image_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"rebalance-{n}"))
        location = old.locate(image_id)
        for key in w.keys(image_id):
            w.data[key] = rng.randbytes(rng.randint(50, 4000))
            old.put(location, key, w.data[key], "image/jpeg")
        w.rows[image_id] = location
    return w


@pytest.fixture
def storages(
    make_s3: Callable[..., S3Storage], bucket_names: list[str]
) -> tuple[S3Storage, S3Storage]:
    """The same buckets seen through a 4-bucket ring (before) and a 5-bucket ring (after)."""
    new = make_s3(bucket_names)
    new.ensure_ready()
    return make_s3(bucket_names[:4]), new


@pytest.fixture
def world(storages: tuple[S3Storage, S3Storage]) -> World:
    return build_world(*storages, images=200)


@pytest.fixture
def small_world(storages: tuple[S3Storage, S3Storage]) -> World:
    # Every object is a request or more; edge cases do not need 600 objects.
    return build_world(*storages, images=40)


def test_moves_exactly_the_ids_whose_bucket_changed(world: World) -> None:
    expected = world.should_move()
    assert 20 <= len(expected) <= 60  # ~1/5 of 200
    events: list[RebalanceEvent] = []

    report = rebalance(world.new, world.placements(), world.commit, progress=events.append)

    assert sorted(i for i, _ in world.commits) == sorted(expected)  # once per moved id
    assert all(bucket == world.new.buckets[4] for _, bucket in world.commits)
    assert (report.examined, report.moved, report.already_in_place) == (
        200,
        len(expected),
        200 - len(expected),
    )
    assert (report.missing, report.errors, report.orphans_deleted) == ([], [], 0)
    assert report.ok
    assert sorted(e.image_id for e in events if e.action == "moved") == sorted(expected)
    world.assert_balanced_and_complete()


def test_balanced_set_moves_nothing(world: World) -> None:
    rebalance(world.new, world.placements(), world.commit)
    world.commits.clear()

    report = rebalance(world.new, world.placements(), world.commit)

    assert world.commits == []
    assert (report.examined, report.moved, report.already_in_place, report.orphans_deleted) == (
        200,
        0,
        200,
        0,
    )
    assert report.ok
    world.assert_balanced_and_complete()


def test_interrupted_at_commit_then_rerun(world: World) -> None:
    calls = 0

    def flaky_commit(image_id: str, bucket: str) -> list[str]:
        nonlocal calls
        calls += 1
        if calls == 11:
            raise RuntimeError("database went away")
        return world.commit(image_id, bucket)

    with pytest.raises(RuntimeError, match="database went away"):
        rebalance(world.new, world.placements(), flaky_commit)
    assert len(world.commits) == 10
    world.assert_nothing_lost()  # the 11th row still points at its complete old copy

    report = rebalance(world.new, world.placements(), world.commit)

    assert report.moved == len(world.should_move()) - 10
    assert report.ok
    world.assert_balanced_and_complete()


def test_interrupted_mid_copy_then_rerun(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    real_copy = world.new.copy
    calls = 0

    def flaky_copy(src: str, key: str, dst: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 26:  # in the middle of the 9th image's three keys
            raise StorageUnavailable("connection reset")
        real_copy(src, key, dst)

    monkeypatch.setattr(world.new, "copy", flaky_copy)
    with pytest.raises(StorageUnavailable):
        rebalance(world.new, world.placements(), world.commit)
    monkeypatch.undo()
    assert len(world.commits) == 8
    world.assert_nothing_lost()

    report = rebalance(world.new, world.placements(), world.commit)

    assert report.ok
    assert len(world.commits) == len(world.should_move())
    world.assert_balanced_and_complete()


def test_interrupted_after_commit_cleans_orphans_on_rerun(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_delete_many = world.new.delete_many
    calls = 0

    def flaky_delete_many(location: str, keys: list[str]) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise StorageUnavailable("crashed before deleting the old copies")
        real_delete_many(location, keys)

    monkeypatch.setattr(world.new, "delete_many", flaky_delete_many)
    with pytest.raises(StorageUnavailable):
        rebalance(world.new, world.placements(), world.commit)
    monkeypatch.undo()
    stranded_id = world.commits[2][0]
    old_bucket = world.old.locate(stranded_id)
    assert sorted(world.new.list_keys(old_bucket, stranded_id)) == sorted(world.keys(stranded_id))
    world.assert_nothing_lost()

    report = rebalance(world.new, world.placements(), world.commit)

    assert report.orphans_deleted == 3
    assert report.ok
    world.assert_balanced_and_complete()


def test_missing_objects_are_reported_not_fatal(small_world: World) -> None:
    movers = sorted(small_world.should_move())
    stayer = next(i for i in small_world.rows if i not in small_world.should_move())
    lost_moving = f"{movers[0]}/h400"
    lost_staying = f"{stayer}/original"
    small_world.new.delete(small_world.rows[movers[0]], lost_moving)
    small_world.new.delete(small_world.rows[stayer], lost_staying)
    source = small_world.rows[movers[0]]

    report = rebalance(small_world.new, small_world.placements(), small_world.commit)

    assert sorted(report.missing, key=lambda m: m.key) == sorted(
        [
            MissingObject(movers[0], source, lost_moving),
            MissingObject(stayer, small_world.rows[stayer], lost_staying),
        ],
        key=lambda m: m.key,
    )
    assert not report.ok and report.errors == []
    assert report.moved == len(movers)  # the damaged image still moved its other keys
    for key in small_world.keys(movers[0]):
        if key != lost_moving:
            assert small_world.new.get(small_world.rows[movers[0]], key) == small_world.data[key]


def test_bad_copy_is_not_committed(small_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    victim = sorted(small_world.should_move())[0]
    real_copy = small_world.new.copy

    def corrupting_copy(src: str, key: str, dst: str) -> None:
        real_copy(src, key, dst)
        if key == f"{victim}/h200":
            small_world.new.put(dst, key, b"corrupted" + small_world.data[key][9:], "image/jpeg")

    monkeypatch.setattr(small_world.new, "copy", corrupting_copy)
    source = small_world.rows[victim]
    report = rebalance(small_world.new, small_world.placements(), small_world.commit)

    assert [i for i, _ in report.errors] == [victim]
    assert "does not match" in report.errors[0][1]
    assert victim not in {i for i, _ in small_world.commits}
    assert small_world.rows[victim] == source
    small_world.assert_nothing_lost()


def test_differing_copy_elsewhere_is_kept(small_world: World) -> None:
    stayer = next(i for i in small_world.rows if i not in small_world.should_move())
    other = next(b for b in small_world.new.buckets if b != small_world.rows[stayer])
    small_world.new.put(other, f"{stayer}/original", b"something else", "image/jpeg")

    report = rebalance(small_world.new, small_world.placements(), small_world.commit)

    assert report.orphans_deleted == 0
    assert small_world.new.get(other, f"{stayer}/original") == b"something else"


def test_object_already_at_target_but_gone_from_source_counts_as_moved(small_world: World) -> None:
    mover = sorted(small_world.should_move())[0]
    source, target = small_world.rows[mover], small_world.new.locate(mover)
    key = f"{mover}/h200"
    small_world.new.copy(source, key, target)  # an earlier run got this far...
    small_world.new.delete(source, key)  # ...and the source copy was lost since

    report = rebalance(small_world.new, small_world.placements(), small_world.commit)

    assert report.ok
    assert small_world.rows[mover] == target
    assert small_world.new.get(target, key) == small_world.data[key]


def test_etag_mismatch_falls_back_to_content_digest(
    small_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Multipart or encrypted objects have ETags that are not the content MD5.
    real_stat = small_world.new.stat
    targets = set(small_world.new.buckets[4:])

    def stat_with_foreign_etag(location: str, key: str) -> ObjectInfo:
        info = real_stat(location, key)
        return ObjectInfo(info.size, info.content_type, "abc-2") if location in targets else info

    monkeypatch.setattr(small_world.new, "stat", stat_with_foreign_etag)
    report = rebalance(small_world.new, small_world.placements(), small_world.commit)

    assert report.ok
    assert report.moved == len(small_world.should_move()) > 0
    monkeypatch.undo()
    small_world.assert_balanced_and_complete()


def test_a_key_written_to_the_source_during_the_move_moves_too(small_world: World) -> None:
    mover = sorted(small_world.should_move())[0]
    source = small_world.rows[mover]
    late = f"{mover}/h800"  # a rendition a worker finished into the bucket it read from

    def commit(image_id: str, bucket: str) -> list[str]:
        owned = small_world.commit(image_id, bucket)
        if image_id != mover:
            return owned
        small_world.new.put(source, late, b"late rendition", "image/jpeg")
        return [*owned, late]

    report = rebalance(small_world.new, small_world.placements(), commit)

    assert report.ok, report
    target = small_world.rows[mover]
    assert target != source
    assert small_world.new.get(target, late) == b"late rendition"
    assert late not in set(small_world.new.list_keys(source))


def test_an_image_deleted_during_the_move_leaves_no_copy(small_world: World) -> None:
    victim = sorted(small_world.should_move())[0]
    source = small_world.rows[victim]

    def commit(image_id: str, bucket: str) -> list[str] | None:
        if image_id == victim:
            del small_world.rows[victim]  # the row is gone: nothing to point elsewhere
            return None
        return small_world.commit(image_id, bucket)

    report = rebalance(small_world.new, small_world.placements(), commit)

    assert report.ok and report.gone == 1, report
    target = small_world.new.locate(victim)
    for bucket in (source, target):
        assert not [k for k in small_world.new.list_keys(bucket) if k.startswith(victim)]
