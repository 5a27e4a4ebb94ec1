"""Request bodies and response shapes of the accounts API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

Slug = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,49}$")]
PlanName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
# Checked by the plan service (an unknown name is a 422 naming the known ones).
FormatList = Annotated[
    list[Annotated[str, msgspec.Meta(max_length=20)]], msgspec.Meta(max_length=10)
]
Side = Annotated[int, msgspec.Meta(ge=1, le=10000)]
Username = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_.@-]{1,100}$")]
Password = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
# Plan limits; None is unlimited. The upload limit is also checked against MAX_UPLOAD_BYTES.
ImageLimit = Annotated[int, msgspec.Meta(ge=0, le=2**31 - 1)]
ByteLimit = Annotated[int, msgspec.Meta(ge=0, le=2**62)]
UploadLimit = Annotated[int, msgspec.Meta(ge=1, le=2**62)]


class TokenRequest(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=200)]
    password: Annotated[str, msgspec.Meta(max_length=200)]
    name: Annotated[str, msgspec.Meta(max_length=100)] = ""


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    current_password: Annotated[str, msgspec.Meta(max_length=200)]
    new_password: Annotated[str, msgspec.Meta(max_length=200)]


class TokenIssued(msgspec.Struct):
    access_token: str
    token_type: str
    token_id: int


class TokenInfo(msgspec.Struct):
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


class SizeIn(msgspec.Struct, forbid_unknown_fields=True):
    slug: Slug
    width: Side | None = None
    height: Side | None = None
    fit: Literal["contain", "cover"] = "contain"


class SizePatch(msgspec.Struct, forbid_unknown_fields=True):
    width: Side | msgspec.UnsetType | None = msgspec.UNSET
    height: Side | msgspec.UnsetType | None = msgspec.UNSET
    fit: Literal["contain", "cover"] | msgspec.UnsetType = msgspec.UNSET


class SizeOut(msgspec.Struct):
    slug: str
    width: int | None
    height: int | None
    fit: str


class PlanIn(msgspec.Struct, forbid_unknown_fields=True):
    name: PlanName
    sizes: list[Slug]
    primary_size: Slug | None = None
    max_images: ImageLimit | None = None
    max_bytes: ByteLimit | None = None
    max_upload_bytes: UploadLimit | None = None
    original_link: bool = False
    expiring_links: bool = False
    formats: FormatList = msgspec.field(default_factory=lambda: ["jpeg"])


class PlanPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: PlanName | msgspec.UnsetType = msgspec.UNSET
    sizes: list[Slug] | msgspec.UnsetType = msgspec.UNSET
    primary_size: Slug | msgspec.UnsetType = msgspec.UNSET
    max_images: ImageLimit | msgspec.UnsetType | None = msgspec.UNSET
    max_bytes: ByteLimit | msgspec.UnsetType | None = msgspec.UNSET
    max_upload_bytes: UploadLimit | msgspec.UnsetType | None = msgspec.UNSET
    original_link: bool | msgspec.UnsetType = msgspec.UNSET
    expiring_links: bool | msgspec.UnsetType = msgspec.UNSET
    formats: FormatList | msgspec.UnsetType = msgspec.UNSET


class PlanOut(msgspec.Struct):
    name: str
    sizes: list[str]
    primary_size: str | None
    max_images: int | None
    max_bytes: int | None
    max_upload_bytes: int | None
    original_link: bool
    expiring_links: bool
    # Output formats in canonical order: "jpeg" always, then "webp", "avif" if listed.
    formats: list[str] = msgspec.field(default_factory=lambda: ["jpeg"])


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Password
    plan: PlanName = "Basic"
    is_admin: bool = False


class UserPatch(msgspec.Struct, forbid_unknown_fields=True):
    plan: PlanName | msgspec.UnsetType = msgspec.UNSET
    is_admin: bool | msgspec.UnsetType = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    password: Password | msgspec.UnsetType = msgspec.UNSET


class UserOut(msgspec.Struct):
    id: int
    username: str
    is_admin: bool
    active: bool
    plan: PlanOut | None
    created_at: datetime
