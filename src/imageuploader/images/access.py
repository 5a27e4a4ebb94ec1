"""Who may see an image, and which plan decides what of it they may fetch.

The one policy for the images API, the media links and the expiring links:
an image is visible to its owner and to admins, and whoever looks, what the
image offers (renditions, the original, sharing) is its owner's plan.
"""

from __future__ import annotations

import re
import uuid
from typing import Protocol

from imageuploader.accounts.schemas import PlanOut
from imageuploader.accounts.users import CurrentUser, load_user
from imageuploader.errors import Forbidden, NotFound
from imageuploader.images import keys
from imageuploader.images.records import ImageRecord
from imageuploader.images.tables import Image

NO_SUCH_IMAGE = "No such image."
CANONICAL_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class Owners(Protocol):
    """Where image owners are looked up (accounts.cache.AccountCache: cached)."""

    async def user(self, user_id: int) -> CurrentUser | None: ...


def parse_image_id(image_id: str) -> uuid.UUID:
    """The id in its one canonical spelling (lower-case, hyphenated), else NotFound.

    uuid.UUID() also reads upper case, missing or extra dashes, braces and
    `urn:uuid:`; accepting those would give one image endless URLs and cache keys.
    """
    if not CANONICAL_ID.fullmatch(image_id):
        raise NotFound(NO_SUCH_IMAGE)
    return uuid.UUID(image_id)


async def _find(image_id: str) -> ImageRecord | None:
    row = await Image.select().where(Image.id == parse_image_id(image_id)).first()
    return ImageRecord.from_row(row) if row else None


async def owner_plan(
    viewer: CurrentUser | None, owner_id: int, owners: Owners | None = None
) -> PlanOut | None:
    """The plan that governs an image of `owner_id`: the owner's (None if deactivated)."""
    if viewer is not None and viewer.id == owner_id:
        return viewer.plan
    owner = await (owners.user(owner_id) if owners else load_user(owner_id))
    return owner.plan if owner else None


async def visible_image(user: CurrentUser, image_id: str) -> tuple[ImageRecord, PlanOut | None]:
    """The image and its owner's plan, if `user` is the owner or an admin; else NotFound."""
    image = await _find(image_id)
    if image is None or (image.owner != user.id and not user.is_admin):
        # Someone else's image looks exactly like a missing one.
        raise NotFound(NO_SUCH_IMAGE)
    return image, await owner_plan(user, image.owner)


async def shared_image(
    image_id: str, owners: Owners | None = None
) -> tuple[ImageRecord, PlanOut | None]:
    """The image behind an expiring link, whoever opens it, and its owner's plan."""
    image = await _find(image_id)
    if image is None:
        raise NotFound("The image behind this link was deleted.")
    return image, await owner_plan(None, image.owner, owners)


def require_object(plan: PlanOut | None, slug: str) -> None:
    """Forbidden unless the plan includes the original link or the rendition `slug`."""
    if slug == keys.ORIGINAL:
        if not (plan and plan.original_link):
            raise Forbidden("Your plan does not include links to the original.")
    elif not (plan and slug in plan.sizes):
        raise Forbidden(f"Your plan does not include the {slug!r} rendition.")


def require_sharing(plan: PlanOut | None) -> None:
    if not (plan and plan.expiring_links):
        raise Forbidden("Your plan does not include expiring links.")
