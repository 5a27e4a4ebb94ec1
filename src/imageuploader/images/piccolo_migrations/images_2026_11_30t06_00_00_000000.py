"""One rendition per (image, slug): merge duplicates, then enforce it with a unique index.

Creation ran SELECT then INSERT from several places at once (the reconciler and the
backfill actors), so an image could get two rows for one slug. The ready row is kept
(its object is the one the slug's key names); among equals, the oldest.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-30T06:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Merge duplicate renditions; UNIQUE(image, slug)"

RANK = "CASE WHEN {t}.status = 'ready' THEN 0 ELSE 1 END"

MERGE = f"""
DELETE FROM renditions WHERE id IN (
    SELECT r.id FROM renditions r
    WHERE EXISTS (
        SELECT 1 FROM renditions better
        WHERE better.image = r.image AND better.slug = r.slug
        AND ({RANK.format(t="better")} < {RANK.format(t="r")}
             OR ({RANK.format(t="better")} = {RANK.format(t="r")} AND better.id < r.id))
    )
)
"""

UNIQUE = "CREATE UNIQUE INDEX IF NOT EXISTS renditions_image_slug ON renditions (image, slug)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="images", description=DESCRIPTION)

    async def run():
        # The migration manager runs these in its own transaction.
        engine = engine_finder()
        await engine.run_ddl(MERGE)
        await engine.run_ddl(UNIQUE)

    async def undo():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS renditions_image_slug")

    manager.add_raw(run)
    manager.add_raw_backwards(undo)
    return manager
