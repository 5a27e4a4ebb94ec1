"""One image per owner and content: a unique index on (owner, sha256).

Older images have no sha256; NULLs never collide. (Piccolo runs a migration's
raw steps before its column changes, hence a migration of its own.)
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.table import Table

ID = "2026-11-30T05:45:01:000001"
VERSION = "1.38.0"
DESCRIPTION = "Unique index on images (owner, sha256)"


class Image(Table, tablename="images", schema=None):
    pass


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="images", description=DESCRIPTION)

    async def owner_sha256_index():
        await Image.raw(
            "CREATE UNIQUE INDEX IF NOT EXISTS images_owner_sha256 ON images (owner, sha256)"
        )

    manager.add_raw(owner_sha256_index)
    return manager
