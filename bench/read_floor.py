"""Reads side by side with the bare-framework floor: the same requests, the same bytes.

Per setup (one app process under uvicorn): a reader with 50 ready images; then
each read is captured once from our app, a bare Litestar app (bench.floor) is
started answering those very bytes, and each read is loaded on ours and on the
floor in turn with the same client (bench.loadgen) and the same connections.
"""

from __future__ import annotations

import base64
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from bench import loadgen, reads
from bench.api import user_api
from bench.processes import ROOT, Server, Worker, app_env, free_port, stop

IMAGES = 50
LINK_SECONDS = 3600
READS = ("list of 50", "one rendition", "/api/me", "/s/ link", "304 revalidation")
RENDITION = "h200"
# In one process: every read at least this share of the floor's requests/s.
TARGET = 0.4
TARGET_304 = 0.5
# Alternating turns per read (see side_by_side).
ROUNDS = 5


def targets_for(read: str) -> float:
    return TARGET_304 if read.startswith("304") else TARGET


def plan_reads(base_url: str, token: str) -> list[dict[str, Any]]:
    """The five reads: path, headers, and what our app answers to each (captured once)."""
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=auth, timeout=30) as client:
        page = client.get(reads.list_path(IMAGES)).json()
        image_id = page["items"][0]["id"]
        media = f"/media/{image_id}/{RENDITION}"
        link = client.post(
            f"/api/images/{image_id}/expiring-links",
            json={"seconds": LINK_SECONDS, "rendition": RENDITION},
        )
        link.raise_for_status()
        shared = httpx.URL(link.json()["url"]).raw_path.decode()
        etag = client.get(media).headers.get("etag", "")
        planned = [
            ("list of 50", reads.list_path(IMAGES), auth),
            ("one rendition", media, auth),
            ("/api/me", "/api/me", {**auth, "Accept": "application/json"}),
            ("/s/ link", shared, {}),
            ("304 revalidation", media, {**auth, "If-None-Match": etag} if etag else auth),
        ]
        found = []
        for name, path, headers in planned:
            answer = client.get(path, headers=headers)
            found.append(
                {
                    "name": name,
                    "path": path,
                    "headers": {k: v for k, v in headers.items()},
                    "status": answer.status_code,
                    "content_type": answer.headers.get("content-type", ""),
                    "etag": etag if name.startswith("304") else None,
                    "body": base64.b64encode(answer.content).decode(),
                    "bytes": len(answer.content),
                }
            )
    return found


class Floor:
    """The bare Litestar app (`python -m bench.floor`) answering the captured reads."""

    def __init__(self, planned: list[dict[str, Any]], work: Path) -> None:
        spec = work / "floor.json"
        spec.write_text(json.dumps({"reads": planned}))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        with (work / "floor.log").open("ab") as out:
            self.process = subprocess.Popen(  # noqa: S603 - our interpreter and argv
                [sys.executable, "-m", "bench.floor", str(spec), str(self.port)],
                cwd=ROOT,
                env=app_env({}),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base_url}/__nothing", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the floor app did not start")

    def stop(self) -> None:
        stop(self.process)


def side_by_side(
    ours: str,
    floor: str,
    planned: list[dict[str, Any]],
    seconds: float,
    connections: int,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Each read loaded on ours and on the floor in ROUNDS alternating turns (a short
    warm-up first on each). This VM's speed drifts by a third within seconds: the
    ratio is the median of the rounds' ratios, each of two runs moments apart."""
    found: dict[str, Any] = {}
    turn = seconds / ROUNDS
    for read in planned:
        bases = (("ours", ours), ("floor", floor))
        for _, base in bases:
            loadgen.load(base + read["path"], read["headers"], min(1.0, seconds / 4), connections)
        totals: dict[str, loadgen.LoadResult] = {}
        ratios = []
        for _ in range(ROUNDS):
            runs = {
                label: loadgen.load(base + read["path"], read["headers"], turn, connections)
                for label, base in bases
            }
            ratios.append(runs["ours"].per_second / max(1e-9, runs["floor"].per_second))
            for label, run in runs.items():
                totals[label] = totals[label].merged(run) if label in totals else run
        ratio = statistics.median(ratios)
        found[read["name"]] = {
            **{label: run.to_json() for label, run in totals.items()},
            "ratio": round(ratio, 3),
            "round_ratios": [round(r, 3) for r in ratios],
            "status": read["status"],
            "bytes": read["bytes"],
            "target": targets_for(read["name"]),
        }
        log(
            f"    {read['name']}: ours {totals['ours'].per_second:.0f}/s, "
            f"floor {totals['floor'].per_second:.0f}/s, {ratio:.2f}x "
            f"(rounds {', '.join(f'{r:.2f}' for r in ratios)})"
        )
    return found


def measure_setup(
    name: str,
    settings: Mapping[str, str],
    work: Path,
    seconds: float,
    connections: int,
    log: Callable[[str], None],
    worker: bool = False,
) -> dict[str, Any]:
    """Start the app with `settings`, fill a reader, and measure every read against the floor."""
    work.mkdir(parents=True, exist_ok=True)
    log(f"  reads vs floor, {name} ...")
    server = Server.start(settings, work / "app.log")
    floor: Floor | None = None
    helper: Worker | None = None
    try:
        if worker:  # a Redis broker: renditions need a worker process while filling
            helper = Worker.start(settings, core=0)
            helper.wait_ready()
        api = user_api(server.base_url, "bench-floor", "Enterprise")
        try:
            reads.fill(api, IMAGES)
            token = api.client.headers["Authorization"].removeprefix("Bearer ")
        finally:
            api.close()
        if helper is not None:
            helper.stop()
            helper = None
        planned = plan_reads(server.base_url, token)
        floor = Floor(planned, work)
        found = side_by_side(server.base_url, floor.base_url, planned, seconds, connections, log)
    finally:
        if helper is not None:
            helper.stop()
        if floor is not None:
            floor.stop()
        server.stop()
    return {
        "setup": name,
        "connections": connections,
        "seconds": seconds,
        "rounds": ROUNDS,
        "reads": found,
    }
