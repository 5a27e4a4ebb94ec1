"""Deterministic, photo-like test JPEGs made with pyvips: no downloads, same bytes every run.

A photo is a colour gradient (light falling across a scene), smooth seeded
blobs (objects) and fine seeded grain (sensor noise), so JPEG sizes and decode
costs resemble a camera's rather than a flat test card's.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Final

import pyvips

MP12: Final = (4000, 3000)
MP48: Final = (8000, 6000)
PHOTO_2K: Final = (2048, 1365)
CAMERA_QUALITY: Final = 90
_BLOB_CELL: Final = 96  # pixels per blob-noise sample: features of roughly this size
_BLOB_SIGMA: Final = 60
_GRAIN_SIGMA: Final = 6


def photo(width: int, height: int, seed: int) -> pyvips.Image:
    """An 8-bit sRGB photo-like image; the same (width, height, seed) gives the same pixels."""
    cells = (max(2, width // _BLOB_CELL), max(2, height // _BLOB_CELL))
    bands = [
        pyvips.Image.gaussnoise(*cells, sigma=_BLOB_SIGMA, mean=128, seed=seed * 10 + band)
        for band in range(3)
    ]
    blobs = bands[0].bandjoin(bands[1:])
    blobs = blobs.resize(width / cells[0], vscale=height / cells[1], kernel="cubic")
    xyz = pyvips.Image.xyz(width, height)
    across, down = xyz[0] * (255.0 / width), xyz[1] * (255.0 / height)
    light = across.bandjoin([down, (across + down) / 2])
    grain = pyvips.Image.gaussnoise(width, height, sigma=_GRAIN_SIGMA, mean=0, seed=seed * 10 + 3)
    # Crop: the blob resize may round one pixel past the requested size.
    scene = (light * 0.5 + blobs.crop(0, 0, width, height) * 0.5 + grain).cast("uchar")
    return scene.copy(interpretation="srgb")


def photo_jpeg(width: int, height: int, seed: int = 1) -> bytes:
    """The photo encoded as a camera would (quality 90, no metadata)."""
    data: bytes = photo(width, height, seed).jpegsave_buffer(Q=CAMERA_QUALITY, keep="none")
    return data


def photo_file(directory: Path, width: int, height: int, seed: int = 1) -> Path:
    """The photo as a file in `directory`, generated once and reused within a run."""
    path = directory / f"photo-{width}x{height}-{seed}.jpg"
    if not path.exists():
        path.write_bytes(photo_jpeg(width, height, seed))
    return path


# JFIF densities are 16-bit and at least 1.
DENSITIES = 65535


def tagged(data: bytes, tag: int) -> bytes:
    """The same JPEG made distinct by `tag`: equal pixels, distinct bytes.

    Repeated uploads of one photo must not be served by any cache keyed on content,
    nor be recognised as duplicates: the tag goes into the JFIF density (which the
    stored original keeps when metadata is removed) as well as a comment segment.
    """
    if data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG: no SOI marker")
    payload = f"bench {tag}".encode()
    segment = b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload
    code = tag % (DENSITIES * DENSITIES)
    # units 1 (dots per inch), then X and Y density: resolution only, never pixels.
    density = struct.pack(">BHH", 1, 1 + code // DENSITIES, 1 + code % DENSITIES)
    if data[2:4] == b"\xff\xe0" and data[6:11] == b"JFIF\x00":
        head = data[:13] + density + data[18:]
    else:
        app0 = b"JFIF\x00\x01\x01" + density + b"\x00\x00"
        head = data[:2] + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + data[2:]
    return head[:2] + segment + head[2:]
