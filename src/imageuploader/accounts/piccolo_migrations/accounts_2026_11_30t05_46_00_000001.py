"""The built-in plans of an existing database get their built-in limits.

A fresh database has no plans yet at this point: the seed, which runs after the
migrations, creates them with their limits. (Piccolo runs a migration's raw
steps before its column changes, hence a migration of its own.)
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T05:46:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "Built-in plan limits"

GIB = 1024**3
BUILTIN_LIMITS = {"Basic": (100, 1 * GIB), "Premium": (1000, 10 * GIB)}


class Plan(Table, tablename="plans", schema=None):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def builtin_limits():
        for name, (images, size) in BUILTIN_LIMITS.items():
            await Plan.raw(
                "UPDATE plans SET max_images = {}, max_bytes = {} "
                "WHERE name = {} AND max_images IS NULL AND max_bytes IS NULL",
                images,
                size,
                name,
            )

    manager.add_raw(builtin_limits)
    return manager
