"""One variant per (rendition, format): merge duplicates, then enforce it with a unique index.

Backfills ran SELECT then INSERT at once (a plan edit and a user's change of plan), so a
rendition could get two rows for one format. The ready row is kept (its object is the one
the format's key names); among equals, the oldest.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T07:21:13:000000"
VERSION = "1.38.0"
DESCRIPTION = "Merge duplicate rendition variants; UNIQUE(rendition, format)"

RANK = "CASE WHEN {t}.status = 'ready' THEN 0 ELSE 1 END"

MERGE = f"""
DELETE FROM rendition_variants WHERE id IN (
    SELECT v.id FROM rendition_variants v
    WHERE EXISTS (
        SELECT 1 FROM rendition_variants better
        WHERE better.rendition = v.rendition AND better.format = v.format
        AND ({RANK.format(t="better")} < {RANK.format(t="v")}
             OR ({RANK.format(t="better")} = {RANK.format(t="v")} AND better.id < v.id))
    )
)
"""

UNIQUE = (
    "CREATE UNIQUE INDEX IF NOT EXISTS rendition_variants_rendition_format "
    "ON rendition_variants (rendition, format)"
)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="images", description=DESCRIPTION)

    async def run():
        # The migration manager runs these in its own transaction.
        engine = engine_finder()
        await engine.run_ddl(MERGE)
        await engine.run_ddl(UNIQUE)

    async def undo():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS rendition_variants_rendition_format")

    manager.add_raw(run)
    manager.add_raw_backwards(undo)
    return manager
