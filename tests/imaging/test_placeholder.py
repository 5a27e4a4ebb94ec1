"""ThumbHash placeholders: the same bytes as the reference encoder, and a decodable sketch
of the right shape, checked with the decoder the pages serve (static/vendor)."""

from __future__ import annotations

import base64
import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest

from imageuploader import imaging
from imageuploader.imaging.placeholder import rgba_to_thumbhash
from tests.imaging.conftest import gradient

VENDORED = next((Path(__file__).parents[2] / "static" / "vendor").glob("thumbhash-*.js"))
BIG = 50_000_000
NODE = shutil.which("node")


def _node(script: str, stdin: bytes) -> str:
    if NODE is None:
        pytest.fail("node is needed to run the vendored reference ThumbHash code")
    module = f"import * as th from {json.dumps(VENDORED.as_uri())};\n{script}"
    done = subprocess.run(  # noqa: S603 - our own fixed script
        [NODE, "--input-type=module", "-e", module],
        input=stdin,
        capture_output=True,
        check=True,
        timeout=30,
    )
    return done.stdout.decode().strip()


def _reference_hash(width: int, height: int, rgba: bytes) -> str:
    script = (
        "import { readFileSync } from 'fs';"
        f"const rgba = new Uint8Array(readFileSync(0));"
        f"console.log(Buffer.from(th.rgbaToThumbHash({width}, {height}, rgba)).toString('base64'));"
    )
    return _node(script, rgba)


def _decoded_size(placeholder: str) -> tuple[int, int]:
    script = (
        "import { readFileSync } from 'fs';"
        "const hash = Buffer.from(readFileSync(0).toString(), 'base64');"
        "const { w, h, rgba } = th.thumbHashToRGBA(hash);"
        "if (rgba.length !== w * h * 4) throw new Error('bad pixels');"
        "console.log(JSON.stringify([w, h]));"
    )
    width, height = json.loads(_node(script, placeholder.encode()))
    return width, height


@pytest.mark.parametrize(("width", "height", "alpha"), [(32, 21, False), (18, 32, True)])
def test_encoder_matches_the_reference_byte_for_byte(width: int, height: int, alpha: bool) -> None:
    rng = random.Random(width * height)
    rgba = bytes(
        rng.randrange(256) if alpha or i % 4 != 3 else 255 for i in range(width * height * 4)
    )
    ours = base64.b64encode(rgba_to_thumbhash(width, height, rgba)).decode()
    assert ours == _reference_hash(width, height, rgba)


def test_encoder_matches_the_reference_on_a_smooth_image() -> None:
    """A symmetric gradient puts coefficients exactly on a rounding boundary, where the
    order of the float sums decides: the header is equal, each 4-bit AC term within 1."""
    rgba = bytes(gradient(18, 32, alpha=True).write_to_memory())
    ours = rgba_to_thumbhash(18, 32, rgba)
    reference = base64.b64decode(_reference_hash(18, 32, rgba))
    assert ours[:6] == reference[:6] and len(ours) == len(reference)
    for mine, theirs in zip(ours[6:], reference[6:], strict=True):
        for shift in (0, 4):
            assert abs((mine >> shift & 15) - (theirs >> shift & 15)) <= 1


@pytest.mark.parametrize(("width", "height"), [(1500, 1000), (600, 1200), (800, 800)])
def test_placeholder_decodes_to_the_images_aspect_ratio(width: int, height: int) -> None:
    data = gradient(width, height).jpegsave_buffer(Q=90)
    decoded = imaging.decode(data, [imaging.SizeSpec("h200", None, 200)], max_pixels=BIG)
    placeholder = imaging.placeholder(decoded)
    assert len(base64.b64decode(placeholder)) <= 25
    w, h = _decoded_size(placeholder)
    # ThumbHash keeps the aspect ratio to within its coarse 1..7 grid.
    assert w / h == pytest.approx(width / height, rel=0.15)


def test_a_transparent_png_keeps_alpha_in_its_placeholder() -> None:
    data = gradient(400, 300, alpha=True).pngsave_buffer()
    decoded = imaging.decode(data, [imaging.SizeSpec("h200", None, 200)], max_pixels=BIG)
    header = base64.b64decode(imaging.placeholder(decoded))
    assert header[2] & 0x80  # the has-alpha bit of the 24-bit header


def test_oversized_input_is_refused() -> None:
    with pytest.raises(ValueError, match="100x100"):
        rgba_to_thumbhash(101, 10, bytes(101 * 10 * 4))
