"""S3 delivery both ways, side by side: a redirect to a presigned URL, or the bytes
streamed through the app (S3_DELIVERY=redirect|stream).

Two embedded-default servers store their media on one SeaweedFS, one per mode.
For a small rendition and for a 12 MP original, one client fetches the object
again and again, in interleaved rounds, as a browser without a cache would:
through the redirect (the app's 307 and then S3's 200) or through the app's own
200. The app's CPU time per request is read from the server process, since
what a redirect saves is mostly the app's work.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench import seaweedfs, upload
from bench.api import user_api
from bench.processes import Server, tree_cpu_seconds
from bench.stats import median, percentile

MODES = ("redirect", "stream")
OBJECTS = {"small": "low", "original": "original"}
Log = Callable[[str], None]


def _fetch_loop(
    client: httpx.Client, path: str, seconds: float, server: Server, *, follow: bool
) -> dict[str, float]:
    """Fetch `path` for `seconds`; latency of each whole fetch and the app's CPU per fetch."""
    latencies: list[float] = []
    size = 0
    cpu_before = tree_cpu_seconds(server.process.pid)
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        answer = client.get(path, follow_redirects=follow)
        latencies.append(time.perf_counter() - start)
        if answer.status_code not in (200, 307):
            raise RuntimeError(f"GET {path} answered {answer.status_code}: {answer.text[:200]}")
        size = len(answer.content)
    cpu = tree_cpu_seconds(server.process.pid) - cpu_before
    return {
        "requests": len(latencies),
        "per_second": len(latencies) / sum(latencies),
        "p50_ms": median(latencies) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "app_cpu_ms": cpu / len(latencies) * 1000,
        "bytes": size,
    }


def measure(work: Path, photo: Path, seconds: float, rounds: int, log: Log) -> dict[str, Any]:
    """Figures per object and way of delivery: req/s, p50/p99 latency, app CPU per request."""
    try:
        version = seaweedfs.weed_version()
    except (FileNotFoundError, OSError) as exc:
        return {"skipped": str(exc)}
    data = photo.read_bytes()
    samples: dict[str, list[dict[str, float]]] = {}
    with contextlib.ExitStack() as running:
        s3 = seaweedfs.SeaweedFS.launch(work / "seaweedfs-delivery")
        running.callback(s3.close, kill=True)  # thrown away: no need for a clean stop
        upload.warm_buckets(s3)
        servers: dict[str, Server] = {}
        paths: dict[str, dict[str, str]] = {}
        clients: dict[str, httpx.Client] = {}
        for mode in MODES:
            data_dir = work / f"delivery-{mode}"
            settings = {**upload.s3_settings(data_dir, s3), "S3_DELIVERY": mode}
            server = Server.start(settings, work / f"delivery-{mode}.log")
            running.callback(server.stop)
            servers[mode] = server
            api = user_api(server.base_url, "bench-delivery", "Studio")
            running.callback(api.close)
            image = api.upload(data, caption="delivery")
            api.wait_ready(image["id"])
            paths[mode] = {name: f"/media/{image['id']}/{slug}" for name, slug in OBJECTS.items()}
            clients[mode] = api.client
        for round_ in range(rounds):
            log(f"  S3 delivery round {round_ + 1}/{rounds} ...")
            for name in OBJECTS:
                for mode in MODES:
                    runs = (
                        [("stream", False)]
                        if mode == "stream"
                        else [
                            ("redirect", True),  # the 307 and then S3's 200
                            ("redirect_only", False),  # the 307 alone (a cached URL skips it)
                        ]
                    )
                    for label, follow in runs:
                        found = _fetch_loop(
                            clients[mode], paths[mode][name], seconds, servers[mode], follow=follow
                        )
                        samples.setdefault(f"{name}/{label}", []).append(found)
    figures: dict[str, Any] = {"server": f"SeaweedFS {version} (weed mini)"}
    for key, runs in samples.items():
        figures[key] = {
            field: median([run[field] for run in runs]) for field in runs[0] if field != "bytes"
        } | {"bytes": runs[-1]["bytes"], "rounds": len(runs)}
    return figures


def table(figures: dict[str, Any]) -> str:
    """Markdown: the two ways of delivery beside each other, per object."""
    if "skipped" in figures:
        return f"S3 delivery: SKIPPED ({figures['skipped']})"
    lines = [
        f"S3 delivery ({figures['server']}; one client, no cache; medians of interleaved rounds)",
        "",
        "| object | delivery | req/s | p50 ms | p99 ms | app CPU ms/req |",
        "|---|---|---|---|---|---|",
    ]
    labels = {
        "stream": "streamed by the app",
        "redirect": "307 + presigned GET",
        "redirect_only": "307 alone",
    }
    for name in OBJECTS:
        size = figures[f"{name}/stream"]["bytes"] / 1024
        for label, text in labels.items():
            cell = figures.get(f"{name}/{label}")
            if cell is None:
                continue
            lines.append(
                f"| {name} ({size:,.0f} KiB) | {text} | {cell['per_second']:.0f} "
                f"| {cell['p50_ms']:.1f} | {cell['p99_ms']:.1f} | {cell['app_cpu_ms']:.2f} |"
            )
    return "\n".join(lines)
