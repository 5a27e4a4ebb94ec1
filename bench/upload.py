"""Figure 2: upload to ready over HTTP on the embedded default (SQLite, local files,
in-process memory-broker workers), a 12 MP JPEG on the Studio plan.

The answer time is what the client sees. "All ready" is when the last
rendition row was marked ready (its `updated_at`, read from the SQLite file
once the API shows every rendition ready), so the client's polling interval
neither adds to the figure nor, polled gently, steals the workers' CPU.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import photos
from bench.api import user_api
from bench.processes import Server
from bench.stats import median, percentile

POLL_SECONDS = 0.025
NO_RATE_LIMIT = {"RATE_LIMIT_UPLOADS_PER_USER": "off"}


def embedded_settings(data_dir: Path) -> dict[str, str]:
    # CACHE_URL=memory://: an in-process cache is on if the app has one;
    # the embedded default is otherwise untouched.
    # The bench uploads faster than a person: the per-user upload limit is not what it measures.
    return {"DATA_DIR": str(data_dir), "CACHE_URL": "memory://", **NO_RATE_LIMIT}


def database_file(data_dir: Path) -> Path:
    return data_dir / "imageuploader.sqlite"  # Settings' default DATABASE_URL under DATA_DIR


def last_ready(database: Path, image_id: str) -> datetime:
    """When the image's last rendition was marked ready (UTC, as Piccolo stores it)."""
    with sqlite3.connect(database, timeout=30) as db:
        (value,) = db.execute(
            "SELECT MAX(updated_at) FROM renditions WHERE image = ?", (image_id,)
        ).fetchone()
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def measure(
    server: Server, data_dir: Path, photo: Path, uploads: int, log: Any = print
) -> dict[str, Any]:
    """Upload `uploads` times (each a distinct file of the same photo), one at a time."""
    api = user_api(server.base_url, "bench-studio", "Studio")
    data = photo.read_bytes()
    answers: list[float] = []
    ready: list[float] = []
    try:
        warm = api.upload(photos.tagged(data, -1))  # first-request set-up is not timed
        api.wait_ready(warm["id"], poll=POLL_SECONDS)
        for n in range(uploads):
            body = photos.tagged(data, n)
            sent = datetime.now(UTC)
            start = time.perf_counter()
            image = api.upload(body, caption=f"bench {n}")
            answers.append(time.perf_counter() - start)
            api.wait_ready(image["id"], poll=POLL_SECONDS)
            done = last_ready(database_file(data_dir), image["id"])
            ready.append((done - sent).total_seconds())
        log(f"  upload: {uploads} uploads of {photo.name}")
        renditions = len(image["renditions"])
    finally:
        api.close()
    return {
        "uploads": uploads,
        "renditions": renditions,
        "photo_bytes": len(data),
        "answer_median_s": median(answers),
        "answer_p95_s": percentile(answers, 95),
        "ready_median_s": median(ready),
        "ready_p95_s": percentile(ready, 95),
    }
