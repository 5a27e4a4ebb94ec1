"""Hostile upload files, generated on the fly (never megabytes of pixels in memory)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pyvips

HTML_PAYLOAD = b"<html><body><script>alert(document.cookie)</script></body></html>"


def photo(width: int = 640, height: int = 480, suffix: str = ".jpg") -> bytes:
    xy = pyvips.Image.xyz(width, height)
    image = (xy[0] * (255.0 / width)).bandjoin([xy[1] * (255.0 / height), xy[0] * 0 + 90])
    return image.cast("uchar").copy(interpretation="srgb").write_to_buffer(suffix)


def png_chunk(kind: bytes, data: bytes, *, crc: int | None = None) -> bytes:
    value = zlib.crc32(kind + data) if crc is None else crc
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", value & 0xFFFFFFFF)


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A PNG whose header claims width x height; the IDAT holds a few rows only.

    zlib of a couple of zero rows is tiny, so the file is a few KB while the
    header announces 900 million RGB pixels.
    """
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + 3 * width) * 4, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", rows)
        + png_chunk(b"IEND", b"")
    )


def png_bad_crc() -> bytes:
    """A real PNG whose IDAT checksum is wrong."""
    data = bytearray(photo(320, 240, ".png"))
    at = data.index(b"IDAT")
    length = struct.unpack(">I", data[at - 4 : at])[0]
    crc_at = at + 4 + length
    data[crc_at : crc_at + 4] = bytes(b ^ 0xFF for b in data[crc_at : crc_at + 4])
    return bytes(data)


def jpeg_claiming(width: int = 65_000, height: int = 65_000) -> bytes:
    """A small real JPEG whose SOF header is rewritten to claim width x height."""
    data = bytearray(photo(64, 48))
    i = 2
    while i < len(data):
        marker = data[i + 1]
        length = struct.unpack(">H", data[i + 2 : i + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2):  # SOF0/1/2: precision, height, width
            data[i + 5 : i + 9] = struct.pack(">HH", height, width)
            return bytes(data)
        i += 2 + length
    raise AssertionError("no SOF marker in the generated JPEG")


def truncated_jpeg() -> bytes:
    data = photo(640, 480)
    return data[: len(data) // 2]


def svg_with_script() -> bytes:
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" '
        b'height="100"><script>alert(1)</script><rect width="100" height="100"/></svg>'
    )


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("photo.jpg", photo(64, 48))
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


def html_jpeg_polyglot() -> bytes:
    """Valid JPEG that also carries HTML: in a comment segment and after EOI."""
    data = photo(640, 480)
    comment = b"\xff\xfe" + struct.pack(">H", len(HTML_PAYLOAD) + 2) + HTML_PAYLOAD
    return data[:2] + comment + data[2:] + HTML_PAYLOAD


def html_then_jpeg() -> bytes:
    """HTML first, JPEG bytes after: a browser sniffing it would see a page."""
    return HTML_PAYLOAD + photo(64, 48)


def _gif_frame_parts(gif: bytes) -> tuple[bytes, bytes, bytes]:
    """Split a one-frame GIF into (header + screen + colour table, frame, trailer)."""
    flags = gif[10]
    at = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    head = gif[:at]
    i = at
    while gif[i] == 0x21:  # skip extensions: label, then sub-blocks
        i += 2
        while gif[i]:
            i += 1 + gif[i]
        i += 1
    assert gif[i] == 0x2C, "expected an image descriptor"
    start = i
    local = gif[i + 9]
    i += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
    i += 1  # LZW minimum code size
    while gif[i]:
        i += 1 + gif[i]
    i += 1
    return head, gif[start:i], gif[i:]


def animated_gif(frames: int = 300, side: int = 2000) -> bytes:
    """`frames` frames of side x side, made from one flat frame copied many times.

    A flat frame compresses to a few KB with LZW, so hundreds of 4-megapixel
    frames fit in about a megabyte and cost nothing to build.
    """
    flat = (pyvips.Image.black(side, side) + 128).cast("uchar")
    head, frame, trailer = _gif_frame_parts(flat.gifsave_buffer())
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    delay = b"\x21\xf9\x04\x00\x02\x00\x00\x00"  # 20 ms per frame
    return head + loop + (delay + frame) * frames + trailer


def oversized(size: int) -> bytes:
    """A valid JPEG padded past `size` bytes (bytes after EOI are ignored by decoders)."""
    data = photo(64, 48)
    return data + b"\x00" * max(0, size - len(data))
