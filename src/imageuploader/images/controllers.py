"""HTTP API for images (upload, list, read, delete) and the permanent media links."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody
from litestar.response import Stream
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from imageuploader.accounts.users import CurrentUser
from imageuploader.images.links import ExpiringLinkIn, ExpiringLinkOut, LinkService
from imageuploader.images.media import MediaService, Opened
from imageuploader.images.schemas import ImageOut, ImagePage, UploadForm
from imageuploader.images.service import ImageService


class ImagesController(Controller):
    path = "/api/images"
    tags = ["images"]

    @post(status_code=HTTP_201_CREATED)
    async def upload(
        self,
        request: Request[CurrentUser, Any, Any],
        data: MultipartBody[UploadForm],
        images: NamedDependency[ImageService],
    ) -> ImageOut:
        """Upload an image (multipart: file, caption, optional resolution WIDTHxHEIGHT)."""
        try:
            body = await data.file.read()
        finally:
            await data.file.close()
        return await images.upload(request.user, body, data.caption, data.resolution)

    @get()
    async def list(
        self,
        request: Request[CurrentUser, Any, Any],
        images: NamedDependency[ImageService],
        page: FromQuery[int] = 1,
        per_page: FromQuery[int] = 20,
    ) -> ImagePage:
        """The caller's images, newest first."""
        return await images.list(request.user, page, per_page)

    @get("/{image_id:str}")
    async def read(
        self,
        request: Request[CurrentUser, Any, Any],
        image_id: FromPath[str],
        images: NamedDependency[ImageService],
    ) -> ImageOut:
        return await images.get(request.user, image_id)

    @delete("/{image_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete(
        self,
        request: Request[CurrentUser, Any, Any],
        image_id: FromPath[str],
        images: NamedDependency[ImageService],
    ) -> None:
        """Delete the image and every stored object of it."""
        await images.delete(request.user, image_id)

    @post("/{image_id:str}/expiring-links", status_code=HTTP_201_CREATED)
    async def expiring_link(
        self,
        request: Request[CurrentUser, Any, Any],
        image_id: FromPath[str],
        data: JSONBody[ExpiringLinkIn],
        links: NamedDependency[LinkService],
    ) -> ExpiringLinkOut:
        """A link anyone may open until it expires (plans with expiring links only)."""
        return await links.create(
            request.user, image_id, data.seconds, data.rendition, base_url=str(request.base_url)
        )


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

    @get("/{token:str}", exclude_from_auth=True, security=[])
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
