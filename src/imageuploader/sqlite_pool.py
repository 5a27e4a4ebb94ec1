"""Piccolo's SQLite engine with its connections kept between queries.

Piccolo's SQLiteEngine opens a fresh aiosqlite connection for every query
outside a transaction, and aiosqlite starts a new thread for each one. The
event loop blocks in `Thread.start` until that thread runs, which on a busy
machine (libvips keeping every core at work during an upload) costs
milliseconds per query, for every request in flight. Here a query borrows an
idle `sqlite3` connection and runs on anyio's reused worker threads instead.

Connections use Piccolo's own settings (autocommit, its type converters, its
row factory, foreign keys on), so results are exactly what Piccolo would have
returned. Transactions still go through Piccolo's aiosqlite path unchanged.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any, Final

import anyio
from piccolo.engine.sqlite import SQLiteEngine, dict_factory

MAX_IDLE: Final = 4  # enough for the queries of a few concurrent requests


class PooledSQLiteEngine(SQLiteEngine):
    """An SQLiteEngine whose non-transactional queries reuse idle connections."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A plain lock and list, not asyncio primitives: tests and the CLI use
        # one engine from several event loops.
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._wal = False

    def _borrow(self) -> sqlite3.Connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        # check_same_thread=False: a borrowed connection is used by one query
        # at a time, but not always on the thread that opened it.
        connection = sqlite3.connect(**self.connection_kwargs, check_same_thread=False)
        connection.row_factory = dict_factory
        connection.execute("PRAGMA foreign_keys = 1")
        if not self._wal:
            # Write-ahead logging: a commit is one append and one fsync instead
            # of a rollback journal's three or four, and readers never wait
            # for a writer. The mode is stored in the file, so once is enough.
            connection.execute("PRAGMA journal_mode = WAL")
            self._wal = True
        return connection

    def _give_back(self, connection: sqlite3.Connection) -> None:
        with self._lock:
            if len(self._idle) < MAX_IDLE:
                self._idle.append(connection)
                return
        connection.close()

    def _run(
        self, query: str, args: list[Any], query_type: str, table: Any
    ) -> list[dict[str, Any]]:
        connection = self._borrow()
        try:
            rows = self._execute(connection, query, args, query_type, table)
        except BaseException:
            # Whatever state a failed statement left behind goes with it.
            connection.close()
            raise
        self._give_back(connection)
        return rows

    def _execute(
        self,
        connection: sqlite3.Connection,
        query: str,
        args: list[Any],
        query_type: str,
        table: Any,
    ) -> list[dict[str, Any]]:
        """What Piccolo's `_run_in_new_connection` does, on the given connection."""
        cursor = connection.execute(query, args)
        try:
            connection.commit()  # a no-op in autocommit mode, as in Piccolo
            if query_type == "insert" and self.get_version_sync() < 3.35:
                # No RETURNING before SQLite 3.35: Piccolo reads the key by ROWID.
                pk = table._meta.primary_key._meta.db_column_name
                row = connection.execute(
                    f"SELECT {pk} FROM {table._meta.tablename} "  # noqa: S608 - Piccolo's names
                    f"WHERE ROWID = {cursor.lastrowid}"
                ).fetchone()
                return [{pk: row[pk]}]
            rows: list[dict[str, Any]] = cursor.fetchall()
            return rows
        finally:
            cursor.close()

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> list[dict[str, Any]]:
        return await anyio.to_thread.run_sync(self._run, query, args or [], query_type, table)

    def close_idle(self) -> None:
        """Close the idle connections (at shutdown; a later query opens new ones)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
