"""One image per owner and content: a unique index on (owner, digest), the SHA-256
of the stored original. Images without a digest (stored before it was kept) never
collide: NULLs are distinct."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T05:46:01:000001"
VERSION = "1.38.0"
DESCRIPTION = "Unique index on images (owner, digest)"


class Image(Table, tablename="images", schema=None):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="images", description=DESCRIPTION)

    async def owner_digest_index():
        await Image.raw(
            "CREATE UNIQUE INDEX IF NOT EXISTS images_owner_digest ON images (owner, digest)"
        )

    manager.add_raw(owner_digest_index)
    return manager
