"""Count the SQL statements a process runs, by wrapping Piccolo's engines.

Every Piccolo query (select, insert, raw, ...) goes through
`Engine.run_querystring`, and migrations through `run_ddl`; wrapping both on
the engine classes counts queries inside and outside transactions alike.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

ENGINES: tuple[type[Engine[Any]], ...] = (SQLiteEngine, PostgresEngine)
RAW = "(raw)"


class QueryCounter:
    """Running totals of statements, overall and per table (RAW when Piccolo knows none)."""

    def __init__(self) -> None:
        self.total = 0
        self.by_table: Counter[str] = Counter()

    def record(self, table: str) -> None:
        self.total += 1
        self.by_table[table] += 1

    def snapshot(self) -> dict[str, Any]:
        return {"total": self.total, "by_table": dict(self.by_table)}


# The statement's first table: what it selects from, inserts into or updates.
_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


def table_of(sql: str) -> str:
    match = _TABLE.search(sql)
    return match[1] if match else RAW


def _sql_of(engine: Engine[Any], query: Any) -> str:
    """The statement with placeholders (templates nest, so compile it as the engine will)."""
    if isinstance(query, str):
        return query
    sql: str = query.compile_string(engine_type=engine.engine_type)[0]
    return sql


def _counting(original: Callable[..., Any], counter: QueryCounter, ddl: bool) -> Callable[..., Any]:
    @functools.wraps(original)
    async def run(self: Engine[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        counter.record("(ddl)" if ddl else table_of(_sql_of(self, query)))
        return await original(self, query, *args, **kwargs)

    return run


@contextmanager
def counting(
    counter: QueryCounter, engines: tuple[type[Engine[Any]], ...] = ENGINES
) -> Iterator[QueryCounter]:
    """Count every statement run through `engines` while the block runs."""
    saved = [(cls, cls.run_querystring, cls.run_ddl) for cls in engines]
    for cls, run_querystring, run_ddl in saved:
        cls.run_querystring = _counting(run_querystring, counter, ddl=False)  # type: ignore[method-assign]
        cls.run_ddl = _counting(run_ddl, counter, ddl=True)  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        for cls, run_querystring, run_ddl in saved:
            cls.run_querystring = run_querystring  # type: ignore[method-assign]
            cls.run_ddl = run_ddl  # type: ignore[method-assign]


def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What ran between two snapshots."""
    tables = set(before["by_table"]) | set(after["by_table"])
    by_table = {
        t: after["by_table"].get(t, 0) - before["by_table"].get(t, 0)
        for t in sorted(tables)
        if after["by_table"].get(t, 0) != before["by_table"].get(t, 0)
    }
    return {"total": after["total"] - before["total"], "by_table": by_table}
