"""Built-in plans seeded before formats existed get the built-in formats.

A separate migration because a MigrationManager runs its raw steps before its
column changes. Only rows still at the column default are touched.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-11-30T05:55:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "built-in plans' formats"

BUILTIN_FORMATS = {
    "Premium": "jpeg,webp",
    "Enterprise": "jpeg,webp",
    "Studio": "jpeg,webp,avif",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    async def builtins() -> None:
        from imageuploader.accounts.tables import Plan

        for name, formats in BUILTIN_FORMATS.items():
            await Plan.update({Plan.formats: formats}).where(
                (Plan.name == name) & (Plan.formats == "jpeg")
            )

    manager.add_raw(builtins)
    return manager
