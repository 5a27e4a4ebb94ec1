"""Removing location and device metadata from an original without touching its pixels.

What is delivered as "the original" must not carry GPS positions, camera serial
numbers, maker notes or XMP/IPTC text unless its owner asked to keep them. Each
format is edited at the container level, so the compressed image data is copied
byte for byte (no re-encoding, no quality loss), and what decoding needs stays:
the EXIF orientation (rewritten as an EXIF block holding only that tag), the ICC
profile, and colour and animation chunks. Bytes after the image's end marker
(appended payloads, "motion photo" videos) are dropped. TIFF is re-saved
losslessly by libvips, keeping only the ICC profile and orientation, because its
metadata lives in the same IFDs as its pixel layout.

No maintained library does this for every format here: piexif (last released
2019) only rewrites JPEG EXIF, and Pillow would re-encode.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator

import pyvips

from imageuploader.imaging.errors import CorruptImage

ORIENTATION_TAG = 0x0112
UNREADABLE = (
    "The {} file is damaged or truncated: its metadata cannot be read, so it cannot be "
    "removed safely."
)


def strip_metadata(data: bytes, fmt: str) -> bytes:
    """`data` (of format `fmt`, as probe names it) without location or device metadata.

    Raises CorruptImage when the container cannot be walked: an original whose
    metadata we cannot find is not one we can promise to have cleaned."""
    stripper = _STRIPPERS.get(fmt)
    if stripper is None:
        raise CorruptImage(f"Removing metadata from {fmt} files is not supported.")
    try:
        return stripper(data)
    except (IndexError, ValueError, struct.error, pyvips.Error) as exc:
        raise CorruptImage(UNREADABLE.format(fmt.upper())) from exc


# EXIF (a TIFF structure) ----------------------------------------------------------


def exif_orientation(tiff: bytes) -> int | None:
    """The Orientation (1-8) in IFD0 of an EXIF TIFF block, if present and sane."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack_from(order + "I", tiff, 4)
    if ifd + 2 > len(tiff):
        return None
    (count,) = struct.unpack_from(order + "H", tiff, ifd)
    for n in range(count):
        entry = ifd + 2 + 12 * n
        if entry + 12 > len(tiff):
            return None
        tag, kind, _ = struct.unpack_from(order + "HHI", tiff, entry)
        if tag == ORIENTATION_TAG and kind == 3:  # SHORT
            (value,) = struct.unpack_from(order + "H", tiff, entry + 8)
            return value if 1 <= value <= 8 else None
    return None


def orientation_only_exif(orientation: int) -> bytes:
    """A TIFF block whose IFD0 holds one entry, Orientation, and nothing else."""
    return b"MM\x00\x2a" + struct.pack(">IHHHIHHI", 8, 1, ORIENTATION_TAG, 3, 1, orientation, 0, 0)


# JPEG -----------------------------------------------------------------------------

SOI, EOI, SOS, COM = 0xD8, 0xD9, 0xDA, 0xFE
APP0, APP1, APP2, APP14 = 0xE0, 0xE1, 0xE2, 0xEE
EXIF_HEADER = b"Exif\x00\x00"


def _jpeg_keeps(marker: int, body: bytes) -> bool:
    """Segments decoding needs; every APPn but JFIF, ICC and Adobe, and comments, go."""
    if marker == APP0:
        return body.startswith(b"JFIF\x00")  # JFXX carries a thumbnail
    if marker == APP2:
        return body.startswith(b"ICC_PROFILE\x00")  # MPF/FlashPix index other images
    if marker == APP14:
        return body.startswith(b"Adobe")  # the colour transform of CMYK/YCCK files
    return not (0xE0 <= marker <= 0xEF or marker == COM)


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


def _entropy_end(data: bytes, start: int) -> int:
    """Where the entropy-coded data after an SOS ends: the next real marker."""
    i = start
    while True:
        i = data.index(b"\xff", i)
        following = data[i + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:  # stuffing, restart markers
            i += 2
        elif following == 0xFF:  # fill byte before a marker
            i += 1
        else:
            return i


def strip_jpeg(data: bytes) -> bytes:
    """Segments kept as they are, scans copied byte for byte, EXIF cut to Orientation."""
    if data[:2] != b"\xff\xd8":
        raise ValueError("no JPEG start-of-image marker")
    out = [data[:2]]
    i = 2
    while True:
        if data[i] != 0xFF:
            raise ValueError(f"expected a marker at byte {i}")
        while data[i] == 0xFF:  # fill bytes may precede a marker
            i += 1
        marker = data[i]
        i += 1
        if marker == EOI:
            out.append(b"\xff\xd9")
            return b"".join(out)  # anything after the image is dropped
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            out.append(bytes((0xFF, marker)))
            continue
        (length,) = struct.unpack_from(">H", data, i)
        if length < 2 or i + length > len(data):
            raise ValueError(f"segment {marker:#x} runs past the end")
        body = data[i + 2 : i + length]
        i += length
        if marker == APP1 and body.startswith(EXIF_HEADER):
            orientation = exif_orientation(body[len(EXIF_HEADER) :])
            if orientation is not None:
                out.append(_segment(APP1, EXIF_HEADER + orientation_only_exif(orientation)))
        elif _jpeg_keeps(marker, body):
            out.append(_segment(marker, body))
        if marker == SOS:
            end = _entropy_end(data, i)
            out.append(data[i:end])
            i = end


# PNG ------------------------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Ancillary chunks that shape how pixels look or animate; text, time and EXIF go.
PNG_KEEP = frozenset(
    {
        b"PLTE", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"cICP", b"mDCv", b"cLLi",
        b"sBIT", b"bKGD", b"pHYs", b"hIST", b"acTL", b"fcTL", b"fdAT",
    }
)  # fmt: skip


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def strip_png(data: bytes) -> bytes:
    if not data.startswith(PNG_SIGNATURE):
        raise ValueError("no PNG signature")
    out = [PNG_SIGNATURE]
    i = len(PNG_SIGNATURE)
    while True:
        (length,) = struct.unpack_from(">I", data, i)
        kind = data[i + 4 : i + 8]
        end = i + 12 + length
        if end > len(data):
            raise ValueError(f"chunk {kind!r} runs past the end")
        critical = kind[:1].isupper()
        if kind == b"eXIf":
            orientation = exif_orientation(data[i + 8 : i + 8 + length])
            if orientation is not None:
                out.append(_png_chunk(kind, orientation_only_exif(orientation)))
        elif critical or kind in PNG_KEEP:
            out.append(data[i:end])
        i = end
        if kind == b"IEND":
            return b"".join(out)


# WebP -----------------------------------------------------------------------------

WEBP_KEEP = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"})
VP8X_EXIF, VP8X_XMP = 0x08, 0x04


def _riff_chunks(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, bytes]]:
    i = start
    while i < end:
        kind = data[i : i + 4]
        (size,) = struct.unpack_from("<I", data, i + 4)
        body = data[i + 8 : i + 8 + size]
        if len(body) != size:
            raise ValueError(f"chunk {kind!r} runs past the end")
        yield kind, body
        i += 8 + size + (size & 1)


def _riff_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def strip_webp(data: bytes) -> bytes:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("no RIFF/WEBP header")
    (riff_size,) = struct.unpack_from("<I", data, 4)
    end = min(len(data), 8 + riff_size)
    chunks: list[tuple[bytes, bytes]] = []
    for kind, body in _riff_chunks(data, 12, end):
        if kind == b"EXIF":
            orientation = exif_orientation(body.removeprefix(EXIF_HEADER))
            if orientation is not None:
                chunks.append((kind, orientation_only_exif(orientation)))
        elif kind in WEBP_KEEP:
            chunks.append((kind, body))
    kinds = {kind for kind, _ in chunks}
    out = []
    for kind, body in chunks:
        if kind == b"VP8X":  # its flags must announce only the chunks that remain
            flags = body[0] & ~(VP8X_EXIF | VP8X_XMP)
            flags |= VP8X_EXIF if b"EXIF" in kinds else 0
            body = bytes((flags,)) + body[1:]
        out.append(_riff_chunk(kind, body))
    payload = b"WEBP" + b"".join(out)
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


# GIF ------------------------------------------------------------------------------

# Application extensions that only animate or colour the image.
GIF_KEEP_APPS = (b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012")


def _gif_sub_blocks(data: bytes, i: int) -> int:
    """The index just past a chain of data sub-blocks starting at `i`."""
    while True:
        size = data[i]
        i += 1 + size
        if size == 0:
            if i > len(data):
                raise ValueError("sub-blocks run past the end")
            return i


def strip_gif(data: bytes) -> bytes:
    """Comment and foreign application extensions (XMP among them) are dropped."""
    if data[:6] not in (b"GIF87a", b"GIF89a"):
        raise ValueError("no GIF header")
    flags = data[10]
    i = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    out = [data[:i]]
    while True:
        block = data[i]
        if block == 0x3B:  # trailer
            out.append(b"\x3b")
            return b"".join(out)
        if block == 0x2C:  # image descriptor, local colour table, LZW data
            local = data[i + 9]
            start = i
            i += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
            i = _gif_sub_blocks(data, i + 1)  # after the LZW minimum code size
            out.append(data[start:i])
        elif block == 0x21:
            label = data[i + 1]
            start = i
            i = _gif_sub_blocks(data, i + 2)
            keep = label in (0xF9, 0x01)  # graphic control, plain text
            if label == 0xFF:
                keep = data[start + 3 : start + 14] in GIF_KEEP_APPS
            if keep:
                out.append(data[start:i])
        else:
            raise ValueError(f"unknown GIF block {block:#x} at byte {i}")


# HEIF (HEIC, AVIF) ----------------------------------------------------------------


def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, body start, box end) of each ISO-BMFF box in data[start:end]."""
    i = start
    while i + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, i)
        header = 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, i + 8)
            header = 16
        elif size == 0:
            size = end - i
        if size < header or i + size > end:
            raise ValueError(f"box {kind!r} runs past the end")
        yield kind, i + header, i + size
        i += size


def _uint(data: bytes, i: int, size: int) -> tuple[int, int]:
    return (int.from_bytes(data[i : i + size], "big") if size else 0), i + size


def _heif_metadata_items(data: bytes, meta: int, meta_end: int) -> set[int]:
    """Ids of the EXIF and XMP items listed in a meta box's iinf."""
    found: set[int] = set()
    for kind, body, end in _boxes(data, meta + 4, meta_end):  # meta is a full box
        if kind != b"iinf":
            continue
        version = data[body]
        first = body + 4 + (4 if version else 2)
        for entry, at, _ in _boxes(data, first, end):
            if entry != b"infe" or data[at] < 2:
                continue
            id_size = 4 if data[at] == 3 else 2
            item, i = _uint(data, at + 4, id_size)
            item_type = data[i + 2 : i + 6]
            name_end = data.index(b"\x00", i + 6)
            content_type = data[name_end + 1 : data.index(b"\x00", name_end + 1)]
            xmp = content_type.lower() in (b"application/rdf+xml", b"application/xmp+xml")
            if item_type == b"Exif" or (item_type == b"mime" and xmp):
                found.add(item)
    return found


def _heif_extents(data: bytes, meta: int, meta_end: int, items: set[int]) -> list[tuple[int, int]]:
    """(file offset, length) of every extent of `items`, from the meta box's iloc."""
    extents: list[tuple[int, int]] = []
    for kind, body, _ in _boxes(data, meta + 4, meta_end):
        if kind != b"iloc":
            continue
        version = data[body]
        i = body + 4
        offset_size, length_size = data[i] >> 4, data[i] & 15
        base_size, index_size = data[i + 1] >> 4, (data[i + 1] & 15 if version else 0)
        count, i = _uint(data, i + 2, 4 if version == 2 else 2)
        for _ in range(count):
            item, i = _uint(data, i, 4 if version == 2 else 2)
            method = 0
            if version:
                method, i = _uint(data, i, 2)
                method &= 15
            i += 2  # data reference index
            base, i = _uint(data, i, base_size)
            n, i = _uint(data, i, 2)
            for _ in range(n):
                _, i = _uint(data, i, index_size)
                offset, i = _uint(data, i, offset_size)
                length, i = _uint(data, i, length_size)
                if item in items:
                    if method != 0:
                        raise ValueError("metadata stored inside the meta box (idat)")
                    extents.append((base + offset, length))
    return extents


def strip_heif(data: bytes) -> bytes:
    """EXIF and XMP items blanked in place: every offset in the file stays valid.

    HEIF orientation is the `irot`/`imir` properties, not EXIF, so nothing of the
    EXIF is worth keeping; a blank TIFF header remains so readers still parse it."""
    out = bytearray(data)
    for kind, body, end in _boxes(data, 0, len(data)):
        if kind != b"meta":
            continue
        items = _heif_metadata_items(data, body, end)
        for offset, length in _heif_extents(data, body, end, items):
            if offset + length > len(data) or length == 0:
                raise ValueError("a metadata item lies outside the file")
            out[offset : offset + length] = bytes(length)
    return bytes(out)


# TIFF -----------------------------------------------------------------------------


def strip_tiff(data: bytes) -> bytes:
    """Re-saved losslessly (deflate), every page, keeping only ICC and orientation."""
    image = pyvips.Image.new_from_buffer(data, "", n=-1, access="sequential")
    saved: bytes = image.tiffsave_buffer(
        compression="deflate",
        keep=pyvips.enums.ForeignKeep.ICC,
        page_height=image.get_page_height(),
    )
    return saved


_STRIPPERS: dict[str, Callable[[bytes], bytes]] = {
    "jpeg": strip_jpeg,
    "png": strip_png,
    "webp": strip_webp,
    "gif": strip_gif,
    "heic": strip_heif,
    "avif": strip_heif,
    "tiff": strip_tiff,
}
