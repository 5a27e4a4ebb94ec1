"""Read cache for image views (list pages, details), invalidated per owner by a generation.

Every key carries the owner's generation counter, read before the database is
queried; any change to an owner's images bumps the counter, so entries made
before the change are never read again (they expire on their own). Workers are
separate processes, so with Redis the counter lives in Redis; with the in-process
cache it lives in files under DATA_DIR, which the command line bumps too. The viewer's plan
decides what a view contains: its fingerprint is part of the key, so a plan edit
or a change of a user's plan is a different key without any extra bookkeeping.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import mmap
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol, TypeVar

import anyio
import msgspec
import redis

from imageuploader import prefetch
from imageuploader.accounts.schemas import PlanOut
from imageuploader.lru import BytesLRU
from imageuploader.redis_clients import PerLoopRedis
from imageuploader.redis_watch import WatchedKeys

log = logging.getLogger(__name__)

T = TypeVar("T")
TTL_SECONDS = 600
# The Redis backend's copies in this process (see RedisBackend._near).
NEAR_BYTES = 32 * 1024 * 1024
NEAR_VALUE_BYTES = 1024 * 1024
NEAR_TTL_SECONDS = 60.0
PREFIX = "imageuploader:cache"


class Backend(Protocol):
    """Key-value operations; ImageCache runs the writes in a worker thread if they block,
    and reads through `lookup_now` on the event loop."""

    blocking: bool

    def generation(self, owner_id: int) -> int: ...
    def get(self, key: str) -> bytes | None: ...
    def set(self, key: str, value: bytes, ttl: int) -> None: ...
    def bump(self, owner_id: int) -> None: ...
    def ping(self) -> None: ...
    async def lookup_now(self, owner_id: int, name: str) -> tuple[str, bytes | None]: ...
    def remember(self, key: str, value: bytes) -> None: ...
    async def close(self) -> None: ...


GENERATION_PREFIX = f"{PREFIX}:gen:"


def generation_key(owner_id: int) -> str:
    """Where Redis keeps the owner's generation."""
    return f"{GENERATION_PREFIX}{owner_id}"


def view_key(owner_id: int, generation: int | str, name: str) -> str:
    return f"{PREFIX}:v:{owner_id}:{generation}:{name}"


SEQUENCE_FILE = ".sequence"
SEQUENCE_BYTES = 8
MAX_KNOWN_GENERATIONS = 100_000


class SharedGenerations:
    """Owners' generation counters as files in one directory (under DATA_DIR), so that
    another process on the machine (`imageuploader reprocess`, a sibling `serve`
    worker) can invalidate the views an embedded server caches in its memory. Each
    change is a locked read-increment-write.

    Reading a file per request costs four system calls, so every bump also moves one
    sequence number on, in a file each process maps into memory: while it stands
    still, the values this process last read are current, and a read is a memory load.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._prefix = f"{directory}{os.sep}"  # read on every request: no Path arithmetic
        self._sequence: mmap.mmap | None = None
        self._seen = -1
        self._known: dict[int, int] = {}

    def _open(self, owner_id: int | str, flags: int) -> int:
        return os.open(f"{self._prefix}{owner_id}", flags, 0o600)

    def _mapped(self) -> mmap.mmap:
        if self._sequence is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = self._open(SEQUENCE_FILE, os.O_RDWR | os.O_CREAT)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                if os.fstat(fd).st_size < SEQUENCE_BYTES:
                    os.ftruncate(fd, SEQUENCE_BYTES)
                fcntl.flock(fd, fcntl.LOCK_UN)
                self._sequence = mmap.mmap(fd, SEQUENCE_BYTES)
            finally:
                os.close(fd)  # the mapping stays
        return self._sequence

    def get(self, owner_id: int) -> int:
        owner_id = int(owner_id)
        # The sequence first: a bump writes the owner's file before moving it on.
        sequence = self._mapped()[:SEQUENCE_BYTES]
        seen = int.from_bytes(sequence, "little")
        if seen != self._seen:
            self._known.clear()
            self._seen = seen
        value = self._known.get(owner_id)
        if value is None:
            value = self._read(owner_id)
            if len(self._known) >= MAX_KNOWN_GENERATIONS:
                self._known.clear()
            self._known[owner_id] = value
        return value

    def _read(self, owner_id: int) -> int:
        try:
            fd = self._open(owner_id, os.O_RDONLY)
        except FileNotFoundError:
            return 0
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            return int(os.read(fd, 32) or b"0")
        finally:
            os.close(fd)

    def bump(self, owner_id: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = self._open(int(owner_id), os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            value = int(os.read(fd, 32) or b"0") + 1
            os.pwrite(fd, str(value).encode(), 0)
        finally:
            os.close(fd)
        self._advance()

    def _advance(self) -> None:
        mapped = self._mapped()
        fd = self._open(SEQUENCE_FILE, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            value = int.from_bytes(mapped[:SEQUENCE_BYTES], "little") + 1
            mapped[:SEQUENCE_BYTES] = (value % 2**64).to_bytes(SEQUENCE_BYTES, "little")
        finally:
            os.close(fd)


class MemoryBackend:
    """In-process: right when the web app runs the workers as its own threads. With
    `shared`, the generations live in files other processes can bump too."""

    blocking = False  # a dict under a lock: a thread hop would cost more than the lookup

    def __init__(self, max_entries: int = 4096, shared: SharedGenerations | None = None) -> None:
        self._lock = threading.Lock()  # worker threads invalidate while requests read
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._generations: dict[int, int] = {}
        self._max = max_entries
        self._shared = shared

    def generation(self, owner_id: int) -> int:
        if self._shared is not None:
            return self._shared.get(owner_id)
        with self._lock:
            return self._generations.get(owner_id, 0)

    def lookup(self, owner_id: int, name: str) -> tuple[str, bytes | None]:
        key = view_key(owner_id, self.generation(owner_id), name)
        return key, self.get(key)

    def get(self, key: str) -> bytes | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return found[1]

    def set(self, key: str, value: bytes, ttl: int) -> None:
        with self._lock:
            self._entries[key] = (time.monotonic() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def bump(self, owner_id: int) -> None:
        if self._shared is not None:
            self._shared.bump(owner_id)
            return
        with self._lock:
            self._generations[owner_id] = self._generations.get(owner_id, 0) + 1

    def ping(self) -> None:
        return None

    async def lookup_now(self, owner_id: int, name: str) -> tuple[str, bytes | None]:
        return self.lookup(owner_id, name)

    def remember(self, key: str, value: bytes) -> None:
        return None  # `set` already keeps it in this process

    async def close(self) -> None:
        return None


class RedisBackend:
    """Shared by every web and worker process; a blocking client works on any event loop."""

    blocking = True

    def __init__(self, url: str, watch: WatchedKeys | None = None) -> None:
        self.url = url
        self.client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3)
        # With a watch, generations are answered from memory while Redis vouches for them.
        self.watch = watch
        # Reads on the request path use an asyncio client: no thread hop.
        self._async = PerLoopRedis(url)
        # An entry never changes under its key (the key names the owner's generation),
        # so a copy in this process is as good as Redis's: a hit costs one GET of the
        # generation instead of the whole view over the wire.
        self._near = BytesLRU(NEAR_BYTES, NEAR_VALUE_BYTES, ttl=NEAR_TTL_SECONDS)

    async def lookup_now(self, owner_id: int, name: str) -> tuple[str, bytes | None]:
        gen_key = generation_key(owner_id)
        known, generation = (False, None) if self.watch is None else self.watch.recall(gen_key)
        if not known:
            known, generation = prefetch.recall(gen_key)
        if not known:
            client = self._async.client()
            if self.watch is not None:
                generation = (await self.watch.mget(client, [gen_key]))[0]
            else:
                generation = await client.get(gen_key)
        key = view_key(owner_id, int(generation or 0), name)
        value = self._near.get(key)
        if value is None:
            value = await self._async.client().get(key)
            if value is not None:
                self._near.put(key, value)
        return key, value

    def remember(self, key: str, value: bytes) -> None:
        self._near.put(key, value)

    def generation(self, owner_id: int) -> int:
        return int(self.client.get(generation_key(owner_id)) or 0)

    def get(self, key: str) -> bytes | None:
        return self.client.get(key)  # type: ignore[return-value]

    def set(self, key: str, value: bytes, ttl: int) -> None:
        self.client.set(key, value, ex=ttl)

    def bump(self, owner_id: int) -> None:
        self.client.incr(generation_key(owner_id))

    def ping(self) -> None:
        self.client.ping()

    async def close(self) -> None:
        """Close the blocking client and this loop's asyncio client (other loops'
        close with their loop)."""
        self.client.close()
        if self.watch is not None:
            await self.watch.close()
        await self._async.close()


def plan_fingerprint(plan: PlanOut | None) -> str:
    """A short digest of everything in the plan that shapes a view."""
    if plan is None:
        return "noplan"
    return hashlib.sha256(msgspec.json.encode(plan)).hexdigest()[:16]


class ImageCache:
    """Cached views of one owner's images, as msgspec-encoded JSON."""

    def __init__(self, backend: Backend, ttl: int = TTL_SECONDS) -> None:
        self.backend = backend
        self.ttl = ttl

    async def fetch(
        self,
        owner_id: int,
        name: str,
        kind: type[T],
        compute: Callable[[], Awaitable[tuple[T, bool]]],
    ) -> T:
        """The cached view `name` of the owner's images, else `compute()`'s.

        `compute` returns the value and whether it may be stored (an admin's view
        of someone else's image is not the owner's entry).
        """
        key, raw = await self._get(owner_id, name)
        if raw is not None:
            try:
                return msgspec.json.decode(raw, type=kind)
            except msgspec.DecodeError:
                log.warning("dropping an undecodable cache entry %s", key)
        value, cacheable = await compute()
        if key is not None and cacheable:
            await self._set(key, msgspec.json.encode(value))
        return value

    async def fetch_json(
        self, owner_id: int, name: str, compute: Callable[[], Awaitable[tuple[object, bool]]]
    ) -> bytes:
        """Like `fetch`, but the view's JSON as stored: a hit is neither decoded nor
        encoded again (for a list of 50 that is most of the request)."""
        key, raw = await self._get(owner_id, name)
        if raw is not None:
            return raw
        value, cacheable = await compute()
        encoded = msgspec.json.encode(value)
        if key is not None and cacheable:
            await self._set(key, encoded)
        return encoded

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        if self.backend.blocking:
            return await anyio.to_thread.run_sync(fn, *args)
        return fn(*args)

    async def _get(self, owner_id: int, name: str) -> tuple[str | None, bytes | None]:
        # The generation is read before the database: a view computed while a
        # change commits lands under the old generation and is never served.
        try:
            return await self.backend.lookup_now(owner_id, name)
        except redis.RedisError as exc:
            log.warning("cache unavailable, reading the database: %s", exc)
            return None, None

    async def _set(self, key: str, encoded: bytes) -> None:
        try:
            await self._run(self.backend.set, key, encoded, self.ttl)
        except redis.RedisError as exc:
            log.warning("could not store a cache entry: %s", exc)
            return
        self.backend.remember(key, encoded)

    async def invalidate(self, owner_id: int) -> None:
        """Forget every cached view of this owner's images."""
        prefetch.changed()
        try:
            await self._run(self.backend.bump, owner_id)
        except redis.RedisError as exc:
            # The change itself is committed; entries expire within the TTL.
            log.error("could not invalidate the cache of user %s: %s", owner_id, exc)

    async def close(self) -> None:
        """Let go of connections (at shutdown, on the loop that served requests)."""
        await self.backend.close()

    async def ping(self) -> None:
        # Abandoned on timeout: /health must answer even when Redis hangs.
        await anyio.to_thread.run_sync(self.backend.ping, abandon_on_cancel=True)
