"""Piccolo app registration for the webhook tables and migrations."""

import os

from piccolo.conf.apps import AppConfig

from imageuploader.webhooks.tables import Webhook, WebhookAttempt, WebhookMessage

APP_CONFIG = AppConfig(
    app_name="webhooks",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[Webhook, WebhookMessage, WebhookAttempt],
    migration_dependencies=["imageuploader.accounts.piccolo_app"],
    commands=[],
)
