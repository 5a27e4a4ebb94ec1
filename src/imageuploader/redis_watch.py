"""The values of a few Redis keys, kept in this process while Redis says they are unchanged.

The generation counters (the accounts', each owner's images') are read on every
request and change rarely. Redis's server-assisted client-side caching in
broadcast mode (`CLIENT TRACKING ON REDIRECT <self> BCAST PREFIX ...`) announces
every change to a key under the watched prefixes on a connection of our own;
while that connection is up, a value read since the last announcement is still
the value in Redis, and a request needs no round trip for it.

What keeps it exact:
- Redis queues the announcement in the same pass of its event loop as its reply
  to the command that made the change, before either is written: when the
  writer has its answer, the announcement is already in (on one host) or on its
  way to every process's socket, ahead of any request the writer's client sends next.
- Any announcement drops every kept value: they are a handful, and changes are
  rare next to reads.
- A value is kept only if nothing was announced, nothing was changed in this
  process (`prefetch.changed`) and the connection did not drop between sending
  the read and storing its answer: a read that raced a change is used once.
- While the connection is down, and until it is first up, every read goes to
  Redis, as without the watch. A PING every few seconds finds a dead connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import Connection, ConnectionPool
from redis.exceptions import RedisError

from imageuploader import prefetch

log = logging.getLogger(__name__)

CHANNEL = "__redis__:invalidate"
HEARTBEAT_SECONDS = 5.0
RETRY_SECONDS = 1.0
MAX_KEPT = 10_000

Stamp = tuple[int, int] | None


class _Watcher:
    """One event loop's watch connection and the values kept under it."""

    def __init__(self, url: str, prefixes: Sequence[str]) -> None:
        self.url = url
        self.prefixes = tuple(prefixes)
        self.live = False
        self.epoch = 0
        self.client_id: int | None = None
        self._kept: dict[str, Any] = {}
        self._kept_at: Stamp = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="redis-watch")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def stamp(self) -> Stamp:
        """What must not change between a read and keeping its answer (None: keep nothing)."""
        return (self.epoch, prefetch.change_count()) if self.live else None

    def kept(self, keys: Sequence[str]) -> list[Any] | None:
        if self._kept_at is None or self._kept_at != self.stamp():
            return None
        try:
            return [self._kept[key] for key in keys]
        except KeyError:
            return None

    def kept_one(self, key: str) -> tuple[bool, Any]:
        if self._kept_at is None or self._kept_at != self.stamp() or key not in self._kept:
            return False, None
        return True, self._kept[key]

    def keep(self, stamp: Stamp, keys: Sequence[str], values: Sequence[Any]) -> None:
        if stamp is None or stamp != self.stamp():
            return
        if self._kept_at != stamp or len(self._kept) >= MAX_KEPT:
            self._kept = {}
            self._kept_at = stamp
        self._kept.update(zip(keys, values, strict=True))

    def _forget(self) -> None:
        self.epoch += 1
        self._kept = {}
        self._kept_at = None

    async def _run(self) -> None:
        failing = False
        while True:
            connection = ConnectionPool.from_url(self.url, protocol=2).make_connection()
            try:
                await self._subscribe(connection)
                if failing:
                    log.warning("watching cache generations in Redis again")
                failing = False
                async with asyncio.TaskGroup() as group:
                    group.create_task(self._ping(connection))
                    await self._listen(connection)
            except (RedisError, OSError, ExceptionGroup) as exc:
                if not failing:
                    log.warning("not watching cache generations (reading Redis instead): %s", exc)
                failing = True
            finally:
                self.live = False
                self.client_id = None
                self._forget()
                with contextlib.suppress(RedisError, OSError):
                    await connection.disconnect()
            await asyncio.sleep(RETRY_SECONDS)

    async def _subscribe(self, connection: Connection) -> None:
        await connection.connect()
        await connection.send_command("CLIENT", "ID")
        client_id = int(await connection.read_response())
        prefixes = [part for prefix in self.prefixes for part in ("PREFIX", prefix)]
        await connection.send_command(
            "CLIENT", "TRACKING", "ON", "REDIRECT", client_id, "BCAST", *prefixes
        )
        answer = await connection.read_response()
        if isinstance(answer, Exception):
            raise answer
        await connection.send_command("SUBSCRIBE", CHANNEL)
        await connection.read_response()
        self._forget()
        self.client_id = client_id
        self.live = True

    async def _listen(self, connection: Connection) -> None:
        # Pongs come every HEARTBEAT_SECONDS: silence for twice that is a dead connection.
        while True:
            message = await connection.read_response(timeout=2 * HEARTBEAT_SECONDS)
            if isinstance(message, list) and message and message[0] == b"message":
                self._forget()

    async def _ping(self, connection: Connection) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await connection.send_command("PING")


class WatchedKeys:
    """MGET through a per-loop watch: answered from memory while Redis vouches for it."""

    def __init__(self, url: str, prefixes: Sequence[str]) -> None:
        self.url = url
        self.prefixes = tuple(prefixes)
        self._watchers: dict[asyncio.AbstractEventLoop, _Watcher] = {}

    def watcher(self) -> _Watcher:
        loop = asyncio.get_running_loop()
        found = self._watchers.get(loop)
        if found is None:
            found = self._watchers[loop] = _Watcher(self.url, self.prefixes)
            found.start()
        return found

    def recall(self, key: str) -> tuple[bool, Any]:
        """(True, value) if this loop's watch vouches for `key`'s value: no round trip,
        and no client needed. (False, None) otherwise."""
        return self.watcher().kept_one(key)

    async def mget(self, client: aioredis.Redis, keys: Sequence[str]) -> list[Any]:
        watcher = self.watcher()
        kept = watcher.kept(keys)
        if kept is not None:
            return kept
        stamp = watcher.stamp()
        values: list[Any] = await client.mget(list(keys))
        watcher.keep(stamp, keys, values)
        return values

    async def close(self) -> None:
        """Stop this loop's watch (the lifespan's); other loops' end with their loop."""
        found = self._watchers.pop(asyncio.get_running_loop(), None)
        if found is not None:
            await found.stop()
