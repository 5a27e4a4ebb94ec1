"""Pages for a user's own images: gallery, upload, detail, live status, delete.

Handlers are thin: one service call, then a template (a fragment alone for htmx
requests). Refusals are DomainErrors that web.errors renders as a page or, for
htmx, as a fragment that static/app.js places next to the form that caused it.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, MultipartBody, URLEncodedBody
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from imageuploader.accounts.users import CurrentUser
from imageuploader.errors import InvalidInput
from imageuploader.images import keys
from imageuploader.images.library import ImageLibrary
from imageuploader.images.links import LinkService
from imageuploader.images.records import RenditionStatus
from imageuploader.images.upload import UploadService
from imageuploader.web.pages.views import (
    EAGER_CARDS,
    ImageView,
    LinkView,
    image_view,
    link_view,
    pager,
    usage_view,
)
from imageuploader.web.uploads import UploadForm

PER_PAGE = 12
# htmx stops polling on this status; the body still replaces the fragment.
STOP_POLLING = 286

# Not generic: request.user is the CurrentUser that web.auth put there.
Req = HTMXRequest


def _base(request: Req) -> str:
    return str(request.base_url).rstrip("/")


class GalleryPages(Controller):
    include_in_schema = False
    request_class = HTMXRequest

    @get("/")
    async def gallery(
        self, request: Req, images: NamedDependency[ImageLibrary], page: FromQuery[int] = 1
    ) -> Template:
        """The caller's images, newest first, under a meter of their usage."""
        found = await images.list(request.user, page, PER_PAGE)
        used = await images.usage(request.user.id)
        return Template(
            "pages/gallery.html",
            context={
                "user": request.user,
                "images": [image_view(i) for i in found.items],
                "eager_cards": EAGER_CARDS,
                "pager": pager(found.page, found.per_page, found.total),
                "usage": usage_view(used, request.user.plan),
            },
        )


class UploadPages(Controller):
    include_in_schema = False
    request_class = HTMXRequest

    @get("/upload")
    async def form(self, request: Req) -> Template:
        return Template("pages/upload.html", context={"user": request.user})

    @post("/upload", status_code=200)
    async def upload(
        self,
        request: Req,
        data: MultipartBody[UploadForm],
        uploads: NamedDependency[UploadService],
    ) -> Template | Redirect:
        """Store one file; htmx gets the result card, a plain form post the detail page."""
        keep = data.keeps_metadata
        body = await data.read_file()
        image = await uploads.upload(
            request.user, body, data.caption, data.resolution, keep_metadata=keep
        )
        if not request.htmx:
            return Redirect(f"/images/{image.id}", status_code=HTTP_303_SEE_OTHER)
        return Template(
            "fragments/_upload_result.html",
            context={"image": image_view(image, _base(request)), "duplicate": image.duplicate},
        )


class ImagePages(Controller):
    path = "/images"
    include_in_schema = False
    request_class = HTMXRequest

    @get("/{image_id:str}")
    async def detail(
        self, request: Req, image_id: FromPath[str], images: NamedDependency[ImageLibrary]
    ) -> Template:
        image = image_view(await images.get(request.user, image_id), _base(request))
        return Template("pages/image.html", context=_detail_context(request.user, image))

    @get("/{image_id:str}/renditions")
    async def renditions(
        self, request: Req, image_id: FromPath[str], images: NamedDependency[ImageLibrary]
    ) -> Template:
        """The rendition list; it polls itself until every rendition is ready or failed."""
        image = image_view(await images.get(request.user, image_id), _base(request))
        return Template(
            "fragments/_renditions.html",
            context={"image": image},
            status_code=STOP_POLLING if image.progress.done else 200,
        )

    @get("/{image_id:str}/status")
    async def status(
        self, request: Req, image_id: FromPath[str], images: NamedDependency[ImageLibrary]
    ) -> Template:
        """A gallery card's status badge; polls itself while workers are busy."""
        image = image_view(await images.get(request.user, image_id))
        return Template(
            "fragments/_status.html",
            context={"image": image},
            status_code=STOP_POLLING if image.progress.done else 200,
        )

    @post("/{image_id:str}/links", status_code=200)
    async def share(
        self,
        request: Req,
        image_id: FromPath[str],
        data: URLEncodedBody[dict[str, Any]],
        images: NamedDependency[ImageLibrary],
        links: NamedDependency[LinkService],
    ) -> Template:
        """An expiring link; the service checks the 300-30000 s range and the plan."""
        rendition = str(data.get("rendition") or keys.ORIGINAL)
        created = await links.create(
            request.user,
            image_id,
            _seconds(data.get("seconds")),
            rendition,
            base_url=_base(request),
        )
        link = link_view(created, rendition)
        if request.htmx:
            return Template("fragments/_expiring_link.html", context={"link": link})
        image = image_view(await images.get(request.user, image_id), _base(request))
        return Template("pages/image.html", context=_detail_context(request.user, image, link))

    @post("/{image_id:str}/delete", status_code=HTTP_303_SEE_OTHER)
    async def delete(
        self, request: Req, image_id: FromPath[str], images: NamedDependency[ImageLibrary]
    ) -> Redirect | ClientRedirect:
        await images.delete(request.user, image_id)
        if request.htmx:
            return ClientRedirect("/")
        return Redirect("/", status_code=HTTP_303_SEE_OTHER)


def _seconds(raw: Any) -> int:
    try:
        return int(str(raw).strip())
    except ValueError:
        raise InvalidInput("seconds: must be a whole number of seconds.") from None


def _detail_context(
    user: CurrentUser, image: ImageView, link: LinkView | None = None
) -> dict[str, Any]:
    targets = [r.slug for r in image.renditions if r.status == RenditionStatus.READY]
    if image.original_url:
        # Last, never the default: the original is the full-size file.
        targets.append(keys.ORIGINAL)
    return {
        "user": user,
        "image": image,
        "can_share": image.can_share,
        "share_targets": targets,
        "link": link,
    }
