"""Piccolo's configuration module: its app registry and the engine in use.

Piccolo finds both by importing this module (PICCOLO_CONF names it) and reading
`APP_REGISTRY` and `DB`. The app, workers and CLI bind their engine through
`imageuploader.db.use_engine`; only Piccolo's own CLI, which binds nothing,
gets an engine built from DATABASE_URL here.
"""

from typing import Any

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(
    apps=[
        "imageuploader.accounts.piccolo_app",
        "imageuploader.images.piccolo_app",
        "imageuploader.webhooks.piccolo_app",
    ]
)


def __getattr__(name: str) -> Any:
    if name != "DB":
        raise AttributeError(name)
    import os

    from imageuploader import db
    from imageuploader.settings import Settings

    return db.bound_engine() or db.engine_for(Settings.from_env(os.environ).database_url)
