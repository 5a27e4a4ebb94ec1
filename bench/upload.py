"""Figure 2: upload to ready over HTTP on the embedded default (SQLite, in-process
memory-broker workers), a 12 MP JPEG on the Studio plan, once with local files and
once with S3 storage on SeaweedFS, the uploads to the two interleaved.

The answer time is what the client sees. "All ready" is when the last
rendition row was marked ready (its `updated_at`, read from the SQLite file
once the API shows every rendition ready), so the client's polling interval
neither adds to the figure nor, polled gently, steals the workers' CPU.
"All formats" is when the client saw the last WebP and AVIF variant made (to
the polling interval). The next upload waits for it: variants still encoding
in the in-process workers would take the CPU from the upload being timed.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import photos
from bench.api import Api, user_api
from bench.processes import Server
from bench.seaweedfs import SeaweedFS
from bench.stats import median, percentile
from imageuploader.storage import S3Storage

POLL_SECONDS = 0.025
NO_RATE_LIMIT = {"RATE_LIMIT_UPLOADS_PER_USER": "off"}


def embedded_settings(data_dir: Path) -> dict[str, str]:
    # CACHE_URL=memory://: the in-process cache is on; the embedded default is
    # otherwise untouched.
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


S3_BUCKETS = [f"bench-media-{i}" for i in range(4)]


def s3_settings(data_dir: Path, s3: SeaweedFS) -> dict[str, str]:
    """The embedded default with its media in four buckets on `s3` instead of files."""
    return {
        **embedded_settings(data_dir),
        "STORAGE_URL": s3.storage_url,
        "S3_BUCKETS": ",".join(S3_BUCKETS),
        "S3_PUBLIC_URL": s3.url,
    }


def warm_buckets(s3: SeaweedFS) -> None:
    """Create the buckets and write to each once, untimed.

    SeaweedFS gives each bucket its own volume on the bucket's first write,
    which takes about 0.2 s; a bucket in service has had its first write long ago.
    """
    storage = S3Storage(s3.endpoint, s3.access_key, s3.secret_key, S3_BUCKETS, secure=False)
    storage.ensure_ready()
    for bucket in S3_BUCKETS:
        storage.put(bucket, "bench/warm", b"warm", "text/plain")
        storage.delete(bucket, "bench/warm")


@dataclass
class Target:
    """One app under test: its server, its DATA_DIR (for the SQLite file) and its timings."""

    name: str
    server: Server
    data_dir: Path
    answers: list[float] = field(default_factory=list)
    ready: list[float] = field(default_factory=list)
    formats: list[float] = field(default_factory=list)
    renditions: int = 0

    def upload_once(self, api: Api, body: bytes, n: int) -> None:
        sent = datetime.now(UTC)
        start = time.perf_counter()
        image = api.upload(body, caption=f"bench {n}")
        self.answers.append(time.perf_counter() - start)
        api.wait_ready(image["id"], poll=POLL_SECONDS)
        done = last_ready(database_file(self.data_dir), image["id"])
        self.ready.append((done - sent).total_seconds())
        self.renditions = len(image["renditions"])
        api.wait_formats(image["id"], poll=POLL_SECONDS)
        self.formats.append(time.perf_counter() - start)

    def figures(self, uploads: int, photo_bytes: int) -> dict[str, Any]:
        return {
            "uploads": uploads,
            "renditions": self.renditions,
            "photo_bytes": photo_bytes,
            "answer_median_s": median(self.answers),
            "answer_p95_s": percentile(self.answers, 95),
            "ready_median_s": median(self.ready),
            "ready_p95_s": percentile(self.ready, 95),
            "formats_median_s": median(self.formats),
            "formats_p95_s": percentile(self.formats, 95),
        }


def measure_side_by_side(
    targets: list[Target], photo: Path, uploads: int, log: Any = print
) -> dict[str, dict[str, Any]]:
    """Upload `uploads` times to each target (each a distinct file of the same photo),
    one upload at a time, alternating targets and which goes first, so that a change
    in the machine's load during the run falls on every target alike."""
    data = photo.read_bytes()
    apis = {t.name: user_api(t.server.base_url, "bench-studio", "Studio") for t in targets}
    try:
        for target in targets:  # first-request set-up is not timed
            warm = apis[target.name].upload(photos.tagged(data, -1))
            apis[target.name].wait_formats(warm["id"], poll=POLL_SECONDS)
        for n in range(uploads):
            order = targets if n % 2 == 0 else targets[::-1]
            for target in order:
                target.upload_once(apis[target.name], photos.tagged(data, n), n)
        log(f"  upload: {uploads} uploads of {photo.name} to each of {len(targets)} apps")
    finally:
        for api in apis.values():
            api.close()
    return {t.name: t.figures(uploads, len(data)) for t in targets}


def measure(
    server: Server, data_dir: Path, photo: Path, uploads: int, log: Any = print
) -> dict[str, Any]:
    """Upload `uploads` times to one app; see measure_side_by_side."""
    return measure_side_by_side([Target("only", server, data_dir)], photo, uploads, log)["only"]
