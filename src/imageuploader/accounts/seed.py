"""Idempotent seeding of the built-in sizes, plans and the first admin."""

from __future__ import annotations

import logging

import anyio

from imageuploader.accounts.tables import Plan, PlanSize, Size, User
from imageuploader.settings import DEFAULT_ADMIN_PASSWORD, Settings

log = logging.getLogger(__name__)

# slug: (width, height, fit); a missing side is free.
BUILTIN_SIZES: dict[str, tuple[int | None, int | None, str]] = {
    "h200": (None, 200, "contain"),
    "h400": (None, 400, "contain"),
    "very-high": (1024, 1024, "contain"),
    "high": (1024, 786, "contain"),
    "medium": (786, 786, "contain"),
    "low": (124, 124, "contain"),
}

# name: (sizes, primary, original link, expiring links)
BUILTIN_PLANS: dict[str, tuple[list[str], str, bool, bool]] = {
    "Basic": (["h200"], "h200", False, False),
    "Premium": (["h200", "h400"], "h200", True, False),
    "Enterprise": (["h200", "h400"], "h200", True, True),
    "Studio": (["very-high", "high", "medium", "low"], "high", True, True),
}

GIB = 1024**3
# name: (max_images, max_bytes, max_upload_bytes); None is unlimited.
BUILTIN_LIMITS: dict[str, tuple[int | None, int | None, int | None]] = {
    "Basic": (100, 1 * GIB, None),
    "Premium": (1000, 10 * GIB, None),
    "Enterprise": (None, None, None),
    "Studio": (None, None, None),
}

ADMIN_PLAN = "Enterprise"


async def seed_catalog() -> None:
    """Create missing built-in sizes and plans; never overwrite an admin's edits."""
    # Every start runs this: a few queries in all, not one per built-in row.
    existing = {r["slug"] for r in await Size.select(Size.slug)}
    missing = [
        Size(slug=slug, width=width, height=height, fit=fit)
        for slug, (width, height, fit) in BUILTIN_SIZES.items()
        if slug not in existing
    ]
    if missing:
        await Size.insert(*missing)
    ids = {r["slug"]: r["id"] for r in await Size.select(Size.id, Size.slug)}
    plans = {r["name"] for r in await Plan.select(Plan.name)}
    for name, (sizes, primary, original, expiring) in BUILTIN_PLANS.items():
        if name in plans:
            continue
        if not all(s in ids for s in sizes):
            log.warning("not seeding plan %s: one of its sizes was deleted", name)
            continue
        max_images, max_bytes, max_upload_bytes = BUILTIN_LIMITS[name]
        async with Plan._meta.db.transaction():
            plan = Plan(
                name=name,
                original_link=original,
                expiring_links=expiring,
                primary_size=ids[primary],
                max_images=max_images,
                max_bytes=max_bytes,
                max_upload_bytes=max_upload_bytes,
            )
            await plan.save()
            await PlanSize.insert(*(PlanSize(plan=plan.id, size=ids[s]) for s in sizes))


async def seed_admin(settings: Settings) -> None:
    """Create the configured admin on first start; an existing one is left alone."""
    if await User.exists().where(User.username == settings.admin_username):
        return
    plan = await Plan.select(Plan.id).where(Plan.name == ADMIN_PLAN).first()
    # Hash directly: BaseUser's validation would refuse the 5-letter default.
    password = await anyio.to_thread.run_sync(User.hash_password, settings.admin_password)
    await User(
        username=settings.admin_username,
        password=password,
        admin=True,
        superuser=True,
        active=True,
        plan=plan["id"] if plan else None,
    ).save()
    if settings.admin_password == DEFAULT_ADMIN_PASSWORD:
        log.warning(
            "created admin %r with the default password 'admin'; change it "
            "(ADMIN_PASSWORD, or PATCH /api/admin/users/%s)",
            settings.admin_username,
            settings.admin_username,
        )


async def seed(settings: Settings) -> None:
    await seed_catalog()
    await seed_admin(settings)
