"""Piccolo's PostgreSQL engine with a pool that serves only the loop that opened it.

An asyncpg pool belongs to one event loop. The embedded server runs its web
requests on one loop and its in-process workers on another (and tests and the
CLI query the same engine from loops of their own), so a plain pool could not
be used there at all: every query opened a connection. Here the pool answers
only on its own loop; queries from any other loop see no pool and open a
connection of their own, exactly as PostgresEngine does without one.
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
    """A PostgresEngine whose `pool` is None on every loop but the pool's own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._owned: tuple[Pool, asyncio.AbstractEventLoop] | None = None
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def pool(self) -> Pool | None:
        if self._owned is None:
            return None
        pool, loop = self._owned
        return pool if _running_loop() is loop else None

    @pool.setter
    def pool(self, value: Pool | None) -> None:
        # Piccolo sets the pool from inside start_connection_pool, on its loop.
        loop = _running_loop()
        self._owned = None if value is None or loop is None else (value, loop)
