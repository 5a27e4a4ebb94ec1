"""Piccolo app registration for the image tables and migrations."""

import os

from piccolo.conf.apps import AppConfig

from imageuploader.images.tables import Image, PendingDeletion, Rendition

APP_CONFIG = AppConfig(
    app_name="images",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Image, Rendition, PendingDeletion],
    migration_dependencies=["imageuploader.accounts.piccolo_app"],
    commands=[],
)
