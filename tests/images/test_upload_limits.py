"""Upload limits (bytes, pixels, minimum resolution) refuse clearly and store nothing."""

from __future__ import annotations

import dataclasses

import pytest
import pyvips

from imageuploader.settings import Settings
from tests.conftest import app_for

from .conftest import photo
from .test_upload import assert_nothing_stored

pytestmark = pytest.mark.usefixtures("settings")


def noise(width: int, height: int) -> bytes:
    """Noise does not compress: hundreds of kB as JPEG."""
    return pyvips.Image.gaussnoise(width, height).cast("uchar").jpegsave_buffer(Q=95)


@pytest.fixture
def strict_settings(settings: Settings) -> Settings:
    """Small limits so refusals need no huge files."""
    return dataclasses.replace(
        settings,
        max_upload_bytes=50_000,
        max_pixels=1_000_000,
        upload_min_resolution=(320, 240),
    )


@pytest.fixture
def app(strict_settings: Settings, clock):
    return app_for(strict_settings, clock=clock)


@pytest.mark.parametrize(
    ("make", "status", "words"),
    [
        (lambda: noise(600, 600), 413, "limit"),
        # Flat black compresses to a few kB: under the byte limit, over the pixel one.
        (lambda: pyvips.Image.black(1001, 1000).pngsave_buffer(), 422, "pixels"),
        (lambda: photo(300, 200), 422, "minimum"),
    ],
    ids=["too-many-bytes", "too-many-pixels", "below-minimum-resolution"],
)
async def test_limits_store_nothing(
    upload, make_user, strict_settings, make, status, words
) -> None:
    headers = await make_user("ann", plan="Studio")
    r = await upload(headers, make())
    assert r.status_code == status, r.text
    assert words in r.json()["detail"].lower()
    await assert_nothing_stored(strict_settings)
