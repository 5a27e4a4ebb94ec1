"""With Redis, the owner's cache generation comes with the accounts generation (one
round trip, remembered only by the request), and while Redis's invalidations are
watched a warm read asks Redis nothing; a change is seen at once either way."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio
from litestar import Litestar
from litestar.testing import AsyncTestClient

from imageuploader import prefetch

from .conftest import run_workers, upload


async def test_a_value_is_recalled_by_its_own_task_until_a_change() -> None:
    prefetch.remember({"k": b"7"})
    assert prefetch.recall("k") == (True, b"7")
    assert prefetch.recall("other") == (False, None)

    async def elsewhere() -> tuple[bool, bytes | None]:
        return prefetch.recall("k")

    # A task started now inherits the context, but it is not the request that read it.
    assert await asyncio.create_task(elsewhere()) == (False, None)
    prefetch.changed()
    assert prefetch.recall("k") == (False, None)


@pytest.mark.parametrize("cache_url", ["redis"], indirect=True)
async def test_a_warm_media_read_asks_redis_nothing_while_watched(
    app: Litestar,
    client: AsyncTestClient,
    make_user: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice = await make_user("alice", "Enterprise")
    image = await upload(client, alice)
    await run_workers(app)
    media = f"/media/{image['id']}/h200"
    first = await client.get(media, headers=alice)
    assert first.status_code == 200, first.text

    commands: list[str] = []
    real = redis.asyncio.Redis.execute_command

    async def counted(self: Any, *args: Any, **options: Any) -> Any:
        commands.append(str(args[0]))
        return await real(self, *args, **options)

    monkeypatch.setattr(redis.asyncio.Redis, "execute_command", counted)
    watch = app.state.services.accounts.generation.watch
    for _ in range(200):  # the watch connects in the background
        if watch.watcher().live:
            break
        await asyncio.sleep(0.01)
    assert watch.watcher().live
    await client.get(media, headers=alice)  # the generations, read under the watch
    commands.clear()
    again = await client.get(media, headers=alice)
    assert again.content == first.content
    assert commands == []

    # A change is seen at once: the next read asks again and gets the new generation.
    assert (await client.delete(f"/api/images/{image['id']}", headers=alice)).status_code == 204
    assert (await client.get(media, headers=alice)).status_code == 404
