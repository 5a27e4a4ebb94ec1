"""Images record the intermediate's byte count, for their owner's usage."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T05:46:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Image intermediate_bytes"


def _params(**extra) -> dict:
    return {
        "default": None,
        "null": True,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
        **extra,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="images", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Image",
        tablename="images",
        column_name="intermediate_bytes",
        db_column_name="intermediate_bytes",
        column_class_name="BigInt",
        column_class=BigInt,
        params=_params(),
        schema=None,
    )
    return manager
