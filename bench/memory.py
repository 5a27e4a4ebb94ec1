"""Figure 5: peak RSS of the web process while 20 clients each upload a 48 MP JPEG at
once, on the embedded default. The app as shipped (decodes bounded by
DECODE_CONCURRENCY, default the cores) is measured beside a baseline run of the same
app with the bound lifted, in the same run; peak RSS is the process's VmHWM.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from bench import photos, upload
from bench.api import user_api
from bench.processes import Server

CLIENTS = 20
BOUND_MIB = 1024
# Every upload is accepted in the bench (it waits its turn): the figure is the memory
# a burst costs, not how many a short wait would turn away.
WAIT_SECONDS = "600"
UNBOUNDED = "256"


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM) so far, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def burst(base_url: str, token: str, bodies: list[bytes]) -> dict[str, Any]:
    """POST every body at once, one client each; the answers' statuses and timings."""

    def send(body: bytes) -> tuple[int, float]:
        started = time.monotonic()
        with httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=900
        ) as client:
            answer = client.post("/api/images", files={"file": ("photo.jpg", body, "image/jpeg")})
        return answer.status_code, time.monotonic() - started

    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(send, bodies))
    statuses = [s for s, _ in answers]
    return {
        "clients": len(bodies),
        "accepted": statuses.count(201),
        "statuses": sorted(set(statuses)),
        "slowest_answer_s": round(max(t for _, t in answers), 2),
    }


def run_one(work: Path, name: str, extra: dict[str, str], bodies: list[bytes]) -> dict[str, Any]:
    data_dir = work / f"memory-{name}"
    settings = {**upload.embedded_settings(data_dir), "DECODE_WAIT_SECONDS": WAIT_SECONDS, **extra}
    server = Server.start(settings, work / f"memory-{name}.log")
    try:
        api = user_api(server.base_url, f"bench-memory-{name}", "Studio")
        token = api.client.headers["Authorization"].removeprefix("Bearer ")
        api.close()
        before = peak_rss_mib(server.process.pid)
        result = burst(server.base_url, token, bodies)
        result["idle_rss_mib"] = round(before, 1)
        result["peak_rss_mib"] = round(peak_rss_mib(server.process.pid), 1)
        return result
    finally:
        server.stop()


def measure(work: Path, clients: int, log: Callable[[str], None]) -> dict[str, Any]:
    original = photos.photo_file(work, *photos.MP48).read_bytes()
    # Distinct bytes per client, the same pixels: nothing may be served from a cache.
    bodies = [photos.tagged(original, n) for n in range(clients)]
    found: dict[str, Any] = {"photo_mib": round(len(original) / 2**20, 1)}
    log(f"  {clients} concurrent 48 MP uploads, decodes bounded (the default) ...")
    found["bounded"] = run_one(work, "bounded", {}, bodies)
    log(f"  {clients} concurrent 48 MP uploads, bound lifted (baseline) ...")
    found["unbounded"] = run_one(work, "unbounded", {"DECODE_CONCURRENCY": UNBOUNDED}, bodies)
    return found
