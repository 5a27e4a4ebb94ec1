"""Dependency health: 200 when every dependency answers, else 503.

Anonymous callers (load balancers, container probes) learn only `ok` or
`unavailable` per component, from a result shared for a couple of seconds so a
flood of probes cannot turn into a flood of database, Redis and bucket checks.
Why a component is down (hosts, ports, driver messages) goes to the log, and to
admins at /api/admin/health.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable

import anyio
from litestar import Controller, MediaType, Response, get
from litestar.datastructures import State

from imageuploader import db
from imageuploader.container import Services
from imageuploader.web.auth import admin_only

Check = Callable[[], Awaitable[None]]
Results = tuple[bool, dict[str, str]]
# A dependency that does not answer within this is as good as down.
CHECK_TIMEOUT_SECONDS = 5.0
# How long anonymous callers share one round of checks.
CACHE_SECONDS = 2.0
OK, UNAVAILABLE = "ok", "unavailable"

log = logging.getLogger(__name__)


async def run_checks(checks: dict[str, Check]) -> Results:
    """Run every check at once, each under a time limit; name each outcome."""
    results: dict[str, str] = {}

    async def run(name: str, check: Check) -> None:
        try:
            with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
                await check()
            results[name] = OK
        except TimeoutError:
            results[name] = f"error: no answer within {CHECK_TIMEOUT_SECONDS:g}s"
        except Exception as exc:
            results[name] = f"error: {type(exc).__name__}: {exc}"[:300]

    async with anyio.create_task_group() as tg:
        for name, check in checks.items():
            tg.start_soon(run, name, check)
    for name, outcome in sorted(results.items()):
        if outcome != OK:
            log.warning("health: %s is unavailable: %s", name, outcome)
    return all(v == OK for v in results.values()), dict(sorted(results.items()))


class SharedHealth:
    """One round of checks at most every `ttl` seconds; callers meanwhile share it."""

    def __init__(self, ttl: float = CACHE_SECONDS) -> None:
        self.ttl = ttl
        self._lock = anyio.Lock()
        self._at = -math.inf
        self._results: Results = (False, {})

    def _fresh(self) -> bool:
        return time.monotonic() - self._at < self.ttl

    async def results(self, checks: dict[str, Check]) -> Results:
        if not self._fresh():
            async with self._lock:
                if not self._fresh():  # else a caller we waited for has just run them
                    self._results = await run_checks(checks)
                    self._at = time.monotonic()
        return self._results


def dependency_checks(services: Services) -> dict[str, Check]:
    """A check per dependency besides the database; each blocking call runs in a thread
    that is abandoned on timeout, so /health answers even when a dependency hangs."""

    async def storage() -> None:
        await anyio.to_thread.run_sync(services.storage.check, abandon_on_cancel=True)

    async def broker() -> None:
        client = getattr(services.broker, "client", None)
        if client is not None:
            await anyio.to_thread.run_sync(client.ping, abandon_on_cancel=True)

    return {"storage": storage, "broker": broker, "cache": services.cache.ping}


def _checks(state: State) -> dict[str, Check]:
    return {"database": db.ping, **state.get("health_checks", {})}


def _answer(ok: bool, checks: dict[str, str]) -> Response[dict]:
    return Response(
        {"status": OK if ok else UNAVAILABLE, "checks": checks},
        status_code=200 if ok else 503,
        media_type=MediaType.JSON,
    )


class HealthController(Controller):
    path = "/health"
    include_in_schema = True
    tags = ["operations"]

    @get(security=[])
    async def health(self, state: State) -> Response[dict]:
        """`ok` or `unavailable` per dependency; 503 when any is down."""
        shared: SharedHealth = state.health
        ok, results = await shared.results(_checks(state))
        return _answer(ok, {name: OK if v == OK else UNAVAILABLE for name, v in results.items()})


class AdminHealthController(Controller):
    path = "/api/admin/health"
    guards = [admin_only]
    tags = ["admin"]

    @get()
    async def details(self, state: State) -> Response[dict]:
        """Each dependency checked now, with the error of any that is down."""
        return _answer(*await run_checks(_checks(state)))
