"""Plans list their output formats (jpeg always; webp, avif)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T05:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "plans.formats"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)

    manager.add_column(
        table_class_name="Plan",
        tablename="plans",
        column_name="formats",
        db_column_name="formats",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 50,
            "default": "jpeg",
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
