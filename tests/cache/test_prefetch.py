"""With Redis, a warm read asks Redis once: the owner's cache generation comes with
the accounts generation, and never outlives the request or a change."""

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
async def test_a_warm_media_read_is_one_redis_round_trip(
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
    again = await client.get(media, headers=alice)
    assert again.content == first.content
    assert commands == ["MGET"]

    # A change is seen at once: the next read asks again and gets the new generation.
    assert (await client.delete(f"/api/images/{image['id']}", headers=alice)).status_code == 204
    assert (await client.get(media, headers=alice)).status_code == 404
