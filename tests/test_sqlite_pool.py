"""The SQLite engine that keeps its connections: same results as Piccolo's, fewer connections."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from piccolo.columns import Integer, Varchar
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

from imageuploader import db
from imageuploader.sqlite_pool import MAX_IDLE, PooledSQLiteEngine


def _tables(engine: SQLiteEngine) -> tuple[type[Table], type[Table]]:
    class Thing(Table, tablename="things", db=engine):
        name = Varchar(length=20, unique=True)
        size = Integer(default=0)

    class Other(Table, tablename="others", db=engine):
        label = Varchar(length=20)

    return Thing, Other


async def _exercise(engine: SQLiteEngine) -> list[object]:
    """The same queries through either engine; everything they return."""
    Thing, Other = _tables(engine)
    await Thing.create_table(if_not_exists=True)
    await Other.create_table(if_not_exists=True)
    seen: list[object] = []
    seen.append(await Thing.insert(Thing(name="a", size=3), Thing(name="b", size=5)))
    seen.append(await Other.insert(Other(label="x")))
    seen.append(await Thing.select().order_by(Thing.id))
    seen.append(await Thing.update({Thing.size: 7}).where(Thing.name == "a").returning(Thing.id))
    seen.append(await Thing.count())
    seen.append(await Thing.raw("SELECT name FROM things WHERE size > {}", 4))
    async with Thing._meta.db.transaction():
        await Thing.insert(Thing(name="c"))
    seen.append(await Thing.select(Thing.name).order_by(Thing.name))
    return seen


def test_results_are_what_piccolos_engine_gives(tmp_path: Path) -> None:
    ours = asyncio.run(_exercise(PooledSQLiteEngine(path=str(tmp_path / "ours.sqlite"))))
    theirs = asyncio.run(_exercise(SQLiteEngine(path=str(tmp_path / "theirs.sqlite"))))
    assert ours == theirs
    assert ours[-1] == [{"name": "a"}, {"name": "b"}, {"name": "c"}]


def test_queries_reuse_connections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[sqlite3.Connection] = []
    connect = sqlite3.connect

    def counting(*args: object, **kwargs: object) -> sqlite3.Connection:
        connection = connect(*args, **kwargs)  # type: ignore[arg-type]
        opened.append(connection)
        return connection

    engine = PooledSQLiteEngine(path=str(tmp_path / "reuse.sqlite"))
    Thing, _ = _tables(engine)
    Thing.create_table().run_sync()
    monkeypatch.setattr(sqlite3, "connect", counting)

    async def burst() -> None:
        await asyncio.gather(*(Thing.insert(Thing(name=f"n{i}")) for i in range(20)))

    async def one_by_one() -> None:
        for _ in range(30):
            await Thing.count()

    asyncio.run(burst())
    after_burst = len(opened)
    assert 1 <= after_burst <= 20  # at most one per query in flight
    assert len(engine._idle) <= MAX_IDLE  # the rest were closed
    asyncio.run(one_by_one())
    asyncio.run(one_by_one())  # another event loop: the idle connections still serve it
    assert len(opened) == after_burst, "sequential queries opened new connections"
    assert Thing.count().run_sync() == 20
    engine.close_idle()
    assert not engine._idle


def test_a_failed_statement_does_not_poison_the_pool(tmp_path: Path) -> None:
    engine = PooledSQLiteEngine(path=str(tmp_path / "errors.sqlite"))
    Thing, _ = _tables(engine)

    async def run() -> None:
        await Thing.create_table()
        await Thing.insert(Thing(name="a"))
        with pytest.raises(sqlite3.IntegrityError):
            await Thing.insert(Thing(name="a"))  # unique
        with pytest.raises(sqlite3.OperationalError):
            await Thing.raw("SELECT * FROM nowhere")
        await Thing.insert(Thing(name="b"))
        assert await Thing.count() == 2

    asyncio.run(run())
    assert len(engine._idle) <= MAX_IDLE


def test_the_database_uses_write_ahead_logging(tmp_path: Path) -> None:
    path = tmp_path / "data" / "wal.sqlite"
    engine = db.engine_for(f"sqlite:///{path}")
    assert isinstance(engine, PooledSQLiteEngine)
    Thing, _ = _tables(engine)
    Thing.create_table().run_sync()
    with sqlite3.connect(path) as check:
        assert check.execute("PRAGMA journal_mode").fetchone() == ("wal",)
