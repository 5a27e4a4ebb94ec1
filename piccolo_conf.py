"""Piccolo's configuration module: its app registry and (lazily) its engine.

Piccolo's CLI finds the engine as `piccolo_conf.DB`. The app binds it
explicitly from its Settings (imageuploader.db.use_engine); only the Piccolo
CLI falls back to reading DATABASE_URL, and only when it asks for DB.
"""

from typing import Any

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(
    apps=[
        "imageuploader.accounts.piccolo_app",
        "imageuploader.images.piccolo_app",
    ]
)


def __getattr__(name: str) -> Any:
    if name != "DB":
        raise AttributeError(name)
    import os

    from imageuploader.db import engine_for
    from imageuploader.settings import Settings

    engine = engine_for(Settings.from_env(os.environ).database_url)
    globals()["DB"] = engine
    return engine
