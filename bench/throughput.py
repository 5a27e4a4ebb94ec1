"""Figure 3: worker throughput on ~2 K photos, one vs two `dramatiq workers.main` processes
on the Redis broker, each process pinned to its own core.

Images are uploaded through the app (uvicorn, same Redis broker) while no worker
runs, so their pending renditions wait in the queue; then N workers start and
the clock runs from the moment every one of them is ready until the last
rendition was marked ready (its `updated_at`, read once the database shows none
pending). The stop time comes from the row, not from the poll, so the poll can
be gentle: it shares the cores with the workers it measures.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import redis

from bench import photos
from bench.api import Api
from bench.processes import Worker
from bench.stats import median

PHOTO_SEEDS = (1, 2, 3, 4)
POLL_SECONDS = 0.1
TIMEOUT = 300.0


async def reset_postgres(url: str) -> None:
    """Start from an empty schema, as the test suite does with its database."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


def reset_redis(url: str) -> None:
    """Drop queued messages a previous run may have left."""
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


LAST_READY_SQL = "SELECT MAX(updated_at) FROM renditions WHERE status = 'ready'"
COUNT_SQL = (
    "SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) FROM renditions"
)


class StatusCounter:
    """(pending, failed) rendition counts, read straight from the database."""

    def __init__(self, database_url: str) -> None:
        self.url = database_url
        self.loop = asyncio.new_event_loop()
        self.pg: asyncpg.Connection | None = None
        if database_url.startswith("postgres"):
            self.pg = self.loop.run_until_complete(asyncpg.connect(database_url))

    def __call__(self) -> tuple[int, int]:
        if self.pg is not None:
            row = self.loop.run_until_complete(self.pg.fetchrow(COUNT_SQL))
            return int(row[0]), int(row[1])
        path = self.url.removeprefix("sqlite:///")
        with sqlite3.connect(path, timeout=30) as db:
            pending, failed = db.execute(COUNT_SQL).fetchone()
        return int(pending), int(failed)

    def last_ready(self) -> datetime:
        """When the most recent rendition was marked ready (UTC)."""
        if self.pg is not None:
            value = self.loop.run_until_complete(self.pg.fetchval(LAST_READY_SQL))
        else:
            path = self.url.removeprefix("sqlite:///")
            with sqlite3.connect(path, timeout=30) as db:
                (text,) = db.execute(LAST_READY_SQL).fetchone()
            value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)  # Piccolo stores UTC
        return value

    def close(self) -> None:
        if self.pg is not None:
            self.loop.run_until_complete(self.pg.close())
        self.loop.close()


def upload_batch(api: Api, files: list[Path], count: int, first: int) -> None:
    for n in range(first, first + count):
        data = files[n % len(files)].read_bytes()
        api.upload(photos.tagged(data, n), caption=f"2k {n}")


def drain(settings: dict[str, str], processes: int, counts: StatusCounter) -> dict[str, Any]:
    """Start `processes` workers on cores 0..N-1 and time them through the queue."""
    workers = [Worker.start(settings, core=core) for core in range(processes)]
    try:
        start = max(worker.wait_ready() for worker in workers)
        started_at = datetime.now(UTC) - timedelta(seconds=time.monotonic() - start)
        cpu_start = sum(w.cpu_seconds() for w in workers)
        pending, _ = counts()
        while True:
            left, failed = counts()
            if failed:
                raise RuntimeError(f"{failed} renditions failed: {workers[0].lines[-5:]}")
            if left == 0:
                break
            if time.monotonic() - start > TIMEOUT:
                raise TimeoutError(f"{left} renditions still pending after {TIMEOUT} s")
            time.sleep(POLL_SECONDS)
        seconds = (counts.last_ready() - started_at).total_seconds()
        cpu = sum(w.cpu_seconds() for w in workers) - cpu_start
    finally:
        for worker in workers:
            worker.stop()
    rate = pending / seconds
    return {
        "processes": processes,
        "renditions": pending,
        "seconds": seconds,
        "renditions_per_s": rate,
        "per_core": rate / processes,
        "worker_cpu_s": cpu,
        "renditions_per_cpu_s": pending / cpu if cpu else 0.0,
    }


def summarize(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the runs with one process count (each run's own figures kept too)."""
    keys = ("renditions", "seconds", "renditions_per_s", "per_core", "renditions_per_cpu_s")
    return {
        "processes": runs[0]["processes"],
        **{key: median([float(run[key]) for run in runs]) for key in keys},
        "runs": len(runs),
        "each_renditions_per_s": [run["renditions_per_s"] for run in runs],
    }


def measure(
    api: Api, settings: dict[str, str], workdir: Path, images: int, rounds: int, log: Any = print
) -> dict[str, Any]:
    """`rounds` runs with one worker process and as many with two, interleaved.

    Each run drains a fresh batch. The order alternates (1, 2), (2, 1), ... and
    the medians are compared: throughput on a shared virtual machine drifts by
    tens of per cent from one run to the next, which a single pair of runs
    would report as (or hide behind) a scaling difference. Batches are large
    enough (the bench's default is 150 images, 300 renditions) that a worker's
    start-up (its database pool, libvips' first calls) does not dominate the
    shorter two-process runs.
    """
    files = [photos.photo_file(workdir, *photos.PHOTO_2K, seed=s) for s in PHOTO_SEEDS]
    counts = StatusCounter(settings["DATABASE_URL"])
    runs: dict[int, list[dict[str, Any]]] = {1: [], 2: []}
    batch = 0
    try:
        for round_ in range(rounds):
            for processes in (1, 2) if round_ % 2 == 0 else (2, 1):
                batch += 1
                upload_batch(api, files, images, first=batch * images)
                result = drain(settings, processes, counts)
                runs[processes].append(result)
                log(
                    f"  workers: round {round_ + 1}/{rounds}, {processes} process(es), "
                    f"{result['renditions']} renditions in {result['seconds']:.2f} s"
                )
    finally:
        counts.close()
    one, two = summarize(runs[1]), summarize(runs[2])
    return {
        "photo": list(photos.PHOTO_2K),
        "images_per_run": images,
        "rounds": rounds,
        "one": one,
        "two": two,
        "two_vs_one": two["renditions_per_s"] / one["renditions_per_s"],
    }
