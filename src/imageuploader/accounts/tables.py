"""Piccolo tables for accounts: users, API tokens, sizes and plans."""

from __future__ import annotations

from piccolo.apps.user.tables import BaseUser
from piccolo.columns import (
    M2M,
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    LazyTableReference,
    OnDelete,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class Size(Table, tablename="sizes"):
    """A rendition size: a bounding box (a missing side is free) and a fit."""

    slug = Varchar(length=50, unique=True, index=True)
    width = Integer(null=True, default=None)
    height = Integer(null=True, default=None)
    fit = Varchar(length=10, default="contain")
    created_at = Timestamptz()


class Plan(Table, tablename="plans"):
    """A plan tier: which sizes its users get and which links they may use."""

    name = Varchar(length=100, unique=True, index=True)
    original_link = Boolean(default=False)
    expiring_links = Boolean(default=False)
    # Limits; null is unlimited. Bytes count every stored object of the user's images.
    max_images = Integer(null=True, default=None)
    max_bytes = BigInt(null=True, default=None)
    max_upload_bytes = BigInt(null=True, default=None)
    # Made inside the upload request so the user sees something at once.
    primary_size = ForeignKey(Size, null=True, on_delete=OnDelete.restrict)
    sizes = M2M(LazyTableReference("PlanSize", module_path=__name__))
    # Output formats, comma-separated in canonical order (imaging.formats); jpeg always.
    formats = Varchar(length=50, default="jpeg")
    created_at = Timestamptz()


class PlanSize(Table, tablename="plan_sizes"):
    """Join table between plans and sizes."""

    plan = ForeignKey(Plan, on_delete=OnDelete.cascade)
    size = ForeignKey(Size, on_delete=OnDelete.restrict)


class User(BaseUser, tablename="users"):
    """A person who logs in; BaseUser owns password hashing."""

    # BaseUser's email is unique and NOT NULL; we do not require one, and
    # NULLs do not collide under a unique constraint.
    email = Varchar(length=255, unique=True, null=True, default=None)
    plan = ForeignKey(Plan, null=True, on_delete=OnDelete.restrict)
    created_at = Timestamptz()
    # Every session carries the epoch it began in; a password reset or a
    # deactivation moves it on, so no earlier session is honoured again.
    session_epoch = Integer(default=0)


class ApiToken(Table, tablename="api_tokens"):
    """A bearer token; only its SHA-256 digest is stored."""

    user = ForeignKey(User, on_delete=OnDelete.cascade)
    token_hash = Varchar(length=64, unique=True, index=True)
    name = Varchar(length=100, default="")
    created_at = Timestamptz()
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
