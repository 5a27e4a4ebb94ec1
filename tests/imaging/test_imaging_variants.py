"""Extra output formats: WebP and AVIF keep alpha and size; an animated GIF stays animated."""

from __future__ import annotations

import pytest
import pyvips

from imageuploader import imaging
from imageuploader.imaging import variants
from tests.imaging.conftest import gradient

BIG = 50_000_000
H200 = imaging.SizeSpec("h200", None, 200)


def _alpha_png(width: int = 300, height: int = 200) -> bytes:
    data: bytes = gradient(width, height, alpha=True).pngsave_buffer()
    return data


@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_png_alpha_is_kept(fmt: str) -> None:
    source = gradient(300, 200, alpha=True)
    decoded = imaging.decode(_alpha_png(), [H200], max_pixels=BIG)
    out = variants.render_variant(decoded, H200, fmt)
    image = pyvips.Image.new_from_buffer(out.data, "")
    loader = image.get("vips-loader")
    assert loader.startswith("webp" if fmt == "webp" else "heif"), loader
    assert (out.width, out.height, out.format) == (300, 200, fmt)
    assert out.content_type == f"image/{fmt}"
    assert image.hasalpha() and image.bands == 4
    # AVIF is written at 10 bits and decodes as 16-bit; compare on the source's 8-bit scale.
    assert image.format == ("ushort" if fmt == "avif" else "uchar"), image.format
    # The alpha channel itself survives, not just a band of 255s: it spans 64..191.
    alpha = image.colourspace("srgb")[3]
    assert alpha.format == "uchar"
    assert abs(alpha.min() - source[3].min()) <= 4 and abs(alpha.max() - source[3].max()) <= 4


@pytest.mark.parametrize("fmt", ["webp", "avif"])
def test_an_opaque_variant_has_the_renditions_size_and_no_alpha(fmt: str) -> None:
    data = gradient(1200, 900).jpegsave_buffer(Q=90)
    spec = imaging.SizeSpec("medium", 786, 786)
    decoded = imaging.decode(data, [spec], max_pixels=BIG)
    fallback = imaging.render(decoded, spec)
    out = variants.render_variant(decoded, spec, fmt)
    image = pyvips.Image.new_from_buffer(out.data, "")
    assert (out.width, out.height) == (fallback.width, fallback.height) == (786, 590)
    assert (image.width, image.height) == (786, 590) and not image.hasalpha()
    assert "exif-data" not in image.get_fields()


def test_avif_is_ten_bit_and_keeps_the_colours() -> None:
    source = gradient(300, 200)
    decoded = imaging.decode(source.pngsave_buffer(), [H200], max_pixels=BIG)
    image = pyvips.Image.new_from_buffer(variants.render_variant(decoded, H200, "avif").data, "")
    assert image.get("bits-per-sample") == 10 and image.interpretation == "rgb16"
    # Scaled back to 8 bits, each band's mean is the source's: no shift from the wider range.
    eight = image.colourspace("srgb")
    for band in range(3):
        assert abs(eight[band].avg() - source[band].avg()) < 2, band


def _animated_gif(frames: int = 4, width: int = 120, height: int = 80) -> bytes:
    pages = [
        (pyvips.Image.black(width, height, bands=3) + [i * 60, 40, 255 - i * 60])  # noqa: RUF005
        .cast("uchar")
        .copy(interpretation="srgb")
        for i in range(frames)
    ]
    strip = pyvips.Image.arrayjoin(pages, across=1).copy()
    strip.set_type(pyvips.GValue.gint_type, "page-height", height)
    strip.set_type(pyvips.GValue.array_int_type, "delay", [70] * frames)
    strip.set_type(pyvips.GValue.gint_type, "loop", 0)
    data: bytes = strip.gifsave_buffer()
    return data


def test_an_animated_gif_gives_an_animated_webp() -> None:
    gif = _animated_gif()
    info = imaging.probe(gif, max_pixels=BIG)
    assert info.pages == 4 and variants.animates(info, BIG)
    spec = imaging.SizeSpec("h40", None, 40)
    out = variants.render_animated(gif, info, spec)
    webp = pyvips.Image.new_from_buffer(out.data, "", n=-1)
    assert webp.get("vips-loader").startswith("webp")
    assert webp.get("n-pages") == 4
    assert (webp.width, webp.get("page-height")) == (60, 40) == (out.width, out.height)
    assert list(webp.get("delay")) == [70] * 4
    # Each frame keeps its own colour: frame 0 is red-less, frame 3 is red.
    first = webp.crop(0, 0, 60, 40)
    last = webp.crop(0, 120, 60, 40)
    assert first[0].avg() < 30 and last[0].avg() > 150


def test_a_cover_animation_is_cropped_alike_in_every_frame() -> None:
    gif = _animated_gif(frames=3)
    info = imaging.probe(gif, max_pixels=BIG)
    out = variants.render_animated(gif, info, imaging.SizeSpec("sq", 50, 50, fit="cover"))
    webp = pyvips.Image.new_from_buffer(out.data, "", n=-1)
    assert (webp.width, webp.get("page-height"), webp.get("n-pages")) == (50, 50, 3)


def test_frames_beyond_the_pixel_limit_give_a_still() -> None:
    gif = _animated_gif(frames=4, width=120, height=80)
    info = imaging.probe(gif, max_pixels=BIG)
    # One frame fits the limit, all four together do not.
    assert not variants.animates(info, 120 * 80 * 3)
    assert variants.animates(info, 120 * 80 * 4)
    still = imaging.SizeSpec("h40", None, 40)
    decoded = imaging.decode(gif, [still], max_pixels=120 * 80 * 3)
    out = variants.render_variant(decoded, still, "webp")
    webp = pyvips.Image.new_from_buffer(out.data, "", n=-1)
    assert "n-pages" not in webp.get_fields() or webp.get("n-pages") == 1


def test_a_still_gif_is_not_animated() -> None:
    gif = _animated_gif(frames=1)
    assert not variants.animates(imaging.probe(gif, max_pixels=BIG), BIG)
