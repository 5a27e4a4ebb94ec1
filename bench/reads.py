"""Figure 4: image list reads (50 per page) per second with a warm cache, and the SQL
statements each list request runs, counted inside the server (bench.server)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from bench import photos
from bench.api import Api, user_api
from bench.queries import delta
from bench.server import QUERIES_PATH

PER_PAGES = (1, 10, 50)
PER_PAGE = 50
IMAGE_TABLES = ("images", "renditions")
READY_TIMEOUT = 120.0


def list_path(per_page: int) -> str:
    return f"/api/images?page=1&per_page={per_page}"


def queries_of(api: Api, request: Callable[[], httpx.Response]) -> dict[str, Any]:
    """The statements the server ran while answering `request`."""
    before = api.client.get(QUERIES_PATH).json()
    request().raise_for_status()
    return delta(before, api.client.get(QUERIES_PATH).json())


def image_queries(counted: dict[str, Any]) -> int:
    return sum(counted["by_table"].get(t, 0) for t in IMAGE_TABLES)


def _settled(rendition: dict[str, Any]) -> bool:
    """Ready, with every format of the plan made (or given up): no worker still writes."""
    return rendition["status"] == "ready" and all(
        f["status"] != "pending" for f in rendition.get("formats", [])
    )


def fill(api: Api, images: int) -> None:
    """Give the reader `images` small photos and wait until every rendition and its
    WebP and AVIF variants are made, so that no worker's statements are counted."""
    data = photos.photo_jpeg(320, 240, seed=5)
    for n in range(images):
        api.upload(photos.tagged(data, n), caption=f"read {n}")
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        page = api.client.get(list_path(100)).json()
        if all(_settled(r) for i in page["items"] for r in i["renditions"]):
            return
        if time.monotonic() > deadline:
            raise TimeoutError("renditions of the reader's images are still pending")
        time.sleep(0.1)


def count_queries(api: Api) -> dict[str, Any]:
    """Per page size: the first (cold) request's statements and the fewest of 3 warm ones
    (the fewest, so that a reconciler sweep landing in the middle is not counted)."""
    result: dict[str, Any] = {}
    for per_page in PER_PAGES:

        def get(per_page: int = per_page) -> httpx.Response:
            return api.client.get(list_path(per_page))

        cold = queries_of(api, get)
        warm = min((queries_of(api, get) for _ in range(3)), key=lambda c: c["total"])
        result[str(per_page)] = {"cold": cold, "warm": warm}
    return result


async def _hammer(base_url: str, token: str, seconds: float, concurrency: int) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    done = 0
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=30) as client:
        stop_at = time.monotonic() + seconds

        async def loop() -> None:
            nonlocal done
            while time.monotonic() < stop_at:
                answer = await client.get(list_path(PER_PAGE))
                answer.raise_for_status()
                done += 1

        await asyncio.gather(*(loop() for _ in range(concurrency)))
    return done


def requests_per_second(base_url: str, token: str, seconds: float, concurrency: int) -> float:
    asyncio.run(_hammer(base_url, token, min(1.0, seconds), concurrency))  # warm the cache
    start = time.monotonic()
    done = asyncio.run(_hammer(base_url, token, seconds, concurrency))
    return done / (time.monotonic() - start)


def measure(
    base_url: str, images: int, seconds: float, concurrency: int, log: Any = print
) -> dict[str, Any]:
    api = user_api(base_url, "bench-reader", "Studio")
    try:
        fill(api, images)
        counted = count_queries(api)
        token = api.client.headers["Authorization"].removeprefix("Bearer ")
        rate = requests_per_second(base_url, token, seconds, concurrency)
    finally:
        api.close()
    warm_totals = {p: c["warm"]["total"] for p, c in counted.items()}
    cold_totals = {p: c["cold"]["total"] for p, c in counted.items()}
    cache_active = any(
        image_queries(c["warm"]) < image_queries(c["cold"]) for c in counted.values()
    )
    log(f"  reads: {rate:.0f} requests/s, warm queries per request {warm_totals}")
    return {
        "images": images,
        "per_page": PER_PAGE,
        "concurrency": concurrency,
        "seconds": seconds,
        "requests_per_s": rate,
        "queries": counted,
        "queries_per_request": warm_totals[str(PER_PAGE)],
        "queries_per_request_cold": cold_totals[str(PER_PAGE)],
        "constant": len(set(warm_totals.values())) == 1 and len(set(cold_totals.values())) == 1,
        "cache_active": cache_active,
    }
