"""JSON API for images: upload, list, read, delete, and expiring links."""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, MultipartBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from imageuploader.accounts.users import CurrentUser
from imageuploader.images.library import DEFAULT_PAGE, DEFAULT_PER_PAGE, ImageLibrary
from imageuploader.images.links import ExpiringLinkIn, ExpiringLinkOut, LinkService
from imageuploader.images.schemas import ImageOut, ImagePage, UploadOut
from imageuploader.images.upload import UploadService
from imageuploader.web.reads import LIST, fast_read
from imageuploader.web.uploads import UploadForm


class ImagesController(Controller):
    path = "/api/images"
    tags = ["images"]

    @post(
        status_code=HTTP_201_CREATED,
        responses={
            HTTP_200_OK: ResponseSpec(
                data_container=UploadOut,
                description="The caller uploaded these bytes before: that image, duplicate=true",
            )
        },
    )
    async def upload(
        self,
        request: Request[CurrentUser, Any, Any],
        data: MultipartBody[UploadForm],
        uploads: NamedDependency[UploadService],
    ) -> Response[UploadOut]:
        """Upload an image (multipart: file, caption, optional resolution WIDTHxHEIGHT,
        optional keep_metadata=true to deliver the original with its GPS and camera data).

        201 with the new image; 200 with `"duplicate": true` and the image already
        stored when the caller uploaded these bytes before (nothing new is stored).
        """
        keep = data.keeps_metadata
        body = await data.read_file()
        image = await uploads.upload(
            request.user, body, data.caption, data.resolution, keep_metadata=keep
        )
        return Response(image, status_code=HTTP_200_OK if image.duplicate else HTTP_201_CREATED)

    @get(opt=fast_read(LIST))
    async def list(
        self,
        request: Request[CurrentUser, Any, Any],
        images: NamedDependency[ImageLibrary],
        page: FromQuery[int] = DEFAULT_PAGE,
        per_page: FromQuery[int] = DEFAULT_PER_PAGE,
    ) -> Response[ImagePage]:
        """The caller's images, newest first."""
        # The cached JSON as it is: the schema still says ImagePage.
        body = await images.list_json(request.user, page, per_page)
        return Response(body, media_type=MediaType.JSON)

    @get("/{image_id:str}")
    async def read(
        self,
        request: Request[CurrentUser, Any, Any],
        image_id: FromPath[str],
        images: NamedDependency[ImageLibrary],
    ) -> ImageOut:
        return await images.get(request.user, image_id)

    @delete("/{image_id:str}", status_code=HTTP_204_NO_CONTENT)
    async def delete(
        self,
        request: Request[CurrentUser, Any, Any],
        image_id: FromPath[str],
        images: NamedDependency[ImageLibrary],
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
