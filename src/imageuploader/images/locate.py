"""Which stored object a name of an image names: the original, or a rendition in
its ready formats, and the one a request gets (by extension or by Accept)."""

from __future__ import annotations

from datetime import datetime

import msgspec

from imageuploader.accounts.schemas import PlanOut
from imageuploader.errors import NotFound
from imageuploader.images import access, keys, negotiation
from imageuploader.images.records import (
    ImageRecord,
    RenditionRecord,
    RenditionStatus,
    VariantRecord,
)
from imageuploader.images.tables import Rendition, Variant
from imageuploader.imaging import formats as output_formats

EXTENSIONS = {
    "jpeg": "jpg",
    "png": "png",
    "webp": "webp",
    "gif": "gif",
    "tiff": "tif",
    "avif": "avif",
    "heic": "heic",
}


class Located(msgspec.Struct, frozen=True):
    """A stored object the caller may read: where it is, how to label it, its validators.

    `digest` and `size` are None only for rows stored before digests were kept;
    `MediaService.with_digest` fills them in.
    """

    image_id: str
    slug: str
    location: str
    key: str
    content_type: str
    filename: str
    digest: str | None = None
    size: int | None = None
    modified: datetime | None = None
    # The rendition row (None: the original, which lives in the image row, or a variant,
    # whose digest is always known).
    rendition_id: int | None = None
    # Chosen from the Accept header among the ready formats: the answer varies on it.
    negotiated: bool = False

    @property
    def disposition(self) -> str:
        return f'inline; filename="{self.filename}"'


class Choices(msgspec.Struct, frozen=True):
    """Every ready format of one object of an image, whoever asks and whatever their plan:
    what `MediaService` caches per owner generation. The original has one entry."""

    owner: int
    fallback: str
    ready: dict[str, Located]


def split_format(name: str) -> tuple[str, str | None]:
    """'h200.avif' -> ('h200', '.avif'): a slug and the extension after it, if any.

    Slugs never contain a dot, so a dot always starts a format extension.
    """
    slug, dot, extension = name.partition(".")
    return slug, (dot + extension if dot else None)


def _named_format(slug: str, extension: str | None) -> str | None:
    """The output format an extension names; one we do not make is a missing object."""
    if extension is None:
        return None
    fmt = BY_EXTENSION.get(extension[1:].lower())
    if fmt is None or slug == keys.ORIGINAL:
        raise NotFound(f"There is no {extension!r} format of {slug!r}.")
    return fmt


BY_EXTENSION = {"jpg": "jpeg", "jpeg": "jpeg", "webp": "webp", "avif": "avif"}


async def locate(
    image: ImageRecord, name: str, plan: PlanOut | None, accept: str | None = None
) -> Located:
    """The object `name` names, if the plan includes it and it exists; raise otherwise.

    A rendition named without a format is served in the best ready format for
    `accept` (see `negotiation`); `h200.webp` names one format.
    """
    slug, _ = split_format(name)
    access.require_object(plan, slug)
    return choose(await choices_of(image, slug), name, plan, accept)


def choose(choices: Choices, name: str, plan: PlanOut | None, accept: str | None) -> Located:
    """Among the ready formats, the one `name` names or `accept` prefers, as far as the
    plan offers it. Pure: runs on every request, cached choices or not."""
    slug, extension = split_format(name)
    access.require_object(plan, slug)
    fmt = _named_format(slug, extension)
    if slug == keys.ORIGINAL:
        return choices.ready[choices.fallback]
    fallback = choices.fallback
    offered = set(output_formats.extras(plan.formats if plan else []))
    ready = {f: found for f, found in choices.ready.items() if f == fallback or f in offered}
    if fmt is not None:
        if fmt not in ready:
            raise NotFound(f"The {slug!r} rendition has no ready {fmt.upper()} format.")
        return ready[fmt]
    chosen = negotiation.choose(accept, ready, fallback)
    # Vary whenever another format could have been chosen for another Accept.
    return msgspec.structs.replace(ready[chosen], negotiated=len(ready) > 1)


async def choices_of(image: ImageRecord, slug: str) -> Choices:
    """Every ready format of the original or rendition `slug`; NotFound if none is ready."""
    ident = image.ident
    if slug == keys.ORIGINAL:
        ext = EXTENSIONS.get(image.format, "bin")
        original = Located(
            image_id=ident,
            slug=slug,
            location=image.location,
            key=image.original_key,
            content_type=image.mime_type,
            filename=f"{ident}.{ext}",
            digest=image.digest,
            size=image.bytes if image.digest else None,
            modified=image.created_at,
        )
        return Choices(owner=image.owner, fallback=slug, ready={slug: original})
    row = (
        await Rendition.select()
        .where((Rendition.image == image.id) & (Rendition.slug == slug))
        .order_by(Rendition.id)
        .first()
    )
    rendition = RenditionRecord.from_row(row) if row else None
    if rendition is None or rendition.status is not RenditionStatus.READY or not rendition.key:
        status = rendition.status if rendition else RenditionStatus.PENDING
        raise NotFound(f"The {slug!r} rendition is not ready (status: {status}).")
    fallback = rendition.format or output_formats.JPEG
    ready = {
        fallback: Located(
            image_id=ident,
            slug=slug,
            location=image.location,
            key=rendition.key,
            content_type=f"image/{fallback}",
            filename=f"{ident}-{slug}.{EXTENSIONS.get(fallback, 'bin')}",
            digest=rendition.digest,
            size=rendition.bytes if rendition.digest else None,
            modified=rendition.updated_at,
            rendition_id=rendition.id,
        )
    }
    for fmt, found in (await _ready_variants(image, slug, rendition.id)).items():
        ready.setdefault(fmt, found)
    return Choices(owner=image.owner, fallback=fallback, ready=ready)


async def _ready_variants(image: ImageRecord, slug: str, rendition_id: int) -> dict[str, Located]:
    rows = (
        await Variant.select()
        .where(
            (Variant.rendition == rendition_id) & (Variant.status == RenditionStatus.READY.value)
        )
        .order_by(Variant.id)
    )
    found = {}
    for row in rows:
        variant = VariantRecord.from_row(row)
        if not (variant.key and variant.digest and variant.bytes is not None):
            continue
        ext = output_formats.EXTENSIONS[variant.format]
        found[variant.format] = Located(
            image_id=image.ident,
            slug=slug,
            location=image.location,
            key=variant.key,
            content_type=output_formats.MEDIA_TYPES[variant.format],
            filename=f"{image.ident}-{slug}.{ext}",
            digest=variant.digest,
            size=variant.bytes,
            modified=variant.updated_at,
        )
    return found
