"""Plain view values for the page templates, shaped from the services' responses.

Templates only show what these functions hand them; every decision (which
thumbnail, what status word, how a size reads) is made here, where it is tested.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from imageuploader.accounts.schemas import PlanOut
from imageuploader.images.links import ExpiringLinkOut
from imageuploader.images.records import RenditionStatus
from imageuploader.images.schemas import ImageOut, RenditionOut
from imageuploader.images.usage import Usage


def human_bytes(size: int | None) -> str:
    """1536 -> '1.5 KB': sizes a person reads at a glance."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"  # pragma: no cover - the loop always returns


@dataclass(frozen=True)
class RenditionView:
    slug: str
    status: str
    url: str
    absolute_url: str
    dimensions: str
    size: str
    error: str | None


@dataclass(frozen=True)
class Progress:
    """How far the workers are with one image's renditions."""

    ready: int
    failed: int
    total: int

    @property
    def done(self) -> bool:
        return self.ready + self.failed >= self.total

    @property
    def label(self) -> str:
        if not self.done:
            return f"processing {self.ready}/{self.total}"
        if self.failed:
            return f"{self.failed} failed"
        return "ready"

    @property
    def state(self) -> str:
        """A CSS-friendly word: processing, failed or ready."""
        if not self.done:
            return "processing"
        return "failed" if self.failed else "ready"


@dataclass(frozen=True)
class ImageView:
    id: str
    caption: str
    dimensions: str
    size: str
    format: str
    created: str
    thumbnail: str | None
    hero: str | None
    renditions: list[RenditionView]
    original_url: str | None
    original_absolute_url: str | None
    progress: Progress


def _dimensions(width: int | None, height: int | None) -> str:
    return f"{width}\u00d7{height}" if width and height else ""  # the multiplication sign


def permanent(url: str) -> str:
    """A link to copy and keep: without the version, so that it follows remakes (a
    versioned one may be cached for good and go on showing the old bytes)."""
    return urlsplit(url).path


def _rendition(r: RenditionOut, base_url: str) -> RenditionView:
    return RenditionView(
        slug=r.slug,
        status=r.status,
        url=r.url,
        absolute_url=base_url + permanent(r.url),
        dimensions=_dimensions(r.width, r.height),
        size=human_bytes(r.bytes),
        error=r.error,
    )


def _area(r: RenditionOut) -> int:
    return (r.width or 0) * (r.height or 0)


def thumbnail_url(renditions: list[RenditionOut]) -> str | None:
    """The smallest ready rendition: light enough for a grid of cards."""
    ready = [r for r in renditions if r.status == RenditionStatus.READY and r.width and r.height]
    return min(ready, key=_area).url if ready else None


def hero_url(renditions: list[RenditionOut]) -> str | None:
    """The largest ready rendition, for the detail page."""
    ready = [r for r in renditions if r.status == RenditionStatus.READY and r.width and r.height]
    return max(ready, key=_area).url if ready else None


def progress(renditions: list[RenditionOut]) -> Progress:
    return Progress(
        ready=sum(r.status == RenditionStatus.READY for r in renditions),
        failed=sum(r.status == RenditionStatus.FAILED for r in renditions),
        total=len(renditions),
    )


def image_view(image: ImageOut, base_url: str = "") -> ImageView:
    """`base_url` (scheme://host, no trailing slash) makes links copyable elsewhere."""
    base = base_url.rstrip("/")
    return ImageView(
        id=image.id,
        caption=image.caption,
        dimensions=_dimensions(image.width, image.height),
        size=human_bytes(image.bytes),
        format=image.format.upper(),
        created=image.created_at.strftime("%Y-%m-%d %H:%M UTC"),
        thumbnail=thumbnail_url(image.renditions),
        hero=hero_url(image.renditions),
        renditions=[_rendition(r, base) for r in image.renditions],
        original_url=image.original_url,
        original_absolute_url=base + permanent(image.original_url) if image.original_url else None,
        progress=progress(image.renditions),
    )


@dataclass(frozen=True)
class Pager:
    page: int
    pages: int
    total: int

    @property
    def previous(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


def pager(page: int, per_page: int, total: int) -> Pager:
    return Pager(page=page, pages=max(1, -(-total // per_page)), total=total)


@dataclass(frozen=True)
class LinkView:
    url: str
    rendition: str
    expires_iso: str
    expires_text: str


def link_view(link: ExpiringLinkOut, rendition: str) -> LinkView:
    return LinkView(
        url=link.url,
        rendition=rendition,
        expires_iso=link.expires_at.isoformat(),
        expires_text=link.expires_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
    )


@dataclass(frozen=True)
class Gauge:
    """One measure of usage against its limit (`limit` None: unlimited)."""

    name: str
    label: str
    used: int
    limit: int | None
    used_text: str
    limit_text: str

    @property
    def percent(self) -> int | None:
        if self.limit is None:
            return None
        if self.limit == 0:
            return 100
        return min(100, round(100 * self.used / self.limit))

    @property
    def over(self) -> bool:
        """At or past the limit: the next upload would be refused."""
        return self.limit is not None and self.used >= self.limit

    @property
    def text(self) -> str:
        if self.limit is None:
            return f"{self.used_text} (unlimited)"
        return f"{self.used_text} of {self.limit_text}"


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def usage_view(usage: Usage, plan: PlanOut | None) -> list[Gauge]:
    """Images and storage against the plan's limits, for a meter or a table cell."""
    max_images = plan.max_images if plan else None
    max_bytes = plan.max_bytes if plan else None
    return [
        Gauge(
            name="images",
            label="Images",
            used=usage.images,
            limit=max_images,
            used_text=_count(usage.images, "image"),
            limit_text=f"{max_images:,}" if max_images is not None else "",
        ),
        Gauge(
            name="bytes",
            label="Storage",
            used=usage.bytes,
            limit=max_bytes,
            used_text=human_bytes(usage.bytes),
            limit_text=human_bytes(max_bytes),
        ),
    ]
