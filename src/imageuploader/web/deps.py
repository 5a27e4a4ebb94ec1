"""Dependency providers: the services handlers name as parameters, one instance per process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.di import Provide

from imageuploader.container import Services


def _constant(value: Any) -> Callable[[], Any]:
    def provide() -> Any:
        return value

    return provide


def dependencies(services: Services) -> dict[str, Provide]:
    """Handler parameter name -> the service it receives."""
    provided = {
        "images": services.images,
        "uploads": services.uploads,
        "media": services.media,
        "links": services.links,
        "user_service": services.users,
        "plan_service": services.plans,
        "size_service": services.sizes,
        "accounts": services.accounts,
        "webhooks": services.webhooks,
    }
    return {
        name: Provide(_constant(value), sync_to_thread=False) for name, value in provided.items()
    }
