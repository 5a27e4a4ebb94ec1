"""Seeding: built-in catalogue present, seeding twice changes nothing, edits survive."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from imageuploader.accounts.seed import seed
from imageuploader.accounts.tables import Plan, PlanSize, Size, User
from imageuploader.settings import Settings


async def _snapshot() -> dict:
    return {
        "sizes": await Size.select().order_by(Size.id),
        "plans": await Plan.select().order_by(Plan.id),
        "links": await PlanSize.select().order_by(PlanSize.id),
        "users": await User.select(User.id, User.username, User.password).order_by(User.id),
    }


async def test_builtin_catalogue(client: AsyncTestClient, admin_headers) -> None:
    sizes = (await client.get("/api/admin/sizes", headers=admin_headers)).json()
    assert {s["slug"]: (s["width"], s["height"]) for s in sizes} == {
        "h200": (None, 200),
        "h400": (None, 400),
        "very-high": (1024, 1024),
        "high": (1024, 786),
        "medium": (786, 786),
        "low": (124, 124),
    }
    plans = {
        p["name"]: p for p in (await client.get("/api/admin/plans", headers=admin_headers)).json()
    }
    assert plans["Basic"]["sizes"] == ["h200"] and not plans["Basic"]["original_link"]
    assert plans["Premium"]["original_link"] and not plans["Premium"]["expiring_links"]
    assert plans["Enterprise"]["expiring_links"]
    assert plans["Studio"]["sizes"] == ["very-high", "high", "medium", "low"]
    assert plans["Studio"]["primary_size"] == "high"


async def test_seeding_twice_changes_nothing(client: AsyncTestClient, settings: Settings) -> None:
    before = await _snapshot()
    await seed(settings)
    await seed(settings)
    assert await _snapshot() == before


async def test_seeding_keeps_admin_edits(
    client: AsyncTestClient, settings: Settings, admin_headers
) -> None:
    await client.patch(
        "/api/admin/plans/Basic", json={"original_link": True}, headers=admin_headers
    )
    await client.patch("/api/admin/sizes/h200", json={"height": 180}, headers=admin_headers)
    await seed(settings)
    assert (await Plan.select(Plan.original_link).where(Plan.name == "Basic").first())[
        "original_link"
    ]
    assert (await Size.select(Size.height).where(Size.slug == "h200").first())["height"] == 180
