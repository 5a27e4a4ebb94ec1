"""Image bytes: permanent media links for their owner, and local expiring links for anyone.

The reads themselves are in `delivery`; the fast lane (web/reads.py) answers
the common case of both routes without this handler machinery, and leaves
everything else (errors included) to these handlers.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, HttpMethod, Request, route
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response.base import ASGIResponse

from imageuploader.accounts.users import CurrentUser
from imageuploader.images.links import LinkService
from imageuploader.images.media import MediaService
from imageuploader.web import delivery
from imageuploader.web.delivery import VERSION_MAX
from imageuploader.web.reads import MEDIA, SHARED, fast_read

GET_HEAD = [HttpMethod.GET, HttpMethod.HEAD]


class MediaController(Controller):
    path = "/media"
    tags = ["media"]

    @route("/{image_id:str}/{slug:str}", http_method=GET_HEAD, opt=fast_read(MEDIA))
    async def media(
        self,
        request: Request[CurrentUser, Any, Any],
        image_id: FromPath[str],
        slug: FromPath[str],
        media: NamedDependency[MediaService],
        version: Annotated[str | None, QueryParameter(name="v", max_length=VERSION_MAX)] = None,
    ) -> ASGIResponse:
        """The original or a rendition, for its owner (or an admin) on a plan that has it.

        With S3 delivery by redirect, a 307 to a presigned URL; otherwise the bytes,
        with ETag, Last-Modified, conditional requests and single byte ranges.
        """
        answer = await delivery.media_read(
            media, request.user, image_id, slug, version, request.method, request.headers
        )
        return await delivery.to_response(media, answer)


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
        opt=fast_read(SHARED),
    )
    async def shared(
        self,
        request: Request[Any, Any, Any],
        token: FromPath[str],
        links: NamedDependency[LinkService],
    ) -> ASGIResponse:
        """The object an expiring link grants, without login, until it expires."""
        # One dependency: Litestar resolves two or more in a task group per request.
        answer = await delivery.shared_read(links, token, request.method, request.headers)
        return await delivery.to_response(links.media, answer)
