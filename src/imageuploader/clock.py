"""The one clock: timezone-aware UTC, so every stored and compared time agrees."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    """Now, in UTC, timezone-aware (never a naive local time)."""
    return datetime.now(UTC)
