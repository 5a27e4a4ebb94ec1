from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-30T05:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "Content digest of each stored original and rendition (strong ETag)"

# Rows stored before this migration keep a NULL digest; delivery computes it
# from the stored bytes on first read and saves it.
DIGEST_PARAMS = {
    "length": 64,
    "default": None,
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
    manager = MigrationManager(migration_id=ID, app_name="images", description=DESCRIPTION)
    for class_name, tablename in (("Image", "images"), ("Rendition", "renditions")):
        manager.add_column(
            table_class_name=class_name,
            tablename=tablename,
            column_name="digest",
            db_column_name="digest",
            column_class_name="Varchar",
            column_class=Varchar,
            params=dict(DIGEST_PARAMS),
            schema=None,
        )
    return manager
