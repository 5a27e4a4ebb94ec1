"""Fixtures for the imaging tests: every input image is generated with pyvips, none is committed."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import pyvips

MakeImage = Callable[..., pyvips.Image]


def gradient(width: int, height: int, *, alpha: bool = False) -> pyvips.Image:
    """An 8-bit sRGB image with real structure (so encoders and attention crop have work)."""
    xyz = pyvips.Image.xyz(width, height)
    red = (xyz[0] * 255 / max(1, width - 1)).cast("uchar")
    green = (xyz[1] * 255 / max(1, height - 1)).cast("uchar")
    image = red.bandjoin([green, (red + green) / 2]).cast("uchar")
    if alpha:
        image = image.bandjoin((red / 2 + 64).cast("uchar")).cast("uchar")
    return image.copy(interpretation="srgb")


def solid(width: int, height: int, rgb: tuple[int, int, int]) -> pyvips.Image:
    return (
        (pyvips.Image.black(width, height, bands=3) + list(rgb))
        .cast("uchar")
        .copy(interpretation="srgb")
    )


@pytest.fixture
def make_gradient() -> MakeImage:
    return gradient


@pytest.fixture
def make_solid() -> Callable[[int, int, tuple[int, int, int]], pyvips.Image]:
    return solid


@pytest.fixture(scope="session")
def studio_jpeg() -> bytes:
    """A 4:3 12 MP camera-like JPEG (4000 x 3000)."""
    data: bytes = gradient(4000, 3000).jpegsave_buffer(Q=90)
    return data


@pytest.fixture(scope="session")
def small_jpeg() -> bytes:
    data: bytes = gradient(400, 300).jpegsave_buffer(Q=90)
    return data


@pytest.fixture(scope="session")
def png_bomb() -> bytes:
    """A real 30000 x 30000 PNG (900 MP) that compresses to under 1 MB."""
    data: bytes = pyvips.Image.black(30000, 30000).pngsave_buffer(compression=9)
    return data
