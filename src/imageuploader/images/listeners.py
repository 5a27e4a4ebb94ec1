"""How image work follows catalogue changes: backfill what a plan change calls for, remake
what a size edit outdates."""

from __future__ import annotations

from imageuploader.accounts.events import PlanGainedSizes, SizeChanged, UserPlanChanged
from imageuploader.events import EventBus
from imageuploader.images import renditions
from imageuploader.images.jobs import Jobs


def subscribe(events: EventBus, jobs: Jobs) -> None:
    """Register the image listeners on the process's event bus (composition root)."""

    async def plan_gained_sizes(event: PlanGainedSizes) -> None:
        await jobs.send(renditions.backfill_plan, event.plan)

    async def user_plan_changed(event: UserPlanChanged) -> None:
        await jobs.send(renditions.backfill_user, event.user_id)

    async def size_changed(event: SizeChanged) -> None:
        await jobs.send(renditions.remake_size, event.slug)

    events.subscribe(PlanGainedSizes, plan_gained_sizes)
    events.subscribe(UserPlanChanged, user_plan_changed)
    events.subscribe(SizeChanged, size_changed)
