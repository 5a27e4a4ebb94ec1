"""images.keep_metadata: whether the stored original kept its location and device metadata."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Boolean
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T07:15:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "images.keep_metadata"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="images", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Image",
        tablename="images",
        column_name="keep_metadata",
        db_column_name="keep_metadata",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )
    return manager
