"""HEVC-coded HEIC: the decoded pixels go to libvips as they are, without a Pillow image
or a bytes copy of the whole picture (about 150 MB each at 48 MP)."""

from __future__ import annotations

import io

import pillow_heif
import pytest
from PIL import Image as PILImage

from imageuploader.imaging import SizeSpec, decode_and_render

H200 = SizeSpec("h200", None, 200, "contain")
H400 = SizeSpec("h400", None, 400, "contain")


def heic(width: int, height: int, mode: str) -> bytes:
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    # An odd width, so that a row is no multiple of any alignment.
    gradient = PILImage.linear_gradient("L").resize((width, height))
    gradient.convert(mode).save(out, "HEIF")
    return out.getvalue()


def refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("a full copy of the decoded picture")


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_hevc_decodes_without_a_full_copy(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    data = heic(641, 480, mode)
    monkeypatch.setattr(pillow_heif.HeifFile, "to_pillow", refuse)
    monkeypatch.setattr(pillow_heif.HeifImage, "to_pillow", refuse)
    monkeypatch.setattr(PILImage.Image, "tobytes", refuse)
    decoded, rendered = decode_and_render(data, [H200, H400], H200, max_pixels=50_000_000)
    assert (decoded.image.width, decoded.image.height) == (534, 400)
    assert (rendered.width, rendered.height) == (267, 200)
    # The picture survives: linear_gradient runs dark at the top to light at the bottom.
    top = decoded.image.crop(0, 0, decoded.image.width, 1).avg()
    bottom = decoded.image.crop(0, decoded.image.height - 1, decoded.image.width, 1).avg()
    assert bottom - top > 150
