"""Plan limits: max_images, max_bytes, max_upload_bytes (null = unlimited)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt, Integer
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T05:46:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Plan limits"


def _params(default=None) -> dict:
    return {
        "default": default,
        "null": True,
        "primary_key": False,
        "unique": False,
        "index": False,
        "index_method": IndexMethod.btree,
        "choices": None,
        "db_column_name": None,
        "secret": False,
    }


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="accounts", description=DESCRIPTION)
    for name, column_class in (
        ("max_images", Integer),
        ("max_bytes", BigInt),
        ("max_upload_bytes", BigInt),
    ):
        manager.add_column(
            table_class_name="Plan",
            tablename="plans",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=_params(),
            schema=None,
        )
    return manager
