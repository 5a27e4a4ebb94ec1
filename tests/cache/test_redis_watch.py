"""Generations kept in memory while Redis vouches for them, and never a moment longer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio

from imageuploader import prefetch
from imageuploader.redis_watch import WatchedKeys

PREFIX = "imageuploader:test-watch:"
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


async def live(watch: WatchedKeys) -> None:
    for _ in range(200):
        if watch.watcher().live:
            return
        await asyncio.sleep(0.01)
    pytest.fail("the watch did not connect")


async def settle() -> None:
    """Let the loop read what is already in its sockets (as it does between requests)."""
    for _ in range(3):
        await asyncio.sleep(0)
    await asyncio.sleep(0.01)


async def test_a_watched_value_is_read_once(
    watch: WatchedKeys, counting: Counting, writer: redis.Redis
) -> None:
    writer.set(KEY, 1)
    await live(watch)
    assert await watch.mget(counting, [KEY]) == [b"1"]
    assert await watch.mget(counting, [KEY]) == [b"1"]
    assert counting.calls == 1


async def test_a_change_elsewhere_is_read_again(
    watch: WatchedKeys, counting: Counting, writer: redis.Redis
) -> None:
    writer.set(KEY, 1)
    await live(watch)
    assert await watch.mget(counting, [KEY]) == [b"1"]
    writer.incr(KEY)
    await settle()
    assert await watch.mget(counting, [KEY]) == [b"2"]
    assert counting.calls == 2


async def test_a_change_in_this_process_is_read_again_at_once(
    watch: WatchedKeys, counting: Counting, writer: redis.Redis
) -> None:
    writer.set(KEY, 1)
    await live(watch)
    assert await watch.mget(counting, [KEY]) == [b"1"]
    writer.incr(KEY)
    prefetch.changed()  # what every invalidation in this process calls first
    # No loop turn: the announcement is not read yet, the local change suffices.
    assert await watch.mget(counting, [KEY]) == [b"2"]


async def test_a_read_that_raced_an_announcement_is_not_kept(
    watch: WatchedKeys, counting: Counting, writer: redis.Redis
) -> None:
    writer.set(KEY, 1)
    await live(watch)
    watcher = watch.watcher()
    stamp = watcher.stamp()
    writer.incr(KEY)  # announced while the read below is "in flight"
    await settle()
    watcher.keep(stamp, [KEY], [b"1"])
    assert await watch.mget(counting, [KEY]) == [b"2"]
    assert counting.calls == 1


async def test_without_the_watch_connection_every_read_goes_to_redis(
    watch: WatchedKeys, counting: Counting, writer: redis.Redis
) -> None:
    writer.set(KEY, 1)
    await live(watch)
    assert await watch.mget(counting, [KEY]) == [b"1"]
    writer.client_kill_filter(_id=watch.watcher().client_id)
    await settle()
    assert not watch.watcher().live
    writer.incr(KEY)  # no one announces this one
    assert await watch.mget(counting, [KEY]) == [b"2"]
    assert await watch.mget(counting, [KEY]) == [b"2"]
    assert counting.calls == 3
    # It comes back by itself, and keeps values again.
    await live(watch)
    assert await watch.mget(counting, [KEY]) == [b"2"]
    assert await watch.mget(counting, [KEY]) == [b"2"]
    assert counting.calls == 4
