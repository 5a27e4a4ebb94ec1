"""asyncio Redis clients, one per event loop: a client belongs to the loop it first
ran on, and the tests and the CLI run several loops in one process."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis


class PerLoopRedis:
    def __init__(self, url: str) -> None:
        self.url = url
        self._clients: dict[asyncio.AbstractEventLoop, aioredis.Redis] = {}

    def client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        found = self._clients.get(loop)
        if found is None:
            found = aioredis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=3)
            self._clients[loop] = found
        return found

    async def close(self) -> None:
        """Close this loop's client; other loops' close with their loop."""
        found = self._clients.pop(asyncio.get_running_loop(), None)
        if found is not None:
            await found.aclose()
