"""The in-process broker: its time limit is enforced, by one watcher thread per process."""

from __future__ import annotations

import threading
import time

import dramatiq
from dramatiq.middleware import TimeLimit
from dramatiq.middleware.time_limit import TimeLimitExceeded

from imageuploader.tasks.broker import make_broker


def _time_limits(broker: dramatiq.Broker) -> list[TimeLimit]:
    return [m for m in broker.middleware if isinstance(m, TimeLimit)]


def _watchers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if type(t).__name__ == "_CtypesTimeoutManager"]


def test_in_process_brokers_share_one_watcher_thread() -> None:
    brokers = [make_broker(None) for _ in range(3)]
    limits = {id(limit) for broker in brokers for limit in _time_limits(broker)}
    assert len(limits) == 1
    # Other tests of this process made brokers before: still one thread.
    assert len(_watchers()) == 1
    assert _watchers()[0].is_alive()


def test_a_task_over_its_time_limit_is_interrupted() -> None:
    broker = make_broker(None)
    outcome: list[str] = []
    done = threading.Event()

    @dramatiq.actor(broker=broker, time_limit=200, max_retries=0)
    def slow() -> None:
        try:
            for _ in range(100):  # 5 s, in steps the interruption can land between
                time.sleep(0.05)
            outcome.append("finished")
        except TimeLimitExceeded:
            outcome.append("interrupted")
            raise
        finally:
            done.set()

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=25)
    worker.start()
    try:
        slow.send()
        # The watcher looks once a second: well within the 5 s the task would take.
        assert done.wait(10)
    finally:
        worker.stop()
    assert outcome == ["interrupted"]
