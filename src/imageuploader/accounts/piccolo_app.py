"""Piccolo app registration for the accounts tables and migrations."""

import os

from piccolo.conf.apps import AppConfig

from imageuploader.accounts.tables import ApiToken, Plan, PlanSize, Size, User

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Size, Plan, PlanSize, User, ApiToken],
    migration_dependencies=[],
    commands=[],
)
