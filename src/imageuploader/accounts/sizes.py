"""Rendition sizes: the admin-editable boxes (and fits) that plans are made of."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from imageuploader.accounts.events import SizeChanged
from imageuploader.accounts.schemas import SizeIn, SizeOut, SizePatch
from imageuploader.accounts.tables import PlanSize, Size
from imageuploader.errors import Conflict, InvalidInput, NotFound
from imageuploader.events import EventBus
from imageuploader.imaging import SizeSpec

RESERVED_SLUGS = frozenset({"original"})


def _size_out(row: dict) -> SizeOut:
    return SizeOut(slug=row["slug"], width=row["width"], height=row["height"], fit=row["fit"])


def _check_box(width: int | None, height: int | None) -> None:
    if width is None and height is None:
        raise InvalidInput("A size needs a width, a height, or both.")


async def list_sizes() -> list[SizeOut]:
    rows = await Size.select(Size.slug, Size.width, Size.height, Size.fit).order_by(Size.id)
    return [_size_out(r) for r in rows]


async def get_size(slug: str) -> SizeOut:
    row = (
        await Size.select(Size.slug, Size.width, Size.height, Size.fit)
        .where(Size.slug == slug)
        .first()
    )
    if row is None:
        raise NotFound(f"No size named {slug!r}.")
    return _size_out(row)


async def specs_for(slugs: Iterable[str]) -> dict[str, SizeSpec]:
    """The pipeline's SizeSpec of each existing slug (unknown slugs are simply absent)."""
    wanted = list(slugs)
    if not wanted:
        return {}
    rows = await Size.select(Size.slug, Size.width, Size.height, Size.fit).where(
        Size.slug.is_in(wanted)
    )
    return {
        r["slug"]: SizeSpec(slug=r["slug"], width=r["width"], height=r["height"], fit=r["fit"])
        for r in rows
    }


class SizeService:
    """Creating, editing and deleting sizes; an edit is published as SizeChanged."""

    def __init__(self, events: EventBus) -> None:
        self.events = events

    async def create(self, data: SizeIn) -> SizeOut:
        if data.slug in RESERVED_SLUGS:
            raise InvalidInput(f"{data.slug!r} is reserved for the original image.")
        _check_box(data.width, data.height)
        if await Size.exists().where(Size.slug == data.slug):
            raise Conflict(f"A size named {data.slug!r} already exists.")
        await Size.insert(Size(slug=data.slug, width=data.width, height=data.height, fit=data.fit))
        return await get_size(data.slug)

    async def update(self, slug: str, data: SizePatch) -> SizeOut:
        current = await get_size(slug)
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        _check_box(changes.get("width", current.width), changes.get("height", current.height))
        if changes:
            await Size.update({getattr(Size, k): v for k, v in changes.items()}).where(
                Size.slug == slug
            )
        updated = await get_size(slug)
        if updated != current:
            await self.events.publish(SizeChanged(slug))
        return updated

    async def delete(self, slug: str) -> None:
        size = await Size.select(Size.id).where(Size.slug == slug).first()
        if size is None:
            raise NotFound(f"No size named {slug!r}.")
        plans = await PlanSize.select(PlanSize.plan.name).where(PlanSize.size == size["id"])
        if plans:
            names = ", ".join(sorted(p["plan.name"] for p in plans))
            raise Conflict(f"Size {slug!r} is used by plan(s) {names}; remove it from them first.")
        await Size.delete().where(Size.id == size["id"])
