"""The decoded intermediate image, and its lossless serialization for background workers.

The request decodes the upload once (shrink-on-load, sRGB, upright) into a
`Decoded`; a worker can reload it with `decode_intermediate` and make the
remaining renditions without decoding the full original again.

Format (libvips cannot write its native `.v` to a buffer): the magic `IUIM`, a
version byte, a big-endian u32 header length, a JSON header, then the raw
8-bit sRGB pixels in a zlib stream of stored (level 0) blocks — lossless,
checksummed, and both writing and reloading run at memcpy speed. Level 1 saved
only ~12% on photos (sensor noise barely compresses) yet cost about as much as
the shrink-on-load decode itself, on every upload's critical path; the reader
inflates any level, so intermediates written at level 1 still load.
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
VERSION: Final = 1
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
    header = json.dumps(
        {
            "info": asdict(decoded.info),
            "width": image.width,
            "height": image.height,
            "bands": image.bands,
        },
        separators=(",", ":"),
    ).encode()
    pixels = zlib.compress(image.write_to_memory(), 0)  # stored: see module docstring
    return _PREFIX.pack(MAGIC, VERSION, len(header)) + header + pixels


def decode_intermediate(data: bytes) -> Decoded:
    """Reload bytes made by `encode_intermediate`; raise CorruptImage if they are not."""
    try:
        magic, version, header_len = _PREFIX.unpack_from(data)
        if magic != MAGIC or version != VERSION:
            raise ValueError(f"magic {magic!r} version {version}")
        start = _PREFIX.size + header_len
        header = json.loads(data[_PREFIX.size : start])
        width, height, bands = int(header["width"]), int(header["height"]), int(header["bands"])
        expected = width * height * bands
        # max_length bounds memory even if the payload is a zlib bomb.
        inflater = zlib.decompressobj()
        pixels = inflater.decompress(data[start:], expected + 1)
        if len(pixels) != expected or not inflater.eof:
            raise ValueError(f"{len(pixels)} pixel bytes, expected {expected}")
        info = ImageInfo(**header["info"])
    except (struct.error, ValueError, KeyError, TypeError, zlib.error) as exc:
        raise CorruptImage(f"The stored intermediate image is damaged ({exc}).") from exc
    image = pyvips.Image.new_from_memory(pixels, width, height, bands, "uchar")
    return Decoded(info=info, image=image.copy(interpretation="srgb"))
