"""Dependency providers and the hooks controllers call after a state change."""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class PlanEvents:
    """What happens after plans change; the image service overrides these hooks.

    The base class does nothing, which is right while no image is stored.
    """

    async def plan_gained_sizes(self, plan_name: str, slugs: list[str]) -> None:
        log.info("plan %s gained sizes %s", plan_name, slugs)

    async def user_plan_changed(self, user_id: int) -> None:
        log.info("user %s changed plan", user_id)
