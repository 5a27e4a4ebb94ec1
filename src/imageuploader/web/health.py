"""Liveness and dependency health: 200 when every dependency answers, else 503."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
from litestar import Controller, MediaType, Response, get
from litestar.datastructures import State

from imageuploader import db
from imageuploader.container import Services

Check = Callable[[], Awaitable[None]]
# A dependency that does not answer within this is as good as down.
CHECK_TIMEOUT_SECONDS = 5.0


async def run_checks(checks: dict[str, Check]) -> tuple[bool, dict[str, str]]:
    """Run every check at once, each under a time limit; name each outcome."""
    results: dict[str, str] = {}

    async def run(name: str, check: Check) -> None:
        try:
            with anyio.fail_after(CHECK_TIMEOUT_SECONDS):
                await check()
            results[name] = "ok"
        except TimeoutError:
            results[name] = f"error: no answer within {CHECK_TIMEOUT_SECONDS:g}s"
        except Exception as exc:
            results[name] = f"error: {type(exc).__name__}: {exc}"[:300]

    async with anyio.create_task_group() as tg:
        for name, check in checks.items():
            tg.start_soon(run, name, check)
    return all(v == "ok" for v in results.values()), dict(sorted(results.items()))


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


class HealthController(Controller):
    path = "/health"
    include_in_schema = True
    tags = ["operations"]

    @get(security=[])
    async def health(self, state: State) -> Response[dict]:
        """Report each dependency; 503 when any is down."""
        checks: dict[str, Check] = {"database": db.ping, **state.get("health_checks", {})}
        ok, results = await run_checks(checks)
        return Response(
            {"status": "ok" if ok else "unavailable", "checks": results},
            status_code=200 if ok else 503,
            media_type=MediaType.JSON,
        )
