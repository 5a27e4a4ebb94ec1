"""A bounded in-process store of byte strings, least recently used out first."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable


class BytesLRU:
    """Values up to `max_value` bytes, at most `max_bytes` in all, least recently used
    out first, each for at most `ttl` seconds (None: until pushed out). One event loop
    uses it, so it takes no lock."""

    def __init__(self, max_bytes: int, max_value: int, ttl: float | None = None) -> None:
        self.max_bytes = max_bytes
        self.max_value = min(max_value, max_bytes)
        self.ttl = ttl
        self._entries: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._size = 0

    def holds(self, size: int | None) -> bool:
        return size is not None and size <= self.max_value

    def get(self, key: Hashable) -> bytes | None:
        found = self._entries.get(key)
        if found is None:
            return None
        if self.ttl is not None and found[0] < time.monotonic():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, value: bytes) -> None:
        if len(value) > self.max_value:
            return
        if key in self._entries:
            self._drop(key)
        expires = time.monotonic() + self.ttl if self.ttl is not None else 0.0
        self._entries[key] = (expires, value)
        self._size += len(value)
        while self._size > self.max_bytes:
            _, (_, dropped) = self._entries.popitem(last=False)
            self._size -= len(dropped)

    def _drop(self, key: Hashable) -> None:
        _, value = self._entries.pop(key)
        self._size -= len(value)
