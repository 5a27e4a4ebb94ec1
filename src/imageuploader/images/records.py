"""Typed rows: what leaves the persistence layer about images and renditions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import datetime
from enum import StrEnum
from typing import Any, Self


class RenditionStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"
    FAILED = "failed"

    @property
    def done(self) -> bool:
        return self is not RenditionStatus.PENDING


def _from_row(cls: type, row: dict[str, Any]) -> Any:
    return cls(**{f.name: row[f.name] for f in fields(cls)})


@dataclass(frozen=True, slots=True)
class ImageRecord:
    """One uploaded original; `location` is the bucket (or local root) holding its objects."""

    id: uuid.UUID
    owner: int
    caption: str
    width: int
    height: int
    format: str
    mime_type: str
    bytes: int
    location: str
    original_key: str
    intermediate_key: str | None
    created_at: datetime
    digest: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        record: Self = _from_row(cls, row)
        return record

    @property
    def ident(self) -> str:
        """The id as it appears in URLs and object keys."""
        return str(self.id)


@dataclass(frozen=True, slots=True)
class RenditionRecord:
    """One resized copy of an image for one size slug."""

    id: int
    image: uuid.UUID
    slug: str
    status: RenditionStatus
    width: int | None
    height: int | None
    bytes: int | None
    format: str | None
    key: str | None
    error: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    digest: str | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        record: Self = _from_row(cls, {**row, "status": RenditionStatus(row["status"])})
        return record
