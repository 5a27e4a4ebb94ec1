"""Image bytes: permanent media links for their owner, and local expiring links for anyone."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, HttpMethod, Request, Response, route
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from imageuploader.accounts.users import CurrentUser
from imageuploader.images.links import LinkService
from imageuploader.images.media import MediaService
from imageuploader.web import delivery

GET_HEAD = [HttpMethod.GET, HttpMethod.HEAD]


class MediaController(Controller):
    path = "/media"
    tags = ["media"]

    @route("/{image_id:str}/{slug:str}", http_method=GET_HEAD)
    async def media(
        self,
        request: Request[CurrentUser, Any, Any],
        image_id: FromPath[str],
        slug: FromPath[str],
        media: NamedDependency[MediaService],
        version: Annotated[str | None, QueryParameter(name="v", max_length=64)] = None,
    ) -> Response[Any]:
        """The original or a rendition, for its owner (or an admin) on a plan that has it.

        With S3 delivery by redirect, a 307 to a presigned URL; otherwise the bytes,
        with ETag, Last-Modified, conditional requests and single byte ranges.
        """
        found = await media.find(request.user, image_id, slug, request.headers.get("accept"))
        if url := media.redirect_url(found):
            return delivery.redirect(
                url, f"private, max-age={media.redirect_fresh_for()}", vary=found.negotiated
            )
        cache_control = delivery.cache_control_private(found, version)
        return await delivery.serve(request, media, found, cache_control)


class SharedLinkController(Controller):
    """Expiring links of local storage: the signed token is the only credential."""

    path = "/s"
    tags = ["media"]

    # No CSRF cookie: the link is a credential of its own, opened by strangers.
    @route(
        "/{token:str}",
        http_method=GET_HEAD,
        exclude_from_auth=True,
        exclude_from_csrf=True,
        security=[],
    )
    async def shared(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        links: NamedDependency[LinkService],
    ) -> Response[Any]:
        """The object an expiring link grants, without login, until it expires."""
        # One dependency: Litestar resolves two or more in a task group per request.
        media = links.media
        found, target = await links.resolve(token, request.headers.get("accept"))
        left = int((target.expires_at - links.clock()).total_seconds())
        if url := media.redirect_url(found, not_after=target.expires_at):
            fresh = min(left, media.redirect_fresh_for())
            return delivery.redirect(
                url, delivery.cache_control_shared(fresh), vary=found.negotiated
            )
        return await delivery.serve(request, media, found, delivery.cache_control_shared(left))
