"""The rendition pipeline: uploaded bytes in, encoded renditions out, as ordered small steps.

Steps (after imgproxy's mainPipeline): probe the header (type, pixel limit,
resolutions) -> load with shrink-on-load, upright, sized for the largest
rendition -> sRGB 8-bit -> into memory (the one full decode, which also proves
the file is not truncated) -> per rendition: resize (and attention-crop for
cover) from that intermediate -> encode.

Everything here is synchronous and CPU-bound: call it from a worker thread
(`anyio.to_thread.run_sync`, a Dramatiq actor). The heavy lifting happens in
libvips, which pyvips calls through cffi with the GIL released, and libvips
images are immutable, so these functions are thread-safe and a `Decoded` can
be shared between threads.

Policies:
- animated or multi-page images: only the first frame/page is decoded and
  rendered (libvips' default), so frame count never multiplies the cost;
- output: JPEG q85 for opaque images; WebP q85 (lossy colour, lossless alpha,
  far smaller than PNG, read by every current browser) when the source has an
  alpha channel;
  all metadata (EXIF, GPS, XMP, IPTC, ICC) is dropped; pixels are sRGB, the
  colour space browsers assume for untagged images;
- sizes: computed by `geometry.target` with round-half-up from the original's
  upright size, then forced exactly, so libvips' own rounding never leaks out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

import pillow_heif
import pyvips

from imageuploader.imaging.errors import CorruptImage
from imageuploader.imaging.geometry import SizeSpec, Target, needed_size, target
from imageuploader.imaging.intermediate import (
    Decoded,
    covers,
    decode_intermediate,
    encode_intermediate,
)
from imageuploader.imaging.probe import ImageInfo, probe

__all__ = [
    "Decoded",
    "Rendered",
    "SizeSpec",
    "covers",
    "decode",
    "decode_and_render",
    "decode_intermediate",
    "encode_intermediate",
    "render",
    "render_all",
]

JPEG_QUALITY: Final = 85
WEBP_QUALITY: Final = 85
_NO_CODEC: Final = "has not been built in"  # libheif: no decoder for this codec
_UNBOUNDED: Final = 10_000_000  # libvips' maximum target side: "no constraint"
# Metadata libvips may carry on the decoded image; none of it may reach a rendition.
_METADATA_PREFIXES: Final = (
    *("exif-", "xmp-", "iptc-", "icc-", "heif-", "orientation", "resolution-unit"),
    # animation and palette hints would make savers write animations or palettes
    *("n-pages", "page-height", "delay", "loop", "gif-", "palette", "background"),
    "bits-per-sample",
)


@dataclass(frozen=True)
class Rendered:
    """One encoded rendition, ready to store."""

    slug: str
    data: bytes
    width: int
    height: int
    format: str  # "jpeg" or "webp"
    content_type: str


def _box(info: ImageInfo, width: int, height: int) -> tuple[int, int]:
    if width * info.oriented_height >= height * info.oriented_width:
        return (width, _UNBOUNDED)
    return (_UNBOUNDED, height)


def load(data: bytes, info: ImageInfo, width: int, height: int) -> pyvips.Image:
    """Lazily open the first frame, upright, shrunk on load to at least width x height.

    Only the dominant side is constrained: libvips then rounds the other side
    from it, which can never fall below what `needed_size` asked for.
    `fail_on=error` makes a truncated file raise; it goes through option_string
    for thumbnail_buffer, which does not forward its own fail_on argument to
    the loader in libvips 8.18.
    """
    box = _box(info, width, height)
    # Converts CMYK and ICC-tagged (P3, Adobe RGB) input; untagged pixels are
    # already sRGB by convention, and an sRGB-to-sRGB transform would only cost time.
    colour = {"export_profile": "srgb"} if info.colour_managed else {}
    shrink = jpeg_shrink(info, width, height)
    if shrink > 1:
        # libvips' thumbnail leaves a factor of two to its own resize and so
        # decodes a 12 MP photo in full for a 1024-pixel rendition; libjpeg's
        # scaled IDCT is a clean 1/2..1/8 downscale, so decode at the largest
        # factor that still covers the box (as imgproxy does). What that costs
        # against a full decode is less than the q85 encode loses (see the
        # tests), and the decode, the upload's longest step, gets ~30% faster.
        image = pyvips.Image.new_from_buffer(
            data, "", shrink=shrink, access="sequential", fail_on="error"
        )
        return image.thumbnail_image(box[0], height=box[1], size="down", no_rotate=False, **colour)
    return pyvips.Image.thumbnail_buffer(
        data,
        box[0],
        height=box[1],
        size="down",
        no_rotate=False,
        option_string="fail_on=error",
        **colour,
    )


_JPEG_SHRINKS: Final = (8, 4, 2)  # the scaled IDCTs libjpeg offers


def jpeg_shrink(info: ImageInfo, width: int, height: int) -> int:
    """The largest JPEG shrink-on-load factor whose output still covers width x height.

    libjpeg rounds a scaled side up, and shrinking is the same along either
    axis, so the upright sizes can be compared directly. 1 for other formats.
    """
    if info.format != "jpeg":
        return 1
    for factor in _JPEG_SHRINKS:
        if (
            -(-info.oriented_width // factor) >= width
            and -(-info.oriented_height // factor) >= height
        ):
            return factor
    return 1


def to_srgb(image: pyvips.Image) -> pyvips.Image:
    """Make any decoded image 8-bit sRGB with 3 bands, or 4 with alpha (grey, 16-bit, ...)."""
    if image.interpretation != "srgb" or image.format != "uchar":
        image = image.colourspace("srgb")
    if image.format != "uchar":
        image = image.cast("uchar")
    wanted = 4 if image.hasalpha() else 3
    if image.bands > wanted:
        image = image.extract_band(0, n=wanted)
    return image


def strip_metadata(image: pyvips.Image) -> pyvips.Image:
    """Drop EXIF/XMP/ICC/... so the intermediate is just pixels (copy shares them)."""
    image = image.copy(interpretation="srgb")
    for name in image.get_fields():
        if name.startswith(_METADATA_PREFIXES):
            image.remove(name)
    return image


def decode(
    data: bytes,
    specs: Sequence[SizeSpec],
    *,
    max_pixels: int,
    declared: tuple[int, int] | None = None,
    min_resolution: tuple[int, int] | None = None,
) -> Decoded:
    """Check the upload and decode it once, just large enough for every spec in `specs`.

    Raises the `errors` classes: UnsupportedImageType, ImageTooLarge,
    ResolutionMismatch, ResolutionTooSmall (all from the header, before any
    pixel is decoded), then CorruptImage if the pixel data does not decode.
    Pass every size the image will ever need so that workers can render the
    rest from `encode_intermediate(decoded)`.
    """
    info = _check(data, specs, max_pixels, declared, min_resolution)
    width, height = needed_size(specs, info.oriented_width, info.oriented_height)
    with _corrupt_on_error(info):
        return Decoded(info=info, image=_decoded_pixels(data, info, width, height))


def decode_and_render(
    data: bytes,
    specs: Sequence[SizeSpec],
    first: SizeSpec,
    *,
    max_pixels: int,
    declared: tuple[int, int] | None = None,
    min_resolution: tuple[int, int] | None = None,
) -> tuple[Decoded, Rendered]:
    """`decode` and `render(decoded, first)` in one pass over the original.

    The first rendition is encoded straight from the streaming decode, as the
    floor of the benchmarks does, so decoding and encoding overlap on separate
    cores instead of running one after the other; a tile cache keeps every
    decoded pixel on the way, and the intermediate is then copied out of it,
    not decoded again. This is the upload's critical path (the primary size).
    """
    info = _check(data, specs, max_pixels, declared, min_resolution)
    width, height = needed_size(specs, info.oriented_width, info.oriented_height)
    with _corrupt_on_error(info):
        try:
            streamed = _prepare(load(data, info, width, height))
            tee = streamed.tilecache(
                tile_width=streamed.width,
                tile_height=_TEE_ROWS,
                max_tiles=-1,  # keep every tile: this is the one decode
                threaded=True,  # the encoder's worker threads fill it together
                persistent=True,  # and the copy below reads it afterwards
            )
            rendered = _render_image(info, tee, first)
            return Decoded(info=info, image=tee.copy_memory()), rendered
        except pyvips.Error:
            # HEVC-coded HEIC has no libvips decoder, and a file must never be
            # refused because of the tee: the plain path decides, and raises
            # for a damaged file.
            decoded = Decoded(info=info, image=_decoded_pixels(data, info, width, height))
            return decoded, render(decoded, first)


_TEE_ROWS: Final = 16  # tile height of the tee; libvips' own strip height for JPEG


def _check(
    data: bytes,
    specs: Sequence[SizeSpec],
    max_pixels: int,
    declared: tuple[int, int] | None,
    min_resolution: tuple[int, int] | None,
) -> ImageInfo:
    if not specs:
        raise ValueError("decode() needs at least one SizeSpec.")
    return probe(data, max_pixels=max_pixels, declared=declared, min_resolution=min_resolution)


@contextmanager
def _corrupt_on_error(info: ImageInfo) -> Iterator[None]:
    try:
        yield
    except (pyvips.Error, ValueError, RuntimeError) as exc:
        raise CorruptImage(
            f"The {info.format.upper()} file is damaged or truncated and cannot be decoded."
        ) from exc


def _needs_hevc(info: ImageInfo, exc: pyvips.Error) -> bool:
    return info.format == "heic" and _NO_CODEC in str(exc)


def _prepare(image: pyvips.Image) -> pyvips.Image:
    return strip_metadata(to_srgb(image))


def _decoded_pixels(data: bytes, info: ImageInfo, width: int, height: int) -> pyvips.Image:
    """The intermediate in memory: the single full decode, which also proves the file
    is not truncated."""
    try:
        image = load(data, info, width, height).copy_memory()
    except pyvips.Error as exc:
        if not _needs_hevc(info, exc):
            raise
        image = load_hevc(data, _box(info, width, height))
    return _prepare(image).copy_memory()


def load_hevc(data: bytes, box: tuple[int, int]) -> pyvips.Image:
    """Decode HEVC-coded HEIC (phone photos) with pillow-heif's bundled libde265.

    pyvips-binary's libheif reads HEIC headers but carries no HEVC decoder
    (patents), so libvips cannot decode the pixels itself. pillow-heif applies
    the container's rotation and mirror, so the result is already upright.
    """
    heif = pillow_heif.open_heif(data, convert_hdr_to_8bit=True)
    bands = _HEIF_BANDS.get(heif.mode)
    if bands is None:
        raise pyvips.Error(f"HEIC pixel mode {heif.mode!r} is not supported")
    width, height = heif.size
    # libheif's own buffer, shared with libvips (which keeps a reference to it): no
    # Pillow image and no bytes copy of the whole picture (~150 MB each at 48 MP).
    # Rows may be padded to `stride` bytes: view them as one band, cut the padding
    # off, and fold each row's bytes back into pixels, all without copying.
    rows = pyvips.Image.new_from_memory(heif.data, heif.stride, height, 1, "uchar")
    if heif.stride != width * bands:
        rows = rows.crop(0, 0, width * bands, height)
    image = rows.bandfold(factor=bands) if bands > 1 else rows
    image = image.copy(interpretation="srgb" if bands >= 3 else "b-w")
    return image.thumbnail_image(box[0], height=box[1], size="down")


# pillow-heif's 8-bit modes (after convert_hdr_to_8bit) and their bands.
_HEIF_BANDS: Final = {"RGB": 3, "RGBA": 4, "L": 1, "LA": 2}


def resize(image: pyvips.Image, geometry: Target) -> pyvips.Image:
    """Scale to the exact planned size, then attention-crop if the spec is cover."""
    if (image.width, image.height) != (geometry.scaled_width, geometry.scaled_height):
        image = image.thumbnail_image(
            geometry.scaled_width,
            height=geometry.scaled_height,
            size="force",  # exact dims: aspect is already right to within rounding
            no_rotate=True,
        )
    if geometry.crops:
        image = image.smartcrop(geometry.width, geometry.height, interesting="attention")
    return image


def encode(image: pyvips.Image) -> tuple[bytes, str]:
    """Encode for the web without any metadata; returns (bytes, format)."""
    if image.hasalpha():
        return image.webpsave_buffer(Q=WEBP_QUALITY, keep="none"), "webp"
    return image.jpegsave_buffer(Q=JPEG_QUALITY, keep="none", optimize_coding=True), "jpeg"


def render(decoded: Decoded, spec: SizeSpec) -> Rendered:
    """Make one rendition of `spec` from `decoded` (see `covers` for quality)."""
    return _render_image(decoded.info, decoded.image, spec)


def _render_image(info: ImageInfo, source: pyvips.Image, spec: SizeSpec) -> Rendered:
    geometry = target(spec, info.oriented_width, info.oriented_height)
    image = resize(source, geometry)
    data, fmt = encode(image)
    return Rendered(
        slug=spec.slug,
        data=data,
        width=image.width,
        height=image.height,
        format=fmt,
        content_type=f"image/{fmt}",
    )


def render_all(
    data: bytes,
    specs: Sequence[SizeSpec],
    *,
    max_pixels: int,
    declared: tuple[int, int] | None = None,
    min_resolution: tuple[int, int] | None = None,
) -> list[Rendered]:
    """Decode once and render every spec, smallest output first (list order follows)."""
    decoded = decode(
        data, specs, max_pixels=max_pixels, declared=declared, min_resolution=min_resolution
    )
    info = decoded.info

    def area(spec: SizeSpec) -> int:
        geometry = target(spec, info.oriented_width, info.oriented_height)
        return geometry.scaled_width * geometry.scaled_height

    return [render(decoded, spec) for spec in sorted(specs, key=area)]
