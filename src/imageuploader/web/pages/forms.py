"""HTML form fields -> the accounts API's request structs, with readable refusals.

Browsers send every field as text, leave unchecked boxes out and repeat a
name for several checked boxes; msgspec then validates exactly as the JSON API
does, so a page can accept nothing the API would refuse.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from imageuploader.accounts.schemas import PlanIn, PlanPatch, SizeIn, SizePatch, UserIn
from imageuploader.errors import InvalidInput

T = TypeVar("T")

# What each field must look like, in words, for the message under the form.
HINTS = {
    "slug": "a slug is 1-50 lowercase letters, digits and dashes, starting with a letter or digit",
    "username": "a username is 1-100 letters, digits or . _ @ -",
    "password": "a password is 1-128 characters",
    "name": "a plan name is 1-100 characters",
    "width": "width must be a whole number from 1 to 10000, or empty",
    "height": "height must be a whole number from 1 to 10000, or empty",
    "fit": "fit is contain or cover",
    "sizes": "sizes are slugs of existing sizes",
    "primary_size": "the primary size must be one of the plan's sizes",
    "plan": "choose a plan",
    "max_images": "max images is a whole number from 0, or empty for unlimited",
    "max_bytes": "max bytes is a whole number of bytes from 0, or empty for unlimited",
    "max_upload_bytes": "max upload bytes is a whole number of bytes from 1, or empty for the "
    "service's limit",
}


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value).strip()


def _list(form: dict[str, Any], name: str) -> list[str]:
    value = form.get(name, [])
    values = value if isinstance(value, list) else [value]
    return [str(v).strip() for v in values if str(v).strip()]


def _flag(form: dict[str, Any], name: str) -> bool:
    return name in form


def _side(form: dict[str, Any], name: str) -> str | None:
    return _text(form, name) or None


def _convert(fields: dict[str, Any], into: type[T]) -> T:
    try:
        return msgspec.convert(fields, into, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        field = message.rsplit("$.", 1)[-1].split("[")[0].rstrip("`") if "$." in message else ""
        hint = HINTS.get(field)
        raise InvalidInput(f"{field}: {hint}." if hint else message) from None


def user_in(form: dict[str, Any]) -> UserIn:
    return _convert(
        {
            "username": _text(form, "username"),
            "password": form.get("password", ""),
            "plan": _text(form, "plan"),
            "is_admin": _flag(form, "is_admin"),
        },
        UserIn,
    )


def _plan_fields(form: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": _text(form, "name"),
        "sizes": _list(form, "sizes"),
        "primary_size": _text(form, "primary_size") or None,
        # Empty is unlimited (None), as null is in the API.
        "max_images": _side(form, "max_images"),
        "max_bytes": _side(form, "max_bytes"),
        "max_upload_bytes": _side(form, "max_upload_bytes"),
        "original_link": _flag(form, "original_link"),
        "expiring_links": _flag(form, "expiring_links"),
    }


def plan_in(form: dict[str, Any]) -> PlanIn:
    return _convert(_plan_fields(form), PlanIn)


def plan_patch(form: dict[str, Any]) -> PlanPatch:
    """An edit form shows every field, so every field is set."""
    fields = _plan_fields(form)
    if fields["primary_size"] is None:
        del fields["primary_size"]
    return _convert(fields, PlanPatch)


def size_in(form: dict[str, Any]) -> SizeIn:
    return _convert(
        {
            "slug": _text(form, "slug"),
            "width": _side(form, "width"),
            "height": _side(form, "height"),
            "fit": _text(form, "fit") or "contain",
        },
        SizeIn,
    )


def size_patch(form: dict[str, Any]) -> SizePatch:
    return _convert(
        {
            "width": _side(form, "width"),
            "height": _side(form, "height"),
            "fit": _text(form, "fit") or "contain",
        },
        SizePatch,
    )


def field(form: dict[str, Any], name: str) -> str:
    """One text field that names the row a form acts on (a username, plan or slug)."""
    value = _text(form, name)
    if not value:
        raise InvalidInput(f"{name}: missing.")
    return value
