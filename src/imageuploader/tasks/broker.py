"""The Dramatiq broker: Redis for separate worker processes, in-process queues otherwise."""

from __future__ import annotations

import threading

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO, TimeLimit, default_middleware

from imageuploader.tasks.middleware import JobStatsMiddleware, RequestIdMiddleware
from imageuploader.tasks.stats import JobStats

_time_limit_lock = threading.Lock()
_time_limit: TimeLimit | None = None


def in_process_time_limit() -> TimeLimit:
    """The TimeLimit of every in-process broker in this process, its watcher started.

    The watcher is a thread with no way to stop it: one per broker, that is one per
    app built, would pile up in a process that builds many (the tests build one per
    test). Deadlines are kept per worker thread, so brokers can share it.
    """
    global _time_limit
    with _time_limit_lock:
        if _time_limit is None:
            _time_limit = TimeLimit()
            _time_limit.manager.start()
        return _time_limit


def make_broker(redis_url: str | None) -> dramatiq.Broker:
    """Create the broker and make it Dramatiq's global one.

    Must run before any actor is declared: actors bind to a broker when made.
    `redis_url` None means the embedded default: the stub broker keeps queues
    in this process and the app runs worker threads beside it.
    """
    if redis_url is not None:
        broker: dramatiq.Broker = RedisBroker(url=redis_url)
    else:
        # A worker process's boot starts TimeLimit's watcher; in this process it is shared.
        broker = StubBroker(
            middleware=[
                in_process_time_limit() if middleware is TimeLimit else middleware()
                for middleware in default_middleware
            ]
        )
    broker.add_middleware(AsyncIO())
    broker.add_middleware(RequestIdMiddleware())
    # Separate worker processes keep their stats in the broker's Redis for /metrics.
    client = broker.client if isinstance(broker, RedisBroker) else None
    broker.add_middleware(JobStatsMiddleware(JobStats(client)))
    dramatiq.set_broker(broker)
    return broker
