"""Hostile-input fixtures: a small upload limit, and helpers to prove nothing was stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from imageuploader.settings import Settings
from tests.conftest import _reset_database

# Small, so an oversized body is cheap to send; big enough for the animated GIF.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024


@pytest.fixture
async def settings(database_url: str, make_settings: Callable[..., Settings]) -> Settings:
    await _reset_database(database_url)
    return make_settings(DATABASE_URL=database_url, MAX_UPLOAD_BYTES=str(MAX_UPLOAD_BYTES))


def stored_files(settings: Settings) -> list[Path]:
    """Every object the local storage holds (STORAGE_URL defaults to DATA_DIR/media)."""
    root = settings.data_dir / "media"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
