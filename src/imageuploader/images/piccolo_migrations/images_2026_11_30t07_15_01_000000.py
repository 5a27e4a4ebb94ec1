"""Images stored before metadata was removed at upload still hold all of it: say so.

Runs in the same upgrade as the column's migration, before the app serves, so
every row it marks was stored byte for byte."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T07:15:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "images.keep_metadata for images stored before"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="images", description=DESCRIPTION)

    async def mark_existing() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl("UPDATE images SET keep_metadata = TRUE")

    manager.add_raw(mark_existing)
    return manager
