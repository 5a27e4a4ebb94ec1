"""Image placeholders (ThumbHash) and rendition variants in extra output formats."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    BigInt,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-11-30T06:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "images.placeholder, rendition_variants"


class Rendition(Table, tablename="renditions", schema=None):
    id = Serial(
        null=False,
        primary_key=True,
        unique=False,
        index=False,
        index_method=IndexMethod.btree,
        choices=None,
        db_column_name="id",
        secret=False,
    )


def _params(**extra):
    return {
        "null": False,
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
        column_name="placeholder",
        db_column_name="placeholder",
        column_class_name="Varchar",
        column_class=Varchar,
        params=_params(length=64, default=None, null=True),
        schema=None,
    )

    manager.add_table(
        class_name="Variant", tablename="rendition_variants", schema=None, columns=None
    )
    columns = [
        (
            "rendition",
            ForeignKey,
            _params(
                references=Rendition,
                on_delete=OnDelete.cascade,
                on_update=OnUpdate.cascade,
                target_column=None,
                null=True,
                index=True,
            ),
        ),
        ("format", Varchar, _params(length=10, default="")),
        ("status", Varchar, _params(length=10, default="pending", index=True)),
        ("bytes", BigInt, _params(default=None, null=True)),
        ("key", Varchar, _params(length=200, default=None, null=True)),
        ("digest", Varchar, _params(length=64, default=None, null=True)),
        ("error", Text, _params(default=None, null=True)),
        ("attempts", Integer, _params(default=0)),
        ("created_at", Timestamptz, _params(default=TimestamptzNow())),
        ("updated_at", Timestamptz, _params(default=TimestamptzNow())),
    ]
    for name, column_class, params in columns:
        manager.add_column(
            table_class_name="Variant",
            tablename="rendition_variants",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=params,
            schema=None,
        )

    return manager
