"""Piccolo tables for images and their renditions."""

from __future__ import annotations

from piccolo.columns import (
    UUID,
    BigInt,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from imageuploader.accounts.tables import User
from imageuploader.images.records import RenditionStatus


class Image(Table, tablename="images"):
    """An uploaded original; `location` is the bucket (or local root) it lives in."""

    id = UUID(primary_key=True)
    owner = ForeignKey(User, on_delete=OnDelete.cascade, index=True)
    caption = Text(default="")
    width = Integer()
    height = Integer()
    format = Varchar(length=10)
    mime_type = Varchar(length=50)
    bytes = BigInt()
    location = Varchar(length=100)
    original_key = Varchar(length=200)
    # A decoded, downsized copy that lets workers skip decoding the original.
    intermediate_key = Varchar(length=200, null=True, default=None)
    # Counted in the owner's usage; null on images stored before it was recorded.
    intermediate_bytes = BigInt(null=True, default=None)
    created_at = Timestamptz(index=True)
    # SHA-256 of the stored original, taken when it is written: its strong ETag, and
    # how a second upload of the same bytes by the same owner is recognised (a unique
    # index on (owner, digest) made by a migration).
    digest = Varchar(length=64, null=True, default=None)


class Rendition(Table, tablename="renditions"):
    """One resized copy of an image for one size slug; (image, slug) is unique (an index
    made by a migration: Piccolo tables declare no composite constraints)."""

    image = ForeignKey(Image, on_delete=OnDelete.cascade, index=True)
    slug = Varchar(length=50)
    status = Varchar(length=10, default=RenditionStatus.PENDING.value, index=True)
    width = Integer(null=True, default=None)
    height = Integer(null=True, default=None)
    bytes = BigInt(null=True, default=None)
    format = Varchar(length=10, null=True, default=None)
    key = Varchar(length=200, null=True, default=None)
    error = Text(null=True, default=None)
    attempts = Integer(default=0)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    # SHA-256 of the stored bytes, taken when they are written: a remake with other
    # bytes gets another digest, hence another ETag.
    digest = Varchar(length=64, null=True, default=None)


class PendingDeletion(Table, tablename="pending_deletions"):
    """Stored objects whose rows are gone, kept until storage confirms their removal."""

    image = Varchar(length=36)  # the deleted image's id, for the log
    location = Varchar(length=100)
    object_keys = Text()  # one key a line (keys never hold a newline)
    attempts = Integer(default=0)
    last_error = Text(null=True, default=None)
    created_at = Timestamptz()
