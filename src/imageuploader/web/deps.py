"""Dependency providers: the services handlers name as parameters, one instance per process."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from types import TracebackType
from typing import Any

from litestar.di import Provide
from litestar.stores.base import Store

from imageuploader.container import Services


class ServiceSlot:
    """The services and stores an app serves with. Providers, middleware, stores and
    the lifespan look here when they run, not when the app is built, so one built app
    can be pointed at fresh services of the same settings (`app.rebind`): building a
    Litestar app costs about 0.15 s of CPU, more than most tests take."""

    __slots__ = ("services", "stores")

    def __init__(self, services: Services, stores: dict[str, Store]) -> None:
        self.services = services
        self.stores = stores


class SlotStore(Store):
    """The store the app registers under `name`: the slot's current one. The app opens
    and closes it with its lifespan, as it would the store itself."""

    def __init__(self, slot: ServiceSlot, name: str) -> None:
        self.slot = slot
        self.name = name

    @property
    def current(self) -> Store:
        return self.slot.stores[self.name]

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        await self.current.set(key, value, expires_in)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        return await self.current.get(key, renew_for)

    async def delete(self, key: str) -> None:
        await self.current.delete(key)

    async def delete_all(self) -> None:
        await self.current.delete_all()

    async def exists(self, key: str) -> bool:
        return await self.current.exists(key)

    async def expires_in(self, key: str) -> int | None:
        return await self.current.expires_in(key)

    async def __aenter__(self) -> None:
        await self.current.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.current.__aexit__(exc_type, exc_val, exc_tb)


def _provider(slot: ServiceSlot, field: str) -> Callable[[], Any]:
    def provide() -> Any:
        return getattr(slot.services, field)

    return provide


# Handler parameter name -> the Services field it receives.
PROVIDED = {
    "images": "images",
    "uploads": "uploads",
    "media": "media",
    "links": "links",
    "user_service": "users",
    "plan_service": "plans",
    "size_service": "sizes",
    "accounts": "accounts",
    "webhooks": "webhooks",
}


def dependencies(slot: ServiceSlot) -> dict[str, Provide]:
    """Handler parameter name -> a provider of the service it receives."""
    return {
        name: Provide(_provider(slot, field), sync_to_thread=False)
        for name, field in PROVIDED.items()
    }
