"""The Dramatiq broker: Redis for separate worker processes, in-process queues otherwise."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from imageuploader.tasks.middleware import JobStatsMiddleware, RequestIdMiddleware
from imageuploader.tasks.stats import JobStats


def make_broker(redis_url: str | None) -> dramatiq.Broker:
    """Create the broker and make it Dramatiq's global one.

    Must run before any actor is declared: actors bind to a broker when made.
    `redis_url` None means the embedded default: the stub broker keeps queues
    in this process and the app runs worker threads beside it.
    """
    if redis_url is not None:
        broker: dramatiq.Broker = RedisBroker(url=redis_url)
    else:
        broker = StubBroker()
        broker.emit_after("process_boot")
    broker.add_middleware(AsyncIO())
    broker.add_middleware(RequestIdMiddleware())
    # Separate worker processes keep their stats in the broker's Redis for /metrics.
    client = broker.client if isinstance(broker, RedisBroker) else None
    broker.add_middleware(JobStatsMiddleware(JobStats(client)))
    dramatiq.set_broker(broker)
    return broker
