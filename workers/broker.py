"""Build the Dramatiq broker from settings: Redis in production, in-process otherwise."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, CurrentMessage

from imageuploader.settings import Settings
from workers.middleware import JobStatsMiddleware, RequestIdMiddleware
from workers.stats import JobStats


def make_broker(settings: Settings) -> dramatiq.Broker:
    """Create the broker and make it Dramatiq's global one.

    Must run before any actor is declared: actors bind to a broker when made.
    """
    if settings.broker_url.startswith("redis"):
        broker: dramatiq.Broker = RedisBroker(url=settings.broker_url)
    else:
        # memory://: the stub broker keeps queues in this process and the app
        # runs worker threads beside it (the embedded default).
        broker = StubBroker()
        broker.emit_after("process_boot")
    broker.add_middleware(AsyncIO())
    broker.add_middleware(CurrentMessage())
    broker.add_middleware(RequestIdMiddleware())
    # Separate worker processes keep their stats in the broker's Redis for /metrics.
    client = broker.client if isinstance(broker, RedisBroker) else None
    broker.add_middleware(JobStatsMiddleware(JobStats(client)))
    dramatiq.set_broker(broker)
    return broker
