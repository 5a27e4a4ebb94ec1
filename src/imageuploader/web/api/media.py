"""Image bytes: permanent media links for their owner, and local expiring links for anyone."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Stream

from imageuploader.accounts.users import CurrentUser
from imageuploader.images.links import LinkService
from imageuploader.images.media import MediaService, Opened


def stream_object(found: Opened, max_age: int) -> Stream:
    """Stored bytes with their real type; never sniffed, never rendered as a page."""
    return Stream(
        found.chunks,
        media_type=found.content_type,
        headers={
            "Content-Length": str(found.size),
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="{found.filename}"',
            "Cache-Control": f"private, max-age={max_age}",
        },
    )


class MediaController(Controller):
    path = "/media"
    tags = ["media"]

    @get("/{image_id:str}/{slug:str}")
    async def media(
        self,
        request: Request[CurrentUser, Any, Any],
        image_id: FromPath[str],
        slug: FromPath[str],
        media: NamedDependency[MediaService],
    ) -> Stream:
        """The original or a rendition, for its owner (or an admin) on a plan that has it."""
        return stream_object(await media.open(request.user, image_id, slug), max_age=3600)


class SharedLinkController(Controller):
    """Expiring links of local storage: the signed token is the only credential."""

    path = "/s"
    tags = ["media"]

    # No CSRF cookie: the link is a credential of its own, opened by strangers.
    @get("/{token:str}", exclude_from_auth=True, exclude_from_csrf=True, security=[])
    async def shared(
        self,
        token: FromPath[str],
        links: NamedDependency[LinkService],
        media: NamedDependency[MediaService],
    ) -> Stream:
        """The object an expiring link grants, without login, until it expires."""
        found, target = await links.resolve(token)
        left = int((target.expires_at - links.clock()).total_seconds())
        return stream_object(await media.open_located(found), max_age=max(0, left))
