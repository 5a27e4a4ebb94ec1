"""Photos that carry what a phone or camera writes: GPS, make, model, serial, maker
notes, XMP, IPTC, comments, plus orientation and an ICC profile. Built byte by byte
(no committed files) so each test knows exactly what went in."""

from __future__ import annotations

import struct
import zlib

import pyvips

# Strings that must never survive stripping; each sits in a different place.
SECRETS = (
    b"Canon",  # IFD0 Make
    b"EOS R5 Mark",  # IFD0 Model
    b"SN-0042-7781",  # EXIF BodySerialNumber
    b"MAKERNOTE-PAYLOAD",  # EXIF MakerNote
    b"XMP-HOME-ADDRESS",  # XMP packet
    b"IPTC-CITY-NAME",  # Photoshop IRB / IPTC
    b"COMMENT-SECRET",  # JPEG COM / PNG tEXt / GIF comment
)
LATITUDE = (51, 30, 26)  # written as GPS rationals; checked through libvips' parse


def _ifd(entries: list[tuple[int, int, int, bytes]], start: int) -> tuple[bytes, bytes]:
    """A big-endian IFD at offset `start`: (directory, the data it points to)."""
    directory = struct.pack(">H", len(entries))
    extra = b""
    data_at = start + 2 + 12 * len(entries) + 4
    for tag, kind, count, value in entries:
        if len(value) <= 4:
            directory += struct.pack(">HHI", tag, kind, count) + value.ljust(4, b"\x00")
        else:
            directory += struct.pack(">HHII", tag, kind, count, data_at + len(extra))
            extra += value + (b"\x00" if len(value) & 1 else b"")
    return directory + b"\x00\x00\x00\x00", extra


def exif_tiff(orientation: int = 6) -> bytes:
    """EXIF as cameras write it: IFD0 (make, model, orientation) -> EXIF IFD (serial,
    maker note) and GPS IFD (latitude, longitude)."""

    def ascii_(text: bytes) -> tuple[int, bytes]:
        return len(text) + 1, text + b"\x00"

    def rationals(values: tuple[int, ...]) -> bytes:
        return b"".join(struct.pack(">II", v, 1) for v in values)

    make_n, make = ascii_(b"Canon")
    model_n, model = ascii_(b"EOS R5 Mark II")
    serial_n, serial = ascii_(b"SN-0042-7781")
    # Sizes are fixed, so each IFD's offset can be computed before writing it.
    ifd0_entries = 5
    ifd0_at = 8
    ifd0_size = 2 + 12 * ifd0_entries + 4
    ifd0_extra = len(make) + len(model) + (len(make) & 1) + (len(model) & 1)
    exif_at = ifd0_at + ifd0_size + ifd0_extra
    note = b"MAKERNOTE-PAYLOAD"
    exif_dir, exif_extra = _ifd(
        [(0xA431, 2, serial_n, serial), (0x927C, 7, len(note), note)], exif_at
    )
    gps_at = exif_at + len(exif_dir) + len(exif_extra)
    ifd0, ifd0_data = _ifd(
        [
            (0x010F, 2, make_n, make),
            (0x0110, 2, model_n, model),
            (0x0112, 3, 1, struct.pack(">H", orientation)),
            (0x8769, 4, 1, struct.pack(">I", exif_at)),
            (0x8825, 4, 1, struct.pack(">I", gps_at)),
        ],
        ifd0_at,
    )
    gps_dir, gps_extra = _ifd(
        [
            (0x0001, 2, 2, b"N\x00"),
            (0x0002, 5, 3, rationals(LATITUDE)),
            (0x0003, 2, 2, b"W\x00"),
            (0x0004, 5, 3, rationals((0, 7, 39))),
        ],
        gps_at,
    )
    tiff = b"MM\x00\x2a" + struct.pack(">I", ifd0_at) + ifd0 + ifd0_data
    assert len(tiff) == exif_at, (len(tiff), exif_at)
    return tiff + exif_dir + exif_extra + gps_dir + gps_extra


XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b"<rdf:RDF><rdf:Description><photoshop:City>XMP-HOME-ADDRESS</photoshop:City>"
    b'</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
)


def gradient(width: int = 320, height: int = 240) -> pyvips.Image:
    xy = pyvips.Image.xyz(width, height)
    image = (xy[0] * (255 / width)).bandjoin([xy[1] * (255 / height), xy[0] * 0 + 90])
    return image.cast("uchar").copy(interpretation="srgb")


def _segment(marker: int, body: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body


def camera_jpeg(width: int = 320, height: int = 240, orientation: int = 6) -> bytes:
    """A JPEG with an sRGB ICC profile, EXIF (GPS, serial...), XMP, IPTC, a comment and
    a payload after its end marker."""
    plain: bytes = gradient(width, height).jpegsave_buffer(profile="srgb", Q=90)
    iptc = (
        b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x12\x1c\x02\x5a\x00\x0eIPTC-CITY-NAME"
    )
    inserted = (
        _segment(0xE1, b"Exif\x00\x00" + exif_tiff(orientation))
        + _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + XMP)
        + _segment(0xED, iptc)
        + _segment(0xFE, b"COMMENT-SECRET")
    )
    return plain[:2] + inserted + plain[2:] + b"trailing SN-0042-7781 video"


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def camera_png(orientation: int = 6) -> bytes:
    plain: bytes = gradient().pngsave_buffer(profile="srgb")
    ihdr_end = 8 + 12 + 13
    inserted = (
        _png_chunk(b"eXIf", exif_tiff(orientation))
        + _png_chunk(b"tEXt", b"Comment\x00COMMENT-SECRET")
        + _png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + XMP)
        + _png_chunk(b"tIME", b"\x07\xea\x0b\x1e\x0c\x00\x00")
    )
    return plain[:ihdr_end] + inserted + plain[ihdr_end:]


def _riff(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) & 1 else b"")


def camera_webp(orientation: int = 6) -> bytes:
    """A lossy WebP with an ICC profile, turned into the extended format with EXIF and XMP."""
    plain: bytes = gradient().webpsave_buffer(Q=80, profile="srgb")
    chunks = []
    i = 12
    while i < len(plain):
        size = struct.unpack_from("<I", plain, i + 4)[0]
        chunks.append((plain[i : i + 4], plain[i + 8 : i + 8 + size]))
        i += 8 + size + (size & 1)
    by_kind = dict(chunks)
    image = pyvips.Image.new_from_buffer(plain, "")
    vp8x = bytes((0x20 | 0x08 | 0x04, 0, 0, 0))  # ICC, EXIF, XMP
    vp8x += (image.width - 1).to_bytes(3, "little") + (image.height - 1).to_bytes(3, "little")
    body = (
        _riff(b"VP8X", vp8x)
        + _riff(b"ICCP", by_kind[b"ICCP"])
        + _riff(b"VP8 ", by_kind[b"VP8 "])
        + _riff(b"EXIF", exif_tiff(orientation))
        + _riff(b"XMP ", XMP)
    )
    return b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body


def camera_gif() -> bytes:
    plain: bytes = gradient(64, 48).gifsave_buffer()
    comment = b"\x21\xfe" + bytes((len(b"COMMENT-SECRET"),)) + b"COMMENT-SECRET" + b"\x00"
    blocks = b"".join(
        bytes((len(XMP[i : i + 255]),)) + XMP[i : i + 255] for i in range(0, len(XMP), 255)
    )
    xmp = b"\x21\xff\x0bXMP DataXMP" + blocks + b"\x00"
    flags = plain[10]
    header_end = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    return plain[:header_end] + comment + xmp + plain[header_end:]


def jpeg_scans(data: bytes) -> bytes:
    """Everything from the first start-of-scan marker to the end-of-image marker."""
    start = data.index(b"\xff\xda")
    return data[start : data.rindex(b"\xff\xd9", 0, len(data)) + 2]


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, body) of each header segment before the first scan."""
    found = []
    i = 2
    while data[i + 1] != 0xDA:
        marker = data[i + 1]
        (length,) = struct.unpack_from(">H", data, i + 2)
        found.append((marker, data[i + 4 : i + 2 + length]))
        i += 2 + length
    return found
