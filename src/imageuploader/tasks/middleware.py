"""Dramatiq middleware: the request id travels with each message; job stats are recorded;
the worker loop's database pool is closed at shutdown."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

import dramatiq
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread
from dramatiq.broker import Broker
from dramatiq.message import Message

from imageuploader.logs import request_id
from imageuploader.tasks.stats import JobStats

log = logging.getLogger(__name__)

OPTION = "request_id"


class RequestIdMiddleware(dramatiq.Middleware):
    """Stamp messages with the current request id; run each job under its message's id.

    Jobs queued by a job (backfills) inherit the id, so a whole chain of work
    can be traced back to the request that started it.
    """

    def __init__(self) -> None:
        self._local = threading.local()  # a worker thread runs one message at a time

    def before_enqueue(self, broker: Broker, message: Message, delay: int) -> None:
        rid = request_id.get()
        if rid and OPTION not in message.options:
            message.options[OPTION] = rid

    def before_process_message(self, broker: Broker, message: Message) -> None:
        self._local.token = request_id.set(message.options.get(OPTION))

    def after_process_message(
        self,
        broker: Broker,
        message: Message,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        token = getattr(self._local, "token", None)
        if token is not None:
            request_id.reset(token)
            self._local.token = None

    after_skip_message = after_process_message


class JobStatsMiddleware(dramatiq.Middleware):
    """Count every finished job by actor and outcome, and time it.

    The outcome is the actor's return value when it is a string (renditions
    return ready, failed, gone...), `ok` otherwise, `error` when it raised (it
    may be retried), `skipped` when Dramatiq skipped it.
    """

    def __init__(self, stats: JobStats) -> None:
        self.stats = stats
        self._local = threading.local()

    def before_process_message(self, broker: Broker, message: Message) -> None:
        self._local.started = time.perf_counter()

    def after_process_message(
        self,
        broker: Broker,
        message: Message,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        outcome = result if isinstance(result, str) else "ok"
        self._record(message, "error" if exception is not None else outcome)

    def after_skip_message(self, broker: Broker, message: Message) -> None:
        self._record(message, "skipped")

    def _record(self, message: Message, outcome: str) -> None:
        started = getattr(self._local, "started", None)
        seconds = time.perf_counter() - started if started is not None else 0.0
        try:
            self.stats.record(message.actor_name, outcome, seconds)
        except Exception:
            # Metrics must never fail a job.
            log.exception("could not record job stats")


class CloseOnWorkerLoop(dramatiq.Middleware):
    """Run `close` on the worker's own event loop for async actors, once its threads
    are done.

    The loop is taken at boot: Dramatiq keeps only the latest worker's loop in a
    global, and a process may run more than one worker (an app under test beside
    another). Add this after Dramatiq's AsyncIO middleware: "after" hooks run in
    reverse order, so this one runs while the loop is still up.
    """

    def __init__(self, close: Callable[[], Awaitable[None]]) -> None:
        self.close = close
        self._thread: EventLoopThread | None = None

    def after_worker_boot(self, broker: Broker, worker: dramatiq.Worker) -> None:
        self._thread = get_event_loop_thread()

    def after_worker_shutdown(self, broker: Broker, worker: dramatiq.Worker) -> None:
        thread, self._thread = self._thread, None
        if thread is not None and thread.loop.is_running():
            thread.run_coroutine(self.close())
