"""Images record the intermediate's byte count (usage) and the SHA-256 of the upload
(duplicates)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T05:45:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "Image intermediate_bytes and sha256"


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
    manager.add_column(
        table_class_name="Image",
        tablename="images",
        column_name="sha256",
        db_column_name="sha256",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_params(length=64),
        schema=None,
    )
    return manager
