"""Turning catalogue sizes into pipeline specs."""

from __future__ import annotations

from collections.abc import Iterable

from imageuploader.accounts.tables import Size
from imageuploader.imaging import SizeSpec


async def specs_for(slugs: Iterable[str]) -> dict[str, SizeSpec]:
    """The SizeSpec of each existing slug (unknown slugs are simply absent)."""
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
