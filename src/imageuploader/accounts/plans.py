"""Plan tiers: which sizes and links a plan's users get; a plan that gains sizes says so."""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import msgspec

from imageuploader.accounts.events import PlanGainedFormats, PlanGainedSizes
from imageuploader.accounts.schemas import PlanIn, PlanOut, PlanPatch
from imageuploader.accounts.tables import Plan, PlanSize, Size, User
from imageuploader.errors import Conflict, InvalidInput, NotFound
from imageuploader.events import EventBus
from imageuploader.imaging import formats as output_formats

if TYPE_CHECKING:
    from imageuploader.accounts.cache import AccountCache


async def list_plans(name: str | None = None) -> list[PlanOut]:
    """All plans (or one) in two queries, whatever their number."""
    query = Plan.select(
        Plan.id,
        Plan.name,
        Plan.original_link,
        Plan.expiring_links,
        Plan.formats,
        Plan.primary_size.slug.as_alias("primary"),
        Plan.max_images,
        Plan.max_bytes,
        Plan.max_upload_bytes,
    ).order_by(Plan.id)
    if name is not None:
        query = query.where(Plan.name == name)
    plans = await query
    links = (
        await PlanSize.select(PlanSize.plan, PlanSize.size.slug.as_alias("slug"))
        .where(PlanSize.plan.is_in([p["id"] for p in plans] or [-1]))
        .order_by(PlanSize.id)
    )
    sizes: dict[int, list[str]] = defaultdict(list)
    for link in links:
        sizes[link["plan"]].append(link["slug"])
    return [
        PlanOut(
            name=p["name"],
            sizes=sizes[p["id"]],
            primary_size=p["primary"],
            max_images=p["max_images"],
            max_bytes=p["max_bytes"],
            max_upload_bytes=p["max_upload_bytes"],
            original_link=p["original_link"],
            expiring_links=p["expiring_links"],
            formats=stored_formats(p["formats"]),
        )
        for p in plans
    ]


async def get_plan(name: str) -> PlanOut:
    found = await list_plans(name)
    if not found:
        raise NotFound(f"No plan named {name!r}.")
    return found[0]


async def _size_ids(slugs: list[str]) -> dict[str, int]:
    if len(set(slugs)) != len(slugs):
        raise InvalidInput("A plan lists each size once.")
    rows = await Size.select(Size.id, Size.slug).where(Size.slug.is_in(slugs or [""]))
    found = {r["slug"]: r["id"] for r in rows}
    missing = [s for s in slugs if s not in found]
    if missing:
        raise InvalidInput(f"Unknown size(s): {', '.join(missing)}.")
    return found


def _primary(sizes: list[str], primary: str | None) -> str:
    if not sizes:
        raise InvalidInput("A plan needs at least one size.")
    if primary is None:
        return sizes[0]
    if primary not in sizes:
        raise InvalidInput(f"The primary size {primary!r} must be one of the plan's sizes.")
    return primary


def stored_formats(column: str | None) -> list[str]:
    """The formats column as a list; an unreadable entry falls back to JPEG alone."""
    try:
        return list(output_formats.normalise(f for f in (column or "").split(",") if f))
    except ValueError:
        return [output_formats.JPEG]


def _formats(formats: list[str]) -> tuple[str, ...]:
    try:
        return output_formats.normalise(formats)
    except ValueError as exc:
        raise InvalidInput(f"formats: {exc}.") from None


def _set(value: object, current: object) -> object:
    return current if value is msgspec.UNSET else value


def _check_upload_limit(value: object, ceiling: int | None) -> None:
    """A plan cannot allow more per upload than the service accepts at all."""
    if isinstance(value, int) and ceiling is not None and value > ceiling:
        raise InvalidInput(
            f"max_upload_bytes: at most {ceiling:,} bytes (MAX_UPLOAD_BYTES); got {value:,}."
        )


class PlanService:
    """Creating, editing and deleting plans; a plan that gains sizes or output formats
    says so (PlanGainedSizes, PlanGainedFormats).

    Every change reaches the account cache (its users' plans) before returning.
    """

    def __init__(
        self, events: EventBus, accounts: AccountCache, max_upload_bytes: int | None = None
    ) -> None:
        self.events = events
        self.accounts = accounts
        # The service-wide ceiling (MAX_UPLOAD_BYTES) for a plan's upload limit.
        self.max_upload_bytes = max_upload_bytes

    async def create(self, data: PlanIn) -> PlanOut:
        _check_upload_limit(data.max_upload_bytes, self.max_upload_bytes)
        primary = _primary(data.sizes, data.primary_size)
        formats = _formats(data.formats)
        ids = await _size_ids(data.sizes)
        if await Plan.exists().where(Plan.name == data.name):
            raise Conflict(f"A plan named {data.name!r} already exists.")
        async with Plan._meta.db.transaction():
            plan = Plan(
                name=data.name,
                original_link=data.original_link,
                expiring_links=data.expiring_links,
                primary_size=ids[primary],
                formats=",".join(formats),
                max_images=data.max_images,
                max_bytes=data.max_bytes,
                max_upload_bytes=data.max_upload_bytes,
            )
            await plan.save()
            await PlanSize.insert(*(PlanSize(plan=plan.id, size=ids[s]) for s in data.sizes))
        await self.accounts.changed()
        return await get_plan(data.name)

    async def update(self, name: str, data: PlanPatch) -> PlanOut:
        """Apply a partial change."""
        _check_upload_limit(data.max_upload_bytes, self.max_upload_bytes)
        current = await get_plan(name)
        plan_id = (await Plan.select(Plan.id).where(Plan.name == name).first())["id"]
        new_name = _set(data.name, current.name)
        sizes = current.sizes if data.sizes is msgspec.UNSET else data.sizes
        if data.primary_size is not msgspec.UNSET:
            primary = _primary(sizes, data.primary_size)
        elif current.primary_size in sizes:
            primary = _primary(sizes, current.primary_size)
        else:
            primary = _primary(sizes, None)
        formats = _formats(current.formats if data.formats is msgspec.UNSET else data.formats)
        ids = await _size_ids(sizes)
        if new_name != name and await Plan.exists().where(Plan.name == new_name):
            raise Conflict(f"A plan named {new_name!r} already exists.")
        values = {
            Plan.name: new_name,
            Plan.primary_size: ids[primary],
            Plan.original_link: _set(data.original_link, current.original_link),
            Plan.expiring_links: _set(data.expiring_links, current.expiring_links),
            Plan.formats: ",".join(formats),
            Plan.max_images: _set(data.max_images, current.max_images),
            Plan.max_bytes: _set(data.max_bytes, current.max_bytes),
            Plan.max_upload_bytes: _set(data.max_upload_bytes, current.max_upload_bytes),
        }
        gained = [s for s in sizes if s not in current.sizes]
        lost = [s for s in current.sizes if s not in sizes]
        async with Plan._meta.db.transaction():
            await Plan.update(values).where(Plan.id == plan_id)
            if lost:
                lost_ids = [
                    r["id"] for r in await Size.select(Size.id).where(Size.slug.is_in(lost))
                ]
                await PlanSize.delete().where(
                    (PlanSize.plan == plan_id) & PlanSize.size.is_in(lost_ids)
                )
            if gained:
                await PlanSize.insert(*(PlanSize(plan=plan_id, size=ids[s]) for s in gained))
        await self.accounts.changed()
        updated = await get_plan(str(new_name))
        if gained:
            await self.events.publish(PlanGainedSizes(updated.name, tuple(gained)))
        new_formats = tuple(f for f in formats if f not in current.formats)
        if new_formats:
            await self.events.publish(PlanGainedFormats(updated.name, new_formats))
        return updated

    async def delete(self, name: str) -> None:
        plan = await Plan.select(Plan.id).where(Plan.name == name).first()
        if plan is None:
            raise NotFound(f"No plan named {name!r}.")
        holders = await User.count().where(User.plan == plan["id"])
        if holders:
            raise Conflict(
                f"Plan {name!r} is held by {holders} user(s); move them to another plan first."
            )
        async with Plan._meta.db.transaction():
            # SQLite may run without foreign-key enforcement: clear the links ourselves.
            await PlanSize.delete().where(PlanSize.plan == plan["id"])
            await Plan.delete().where(Plan.id == plan["id"])
        await self.accounts.changed()
