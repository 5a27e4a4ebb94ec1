"""Piccolo's PostgreSQL engine with a pool per event loop, each serving only its own.

An asyncpg pool belongs to one event loop. The embedded server runs its web
requests on one loop and its in-process workers on another (and tests and the
CLI query the same engine from loops of their own), so a single pool could not
serve them all. Here each loop that opens a pool gets its own, seen only from
that loop; queries from a loop with none open a connection of their own,
exactly as PostgresEngine does without a pool.
"""

from __future__ import annotations

import asyncio
from typing import Any

from asyncpg.pool import Pool
from piccolo.engine.postgres import PostgresEngine


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class LoopBoundPostgresEngine(PostgresEngine):
    """A PostgresEngine whose `pool` is the running loop's own, or None."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._pools: dict[asyncio.AbstractEventLoop, Pool] = {}
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def pool(self) -> Pool | None:
        loop = _running_loop()
        return None if loop is None else self._pools.get(loop)

    @pool.setter
    def pool(self, value: Pool | None) -> None:
        # Piccolo sets the pool from inside start_connection_pool and
        # close_connection_pool, on the loop the pool serves.
        loop = _running_loop()
        if loop is None:
            return
        if value is None:
            self._pools.pop(loop, None)
        else:
            self._pools[loop] = value
