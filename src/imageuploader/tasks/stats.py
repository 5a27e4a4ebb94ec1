"""Job counts and durations, kept where the web app's /metrics can read them.

Worker processes are separate from the web app (and from each other), so with
a Redis broker the numbers live in that Redis, in one hash; the web app turns
them into Prometheus metrics when scraped. In-process workers (memory://)
keep them in memory.
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from dataclasses import dataclass, field

import redis

BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, math.inf)
KEY = "imageuploader:metrics:jobs"


@dataclass
class Snapshot:
    """counts[(actor, outcome)], seconds[actor], buckets[actor][i] (not cumulative)."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    buckets: dict[str, list[int]] = field(default_factory=dict)


def bucket_index(seconds: float) -> int:
    return next(i for i, bound in enumerate(BUCKETS) if seconds <= bound)


class JobStats:
    """Record finished jobs; read them all back as a Snapshot."""

    def __init__(self, client: redis.Redis | None = None) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._fields: dict[str, float] = defaultdict(float)

    def record(self, actor: str, outcome: str, seconds: float) -> None:
        increments = {
            f"count|{actor}|{outcome}": 1,
            f"bucket|{actor}|{bucket_index(seconds)}": 1,
        }
        if self.client is None:
            with self._lock:
                for name, by in increments.items():
                    self._fields[name] += by
                self._fields[f"seconds|{actor}"] += seconds
            return
        pipe = self.client.pipeline(transaction=False)
        for name, by in increments.items():
            pipe.hincrby(KEY, name, by)
        pipe.hincrbyfloat(KEY, f"seconds|{actor}", seconds)
        pipe.execute()

    def snapshot(self) -> Snapshot:
        if self.client is None:
            with self._lock:
                raw = {k: str(v) for k, v in self._fields.items()}
        else:
            found = self.client.hgetall(KEY)
            raw = {k.decode(): v.decode() for k, v in found.items()}  # type: ignore[union-attr]
        snap = Snapshot()
        for name, value in raw.items():
            kind, actor, *rest = name.split("|")
            if kind == "count":
                snap.counts[(actor, rest[0])] = int(float(value))
            elif kind == "seconds":
                snap.seconds[actor] = float(value)
            elif kind == "bucket":
                per_bucket = snap.buckets.setdefault(actor, [0] * len(BUCKETS))
                per_bucket[int(rest[0])] = int(float(value))
        return snap
