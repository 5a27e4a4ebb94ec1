"""Bounded load on the production shape: uvicorn + dramatiq worker + PostgreSQL + Redis.

Loopback only, and it stops by itself: N uploaders and M readers for --seconds, then it
waits for every accepted upload to finish and prints zero-5xx, completeness, p50/p99
latencies and web/worker RSS before and after. Run: `uv run python -m bench.load`.
Everything it starts (a private PostgreSQL via initdb, redis-server, the app, a worker)
lives in a temporary directory and is killed at the end.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

# The process helpers are shared with the fault tests (one place that knows how to
# start and kill the stack).
from bench.photos import tagged
from tests.faults.conftest import photo, query, reset_database
from tests.faults.stack import PrivatePostgres, Processes, free_port

# A throwaway stack: a fresh random admin password per run.
ADMIN_PASSWORD = secrets.token_urlsafe(24)
COMPLETE_WITHIN_SECONDS = 300


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (dramatiq forks its workers)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
        return round(sum(p.memory_info().rss for p in procs) / 2**20, 1)
    except psutil.NoSuchProcess:
        return 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return round(values[0] * 1000, 1)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] * 1000, 1)


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {"upload": [], "read": []}
        self.statuses: dict[int, int] = {}
        self.accepted: list[str] = []
        self.errors: list[str] = []

    def add(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latency[kind].append(seconds)
            self.statuses[status] = self.statuses.get(status, 0) + 1


def run(seconds: float = 60, uploaders: int = 20, readers: int = 20) -> dict:
    root = Path(tempfile.mkdtemp(prefix="imageuploader-load-"))
    os.chmod(root, 0o755)  # noqa: S103 - the postgres user must reach its data dir
    procs = Processes(root)
    pg = PrivatePostgres(root / "pg", free_port(), root / "postgres.log")
    try:
        pg.init()
        pg.start()
        reset_database(pg.url)
        redis_port = free_port()
        procs.redis(redis_port)
        env = {
            "DATABASE_URL": pg.url,
            "BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
            "CACHE_URL": f"redis://127.0.0.1:{redis_port}/1",
            "DATA_DIR": str(root / "data"),
            "STORAGE_URL": f"file://{root / 'media'}",
            "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "RECONCILE_AFTER_SECONDS": "30",
            # The load is the point here; the limits have their own tests.
            "RATE_LIMIT_LOGIN_PER_IP": "off",
            "RATE_LIMIT_LOGIN_PER_USERNAME": "off",
            "RATE_LIMIT_UPLOADS_PER_USER": "off",
            "LOG_LEVEL": "WARNING",
        }
        app, base = procs.app(env)
        worker = procs.worker(env, threads=4)
        headers = _user(base)
        time.sleep(2)  # let the worker boot before measuring its memory
        before = {"web_rss_mb": rss_mb(app.pid), "worker_rss_mb": rss_mb(worker.pid)}
        rec = _drive(base, headers, seconds, uploaders, readers)
        finished = time.monotonic()
        state = _wait_complete(pg.url, len(rec.accepted))
        after = {"web_rss_mb": rss_mb(app.pid), "worker_rss_mb": rss_mb(worker.pid)}
        five_xx = sum(n for s, n in rec.statuses.items() if s >= 500)
        return {
            "seconds": seconds,
            "uploaders": uploaders,
            "readers": readers,
            "requests": sum(rec.statuses.values()),
            "statuses": {str(k): v for k, v in sorted(rec.statuses.items())},
            "five_xx": five_xx,
            "client_errors": rec.errors[:5],
            "accepted_uploads": len(rec.accepted),
            "images_in_db": state["images"],
            "renditions": state["renditions"],
            "renditions_ready": state["ready"],
            "renditions_failed": state["failed"],
            "all_complete": state["images"] == len(rec.accepted)
            and state["ready"] == state["renditions"],
            "drain_seconds": round(time.monotonic() - finished, 1),
            "upload_p50_ms": percentile(rec.latency["upload"], 50),
            "upload_p99_ms": percentile(rec.latency["upload"], 99),
            "read_p50_ms": percentile(rec.latency["read"], 50),
            "read_p99_ms": percentile(rec.latency["read"], 99),
            "rss_before": before,
            "rss_after": after,
        }
    finally:
        procs.close()
        pg.stop_quietly()
        shutil.rmtree(root, ignore_errors=True)


def _user(base: str) -> dict[str, str]:
    r = httpx.post(
        f"{base}/api/auth/token",
        json={"username": "admin", "password": ADMIN_PASSWORD},
        timeout=60,
    )
    r.raise_for_status()
    admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
    # Enterprise: Premium's two sizes without its 1000-image limit, which a long run reaches.
    user = {"username": "load", "password": "load-password", "plan": "Enterprise"}
    httpx.post(f"{base}/api/admin/users", json=user, headers=admin, timeout=60).raise_for_status()
    login = {"username": user["username"], "password": user["password"]}
    r = httpx.post(f"{base}/api/auth/token", json=login, timeout=60)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _drive(base: str, headers: dict, seconds: float, uploaders: int, readers: int) -> Recorder:
    rec = Recorder()
    bodies = [photo(seed=i) for i in range(8)]  # 640x480 JPEGs
    # Each upload distinct bytes: the same bytes again would be answered as a duplicate.
    tags = itertools.count()
    deadline = time.monotonic() + seconds

    def timed(client: httpx.Client, kind: str, method: str, url: str, **kw) -> httpx.Response:
        start = time.monotonic()
        r = client.request(method, url, headers=headers, **kw)
        rec.add(kind, time.monotonic() - start, r.status_code)
        return r

    def uploader(n: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            while time.monotonic() < deadline:
                try:
                    body = tagged(bodies[n % len(bodies)], next(tags))
                    files = {"file": ("p.jpg", body, "image/jpeg")}
                    r = timed(client, "upload", "POST", "/api/images", files=files)
                    if r.status_code == 201:
                        with rec.lock:
                            rec.accepted.append(r.json()["id"])
                except httpx.HTTPError as exc:
                    rec.errors.append(repr(exc))
                n += 1

    def reader(n: int) -> None:
        rng = random.Random(n)  # noqa: S311 - load pattern, not security
        with httpx.Client(base_url=base, timeout=120) as client:
            while time.monotonic() < deadline:
                try:
                    timed(client, "read", "GET", "/api/images", params={"per_page": 20})
                    with rec.lock:
                        image_id = rng.choice(rec.accepted) if rec.accepted else None
                    if image_id:
                        timed(client, "read", "GET", f"/api/images/{image_id}")
                        timed(client, "read", "GET", f"/media/{image_id}/h200")
                except httpx.HTTPError as exc:
                    rec.errors.append(repr(exc))

    threads = [threading.Thread(target=uploader, args=(i,)) for i in range(uploaders)]
    threads += [threading.Thread(target=reader, args=(i,)) for i in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return rec


def _wait_complete(url: str, accepted: int) -> dict:
    deadline = time.monotonic() + COMPLETE_WITHIN_SECONDS
    while True:
        state = dict(
            query(
                url,
                "SELECT (SELECT count(*) FROM images) AS images, "
                "(SELECT count(*) FROM renditions) AS renditions, "
                "(SELECT count(*) FROM renditions WHERE status = 'ready') AS ready, "
                "(SELECT count(*) FROM renditions WHERE status = 'failed') AS failed",
            )[0]
        )
        done = state["ready"] + state["failed"] == state["renditions"]
        if (state["images"] >= accepted and done) or time.monotonic() > deadline:
            return state
        time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.load", description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--uploaders", type=int, default=20)
    p.add_argument("--readers", type=int, default=20)
    args = p.parse_args(argv)
    summary = run(args.seconds, args.uploaders, args.readers)
    for key, value in summary.items():
        print(f"{key:>20}: {value}")
    ok = summary["five_xx"] == 0 and summary["all_complete"]
    print(f"{'zero 5xx':>20}: {'yes' if summary['five_xx'] == 0 else 'NO'}")
    print(f"{'every upload done':>20}: {'yes' if summary['all_complete'] else 'NO'}")
    print(json.dumps(summary))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
