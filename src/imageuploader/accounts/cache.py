"""Who a token or a session belongs to, cached in this process, checked against a shared generation.

Authentication runs on every request, so its answers (token -> user, user ->
CurrentUser with the plan, the plan catalogue) are kept in memory. Every
change to any of them (a token revoked, a user edited, deactivated or given a
new password, a plan edited) moves one generation counter on, after the change
is committed. Each lookup first reads that counter (one Redis GET when the
processes share a Redis, a plain attribute in a single embedded process), and
an entry is served only if it was made under the generation just read. So a
change takes effect on the next request in every process, and a request that
races a change can only store an entry under a generation already past.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from redis.exceptions import RedisError

from imageuploader import prefetch
from imageuploader.accounts import plans, tokens, users
from imageuploader.accounts.schemas import PlanOut
from imageuploader.accounts.users import CurrentUser
from imageuploader.redis_clients import PerLoopRedis
from imageuploader.redis_watch import WatchedKeys

log = logging.getLogger(__name__)

GENERATION_KEY = "imageuploader:accounts:generation"
MAX_ENTRIES = 10_000
# How stale a token's `last_used_at` may get: a write per request would cost
# more than the whole cached lookup.
TOUCH_EVERY_SECONDS = 60.0
# Entries are dropped this often whatever the generation says: a bound on
# staleness should a change ever fail to move the generation on.
MAX_AGE_SECONDS = 300.0


class Generation(Protocol):
    """A counter every process of one deployment reads and moves on."""

    async def read(self, user_hint: int | None = None) -> int: ...
    async def bump(self) -> None: ...
    async def close(self) -> None: ...


class LocalGeneration:
    """One process is the whole deployment (the embedded default without Redis)."""

    def __init__(self) -> None:
        self.value = 0

    async def read(self, user_hint: int | None = None) -> int:
        return self.value

    async def bump(self) -> None:
        self.value += 1

    async def close(self) -> None:
        return None


class RedisGeneration:
    """Shared by every web process."""

    def __init__(
        self,
        url: str,
        read_along: Callable[[int], list[str]] | None = None,
        watch: WatchedKeys | None = None,
    ) -> None:
        self.url = url
        # With a watch, reads are answered from memory while Redis vouches for them.
        self.watch = watch
        # Keys the request will want next for a given user (the image cache's
        # generation), read in the same round trip: see `prefetch`.
        self.read_along = read_along
        self._redis = PerLoopRedis(url)

    async def read(self, user_hint: int | None = None) -> int:
        """The generation; with `user_hint`, that user's other keys are read along."""
        if self.watch is not None:
            known, value = self.watch.recall(GENERATION_KEY)
            if known:
                # Whatever else the request needs is most likely kept by the watch too.
                return int(value or 0)
        extra = self.read_along(user_hint) if user_hint is not None and self.read_along else []
        keys = [GENERATION_KEY, *extra]
        client = self._redis.client()
        if self.watch is not None:
            values = await self.watch.mget(client, keys)
        else:
            values = await client.mget(keys)
        if extra:
            prefetch.remember(dict(zip(extra, values[1:], strict=True)))
        return int(values[0] or 0)

    async def bump(self) -> None:
        prefetch.changed()
        await self._redis.client().incr(GENERATION_KEY)

    async def close(self) -> None:
        """Close this loop's client and watch (the lifespan's)."""
        if self.watch is not None:
            await self.watch.close()
        await self._redis.close()


class AccountCache:
    """Token, user and plan lookups for authentication, each valid for one generation."""

    def __init__(self, generation: Generation, max_entries: int = MAX_ENTRIES) -> None:
        self.generation = generation
        self.max_entries = max_entries
        self._seen: int | None = None
        self._since = time.monotonic()
        self._tokens: dict[str, tuple[int, int, int]] = {}  # digest -> (gen, user id, token id)
        self._users: dict[int, tuple[int, CurrentUser | None]] = {}
        self._plans: tuple[int, dict[str, PlanOut]] | None = None
        self._touched: dict[int, float] = {}

    async def _current(self, user_hint: int | None = None) -> int | None:
        """The shared generation, or None when it cannot be read (then nothing is cached:
        the database answers, as it would without a cache). `user_hint`: the user this
        request is likely about, whose other keys may be read in the same round trip."""
        try:
            found = await self.generation.read(user_hint)
        except (RedisError, OSError) as exc:
            log.warning("account cache generation unreadable, asking the database: %s", exc)
            return None
        if found != self._seen or time.monotonic() - self._since > MAX_AGE_SECONDS:
            self._seen = found
            self._since = time.monotonic()
            self._tokens.clear()
            self._users.clear()
            self._plans = None
        return found

    async def changed(self) -> None:
        """Call after committing any change to tokens, users or plans. A failure is raised:
        the caller must not report success while other processes may still honour the
        old state (they would for at most MAX_AGE_SECONDS)."""
        await self.generation.bump()

    async def close(self) -> None:
        await self.generation.close()

    async def for_token(self, raw: str) -> tuple[CurrentUser, int] | None:
        """The active user a live token belongs to, with the token's id."""
        digest = tokens.hash_token(raw)
        hit = self._tokens.get(digest)
        gen = await self._current(hit[1] if hit is not None else None)
        if gen is not None and hit is not None and hit[0] == gen:
            user_id, token_id = hit[1], hit[2]
        else:
            found = await tokens.live_token(digest)
            if found is None:
                return None
            token_id, user_id = found
            if gen is not None:
                self._keep(self._tokens, digest, (gen, user_id, token_id))
        user = await self._user(user_id, gen)
        if user is None:
            return None
        await self._touch(token_id)
        return user, token_id

    async def user(self, user_id: int) -> CurrentUser | None:
        """The active user with this id and their plan, or None."""
        return await self._user(user_id, await self._current(user_id))

    async def _user(self, user_id: int, gen: int | None) -> CurrentUser | None:
        hit = self._users.get(user_id)
        if gen is not None and hit is not None and hit[0] == gen:
            return hit[1]
        user = await users.load_user(user_id, await self._catalogue(gen))
        if gen is not None:
            self._keep(self._users, user_id, (gen, user))
        return user

    async def _catalogue(self, gen: int | None) -> Mapping[str, PlanOut]:
        if gen is not None and self._plans is not None and self._plans[0] == gen:
            return self._plans[1]
        found = {p.name: p for p in await plans.list_plans()}
        if gen is not None:
            self._plans = (gen, found)
        return found

    async def _touch(self, token_id: int) -> None:
        now = time.monotonic()
        if now - self._touched.get(token_id, -TOUCH_EVERY_SECONDS) < TOUCH_EVERY_SECONDS:
            return
        self._keep(self._touched, token_id, now)
        await tokens.touch(token_id)

    def _keep(self, entries: dict, key: object, value: object) -> None:
        # A crude bound: whoever fills it (a token-guessing flood cannot: misses are
        # not stored) starts it over; live users refill it in one request each.
        if len(entries) >= self.max_entries:
            entries.clear()
        entries[key] = value
