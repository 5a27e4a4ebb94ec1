"""Prometheus metrics at /metrics: HTTP requests (web/request_metrics.py), plus the workers' jobs.

Worker processes record their jobs in the broker's Redis (workers/stats.py); this
app turns those numbers, and the queue depth read from the broker, into metrics
when scraped, so one scrape of any web process shows every worker's work.
"""

from __future__ import annotations

import hmac
import logging
import math
from collections.abc import Iterator
from typing import Any

import anyio
import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import dq_name
from litestar import Request, get
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins.prometheus import PrometheusController
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from imageuploader.settings import Settings
from imageuploader.tasks.middleware import JobStatsMiddleware
from imageuploader.tasks.registry import QUEUE
from imageuploader.tasks.stats import BUCKETS, JobStats

log = logging.getLogger(__name__)


def queue_size(broker: dramatiq.Broker, queue: str) -> int:
    """Messages waiting, delayed or in progress on `queue`."""
    if isinstance(broker, RedisBroker):
        return int(broker.do_qsize(queue))
    queues: dict[str, Any] = getattr(broker, "queues", {})
    return sum(queues[name].qsize() for name in (queue, dq_name(queue)) if name in queues)


class WorkerCollector(Collector):
    """Job counts, durations and queue depth, read at scrape time."""

    def __init__(self, broker: dramatiq.Broker, stats: JobStats) -> None:
        self.broker = broker
        self.stats = stats

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "imageuploader_worker_metrics_up", "1 when the worker metrics could be read."
        )
        try:
            snap = self.stats.snapshot()
            depth = queue_size(self.broker, QUEUE)
        except Exception as exc:
            log.warning("worker metrics unavailable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        jobs = CounterMetricFamily(
            "imageuploader_jobs", "Finished jobs by actor and outcome.", labels=["actor", "outcome"]
        )
        for (actor, outcome), count in sorted(snap.counts.items()):
            jobs.add_metric([actor, outcome], count)
        yield jobs
        durations = HistogramMetricFamily(
            "imageuploader_job_duration_seconds", "Time spent on a job.", labels=["actor"]
        )
        for actor, per_bucket in sorted(snap.buckets.items()):
            cumulative, total = [], 0
            for bound, count in zip(BUCKETS, per_bucket, strict=True):
                total += count
                cumulative.append(("+Inf" if math.isinf(bound) else str(bound), total))
            durations.add_metric([actor], cumulative, sum_value=snap.seconds.get(actor, 0.0))
        yield durations
        queued = GaugeMetricFamily(
            "imageuploader_queue_messages",
            "Messages queued, delayed or in progress.",
            labels=["queue"],
        )
        queued.add_metric([QUEUE], depth)
        yield queued


def worker_registry(broker: dramatiq.Broker) -> CollectorRegistry:
    """A registry per app (tests build many apps; the global one would see duplicates)."""
    registry = CollectorRegistry(auto_describe=False)
    stats = next(m.stats for m in broker.middleware if isinstance(m, JobStatsMiddleware))
    registry.register(WorkerCollector(broker, stats))
    return registry


def may_scrape(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: with METRICS_TOKEN, only `Authorization: Bearer <token>`; without one,
    open in the embedded default and absent (404) in production."""
    settings: Settings = connection.app.state.settings
    if settings.metrics_token is None:
        if settings.production:
            raise NotFoundException()
        return
    scheme, _, given = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), settings.metrics_token.encode()
    ):
        raise NotAuthorizedException(
            "Scraping needs 'Authorization: Bearer <METRICS_TOKEN>'.",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )


class MetricsController(PrometheusController):
    """Litestar's Prometheus endpoint, followed by the app's worker metrics."""

    include_in_schema = False
    guards = [may_scrape]

    @get()
    async def get(self, request: Request[Any, Any, Any]) -> Response:
        http = generate_latest(REGISTRY)
        # Reading the workers' numbers may touch Redis: not on the event loop.
        workers = await anyio.to_thread.run_sync(generate_latest, request.app.state.worker_metrics)
        return Response(http + workers, headers={"Content-Type": CONTENT_TYPE_LATEST})
