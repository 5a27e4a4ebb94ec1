"""Generations kept in memory while Redis vouches for them, and never a moment longer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio

from imageuploader import prefetch
from imageuploader.redis_watch import WatchedKeys

# Per process: Redis tracks keys by name across its databases, so another xdist
# process writing the same key in its own database would invalidate this one's watch.
PREFIX = f"imageuploader:test-watch:{uuid.uuid4().hex[:12]}:"
KEY = f"{PREFIX}a"


class Counting:
    """An asyncio client that records the MGETs that reach Redis."""

    def __init__(self, url: str) -> None:
        self.client = redis.asyncio.Redis.from_url(url)
        self.calls = 0

    async def mget(self, keys: list[str]) -> Any:
        self.calls += 1
        return await self.client.mget(keys)


@pytest.fixture
def writer(redis_url: str) -> Iterator[redis.Redis]:
    """Another client, as another process would be."""
    client = redis.Redis.from_url(redis_url)
    client.delete(KEY)
    yield client
    client.delete(KEY)
    client.close()


@pytest.fixture
async def counting(redis_url: str) -> AsyncIterator[Counting]:
    found = Counting(redis_url)
    yield found
    await found.client.aclose()


@pytest.fixture
async def watch(redis_url: str) -> AsyncIterator[WatchedKeys]:
    found = WatchedKeys(redis_url, [PREFIX])
    yield found
    await found.close()


WAIT_SECONDS = 10.0


async def live(watch: WatchedKeys) -> None:
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while not watch.watcher().live:
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail("the watch did not connect")
        await asyncio.sleep(0.01)


async def announced(watch: WatchedKeys, epoch: int) -> None:
    """Let the loop read the announcement (as it does between requests)."""
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while watch.watcher().epoch == epoch:
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail("no announcement came")
        await asyncio.sleep(0.005)


async def first_read(watch: WatchedKeys, counting: Counting, writer: redis.Redis) -> None:
    """KEY is 1, the watch is up, and KEY has been read once through it."""
    writer.set(KEY, 1)
    await live(watch)
    assert await watch.mget(counting, [KEY]) == [b"1"]


async def test_a_watched_value_is_read_once(
    watch: WatchedKeys, counting: Counting, writer: redis.Redis
) -> None:
    await first_read(watch, counting, writer)
    assert await watch.mget(counting, [KEY]) == [b"1"]
    assert counting.calls == 1


async def test_a_change_elsewhere_is_read_again(
    watch: WatchedKeys, counting: Counting, writer: redis.Redis
) -> None:
    await first_read(watch, counting, writer)
    epoch = watch.watcher().epoch
    writer.incr(KEY)
    await announced(watch, epoch)
    assert await watch.mget(counting, [KEY]) == [b"2"]
    assert counting.calls == 2


async def test_a_change_in_this_process_is_read_again_at_once(
    watch: WatchedKeys, counting: Counting, writer: redis.Redis
) -> None:
    await first_read(watch, counting, writer)
    writer.incr(KEY)
    prefetch.changed()  # what every invalidation in this process calls first
    # No loop turn: the announcement is not read yet, the local change suffices.
    assert await watch.mget(counting, [KEY]) == [b"2"]


async def test_recall_answers_only_what_the_watch_vouches_for(
    watch: WatchedKeys, counting: Counting, writer: redis.Redis
) -> None:
    assert watch.recall(KEY) == (False, None)  # never read
    await first_read(watch, counting, writer)
    assert watch.recall(KEY) == (True, b"1")
    assert watch.recall(f"{PREFIX}never-read") == (False, None)
    epoch = watch.watcher().epoch
    writer.incr(KEY)
    await announced(watch, epoch)
    assert watch.recall(KEY) == (False, None)
    assert await watch.mget(counting, [KEY]) == [b"2"]
    assert watch.recall(KEY) == (True, b"2")
    prefetch.changed()
    assert watch.recall(KEY) == (False, None)


async def test_a_read_that_raced_an_announcement_is_not_kept(
    watch: WatchedKeys, counting: Counting, writer: redis.Redis
) -> None:
    writer.set(KEY, 1)
    await live(watch)
    watcher = watch.watcher()
    stamp = watcher.stamp()
    writer.incr(KEY)  # announced while the read below is "in flight"
    await announced(watch, watcher.epoch)
    watcher.keep(stamp, [KEY], [b"1"])
    assert await watch.mget(counting, [KEY]) == [b"2"]
    assert counting.calls == 1


async def test_without_the_watch_connection_every_read_goes_to_redis(
    watch: WatchedKeys, counting: Counting, writer: redis.Redis
) -> None:
    await first_read(watch, counting, writer)
    writer.client_kill_filter(_id=watch.watcher().client_id)
    deadline = asyncio.get_running_loop().time() + WAIT_SECONDS
    while watch.watcher().live:
        assert asyncio.get_running_loop().time() < deadline, "the watch did not notice"
        await asyncio.sleep(0.005)
    writer.incr(KEY)  # no one announces this one
    assert await watch.mget(counting, [KEY]) == [b"2"]
    assert await watch.mget(counting, [KEY]) == [b"2"]
    assert counting.calls == 3
    # It comes back by itself, and keeps values again.
    await live(watch)
    assert await watch.mget(counting, [KEY]) == [b"2"]
    assert await watch.mget(counting, [KEY]) == [b"2"]
    assert counting.calls == 4
