"""Extra output formats of a rendition: WebP and AVIF encodes, and animated WebP.

A variant has the rendition's exact pixels size (the same `geometry.target`),
made from the same decoded intermediate, so `<picture>` can swap formats
without a layout shift. Alpha is kept: both formats carry it.

Settings come from the format bench (`python -m bench.formats`, figures in
docs/performance.md), on real photographs, against JPEG q85 at an equal or
better mean SSIMULACRA2. WebP is q83 at effort 6 with sharp YUV
(`smart_subsample`): about the lowest quality that matches JPEG's score, for
about 24% fewer bytes; sharp YUV keeps colour edges that plain 4:2:0 blurs (q84
without it saved more bytes but scored 1.4 points under JPEG), and effort 6
saves 4-5% of the bytes of effort 4 for about three times the encode time, in a
worker. Animated WebP keeps q86 at effort 4: it encodes every frame, within the
upload's limits. AVIF is q65 at libaom effort 2, 4:4:4, 10-bit: the cheapest
setting found that saves at least 40% of JPEG's bytes at JPEG's score (effort 0
saved about a quarter; effort 1 fell just short in bytes or score). A Studio
image then takes 2.3 to 5 times the worker time it took with AVIF at effort 0,
8-bit. That is accepted because only Studio makes AVIF, in background workers,
never in the upload request; every view of the image downloads the smaller
file, and throughput is a matter of adding workers. At equal quality 10 bits
cost no more bytes than 8 and scored about a point higher; 4:4:4 chroma scored
higher than 4:2:0 for its bytes.
"""

from __future__ import annotations

from typing import Final

import pyvips

from imageuploader.imaging import formats
from imageuploader.imaging.errors import CorruptImage
from imageuploader.imaging.geometry import SizeSpec, Target, target
from imageuploader.imaging.intermediate import Decoded
from imageuploader.imaging.pipeline import Rendered, resize, to_srgb
from imageuploader.imaging.probe import ImageInfo

WEBP_QUALITY: Final = 83
WEBP_EFFORT: Final = 6
ANIMATED_WEBP_QUALITY: Final = 86
ANIMATED_WEBP_EFFORT: Final = 4
AVIF_QUALITY: Final = 65
AVIF_EFFORT: Final = 2
AVIF_BITDEPTH: Final = 10
ANIMATED_SOURCES: Final = frozenset({"gif", "webp"})


def encode_as(image: pyvips.Image, fmt: str) -> bytes:
    """Encode pixels (3 bands, or 4 with alpha) as WebP or AVIF without any metadata."""
    if fmt == formats.WEBP:
        data: bytes = image.webpsave_buffer(
            Q=WEBP_QUALITY, effort=WEBP_EFFORT, smart_subsample=True, keep="none"
        )
    elif fmt == formats.AVIF:
        data = encode_avif(image)
    else:
        raise ValueError(f"no variant encoder for {fmt!r}")
    return data


def encode_avif(image: pyvips.Image, effort: int = AVIF_EFFORT) -> bytes:
    """AVIF at our settings; `effort` is there for the bench's effort table."""
    data: bytes = image.heifsave_buffer(
        Q=AVIF_QUALITY,
        compression="av1",
        effort=effort,
        subsample_mode="off",
        bitdepth=AVIF_BITDEPTH,
        keep="none",
    )
    return data


def render_variant(decoded: Decoded, spec: SizeSpec, fmt: str) -> Rendered:
    """The rendition of `spec` in `fmt`, from the decoded intermediate (first frame)."""
    info = decoded.info
    image = resize(decoded.image, target(spec, info.oriented_width, info.oriented_height))
    return Rendered(
        slug=spec.slug,
        data=encode_as(image, fmt),
        width=image.width,
        height=image.height,
        format=fmt,
        content_type=formats.MEDIA_TYPES[fmt],
    )


def animates(info: ImageInfo, max_pixels: int) -> bool:
    """True if the source's frames should become an animated WebP.

    Decoding every frame costs what one frame costs times their number, so
    the upload's pixel limit applies to all frames together; a longer
    animation gets a still of its first frame, as the JPEG fallback does.
    """
    return (
        info.format in ANIMATED_SOURCES
        and info.pages > 1
        and info.pages * info.width * info.height <= max_pixels
    )


def render_animated(data: bytes, info: ImageInfo, spec: SizeSpec) -> Rendered:
    """Every frame of an animated GIF or WebP, sized like the rendition, as animated WebP."""
    try:
        source = pyvips.Image.new_from_buffer(data, "", n=-1, access="sequential").copy_memory()
        page_height = source.get("page-height") if "page-height" in source.get_fields() else 0
        pages = source.height // page_height if page_height else 1
        if pages != info.pages or page_height != info.height:
            raise CorruptImage("The animation's frames do not match its header.")
        delay = source.get("delay") if "delay" in source.get_fields() else None
        loop = source.get("loop") if "loop" in source.get_fields() else 0
        geometry = target(spec, info.oriented_width, info.oriented_height)
        frames = [
            _frame(source.crop(0, page * page_height, source.width, page_height), geometry)
            for page in range(pages)
        ]
        joined = pyvips.Image.arrayjoin(frames, across=1).copy(interpretation="srgb")
        joined.set_type(pyvips.GValue.gint_type, "page-height", geometry.height)
        joined.set_type(pyvips.GValue.gint_type, "loop", int(loop))
        if delay:
            joined.set_type(pyvips.GValue.array_int_type, "delay", list(delay))
        out: bytes = joined.webpsave_buffer(
            Q=ANIMATED_WEBP_QUALITY, effort=ANIMATED_WEBP_EFFORT, keep="none"
        )
    except pyvips.Error as exc:
        raise CorruptImage("The animation could not be decoded.") from exc
    return Rendered(
        slug=spec.slug,
        data=out,
        width=geometry.width,
        height=geometry.height,
        format=formats.WEBP,
        content_type=formats.MEDIA_TYPES[formats.WEBP],
    )


def _frame(frame: pyvips.Image, geometry: Target) -> pyvips.Image:
    """One frame at the rendition's size; a cover crop is centred, the same for every
    frame (an attention crop per frame would make the picture jump)."""
    image = to_srgb(frame)
    if not image.hasalpha():  # GIF frames may differ; the joined strip may not
        image = image.bandjoin(255)
    image = image.thumbnail_image(
        geometry.scaled_width, height=geometry.scaled_height, size="force", no_rotate=True
    )
    if geometry.crops:
        left = (geometry.scaled_width - geometry.width) // 2
        top = (geometry.scaled_height - geometry.height) // 2
        image = image.crop(left, top, geometry.width, geometry.height)
    return image
