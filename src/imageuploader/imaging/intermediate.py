"""The decoded intermediate image, and its lossless serialization for background workers.

The request decodes the upload once (shrink-on-load, sRGB, upright) into a
`Decoded`; a worker can reload it with `decode_intermediate` and make the
remaining renditions without decoding the full original again.

Format (libvips cannot write its native `.v` to a buffer): the magic `IUIM`, a
version byte, a big-endian u32 header length, a JSON header, then the raw
8-bit sRGB pixels. Version 2 stores them as they are, with their CRC-32 in the
header: a worker reloads them without a copy (libvips reads the bytes it was
given), and zlib computes the CRC with the GIL released. Version 1 wrapped the
pixels in a zlib stream of stored blocks; inflating it cost a worker a third
of its Python time on 2 K photos, holding the GIL that its other jobs were
waiting for. Version 1 intermediates (of any zlib level) still load.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import asdict, dataclass
from typing import Final

import pyvips

from imageuploader.imaging.errors import CorruptImage
from imageuploader.imaging.geometry import SizeSpec, target
from imageuploader.imaging.probe import ImageInfo

MAGIC: Final = b"IUIM"
VERSION: Final = 2
_ZLIB_VERSION: Final = 1  # still read
_PREFIX: Final = struct.Struct(">4sBI")


@dataclass(frozen=True)
class Decoded:
    """An upright, 8-bit sRGB (plus alpha if any) in-memory image and what the header said.

    `image` may be smaller than the original (`info.oriented_*`): it is only
    as large as the biggest rendition it was decoded for. libvips images are
    immutable, so one `Decoded` can be rendered from several threads at once.
    """

    info: ImageInfo
    image: pyvips.Image


def covers(decoded: Decoded, spec: SizeSpec) -> bool:
    """True if `decoded` has enough pixels to make `spec` without upscaling.

    If False, the rendition would still get the right dimensions but be
    blurry: decode the original again instead.
    """
    info = decoded.info
    need = target(spec, info.oriented_width, info.oriented_height)
    return decoded.image.width >= need.scaled_width and decoded.image.height >= need.scaled_height


def encode_intermediate(decoded: Decoded) -> bytes:
    """Serialize `decoded` losslessly (see module docstring for the format)."""
    image = decoded.image
    pixels = image.write_to_memory()
    header = json.dumps(
        {
            "info": asdict(decoded.info),
            "width": image.width,
            "height": image.height,
            "bands": image.bands,
            "crc32": zlib.crc32(pixels),
        },
        separators=(",", ":"),
    ).encode()
    return b"".join((_PREFIX.pack(MAGIC, VERSION, len(header)), header, pixels))


def decode_intermediate(data: bytes) -> Decoded:
    """Reload bytes made by `encode_intermediate`; raise CorruptImage if they are not."""
    try:
        magic, version, header_len = _PREFIX.unpack_from(data)
        if magic != MAGIC or version not in (VERSION, _ZLIB_VERSION):
            raise ValueError(f"magic {magic!r} version {version}")
        start = _PREFIX.size + header_len
        header = json.loads(data[_PREFIX.size : start])
        width, height, bands = int(header["width"]), int(header["height"]), int(header["bands"])
        expected = width * height * bands
        if version == VERSION:
            pixels: bytes | memoryview = memoryview(data)[start:]
            if len(pixels) != expected:
                raise ValueError(f"{len(pixels)} pixel bytes, expected {expected}")
            if zlib.crc32(pixels) != int(header["crc32"]):
                raise ValueError("pixel checksum mismatch")
        else:
            pixels = _inflate(data[start:], expected)
        info = ImageInfo(**header["info"])
    except (struct.error, ValueError, KeyError, TypeError, zlib.error) as exc:
        raise CorruptImage(f"The stored intermediate image is damaged ({exc}).") from exc
    # new_from_memory keeps a reference to `pixels` (and so to `data`): no copy.
    image = pyvips.Image.new_from_memory(pixels, width, height, bands, "uchar")
    return Decoded(info=info, image=image.copy(interpretation="srgb"))


def _inflate(payload: bytes, expected: int) -> bytes:
    # max_length bounds memory even if the payload is a zlib bomb.
    inflater = zlib.decompressobj()
    pixels = inflater.decompress(payload, expected + 1)
    if len(pixels) != expected or not inflater.eof:
        raise ValueError(f"{len(pixels)} pixel bytes, expected {expected}")
    return pixels
