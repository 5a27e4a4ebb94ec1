"""Tests of decoding and rendering: sizes, orientation, colour, alpha, metadata, frames."""

from __future__ import annotations

import gc
import io
import math
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import pillow_heif
import pytest
import pyvips
from PIL import Image as PILImage

from imageuploader.imaging import (
    CorruptImage,
    Rendered,
    SizeSpec,
    covers,
    decode,
    decode_and_render,
    decode_intermediate,
    encode_intermediate,
    probe,
    render,
    render_all,
)
from imageuploader.imaging.pipeline import jpeg_shrink

LIMIT = 50_000_000
STUDIO = [
    SizeSpec("very-high", 1024, 1024, "contain"),
    SizeSpec("high", 1024, 786, "contain"),
    SizeSpec("medium", 786, 786, "contain"),
    SizeSpec("low", 124, 124, "contain"),
]
H200 = SizeSpec("h200", None, 200, "contain")
H400 = SizeSpec("h400", None, 400, "contain")
BIG = SizeSpec("big", 10_000, 10_000, "contain")


def reload(rendered: Rendered) -> pyvips.Image:
    """Decode a rendition the way a browser would, checking what libvips sniffs."""
    image = pyvips.Image.new_from_buffer(rendered.data, "")
    assert image.get("vips-loader") == f"{rendered.format}load_buffer"
    assert (image.width, image.height) == (rendered.width, rendered.height)
    return image


def test_studio_set_dimensions(studio_jpeg: bytes) -> None:
    renditions = render_all(studio_jpeg, STUDIO, max_pixels=LIMIT)
    sizes = {r.slug: (r.width, r.height) for r in renditions}
    assert sizes == {
        "very-high": (1024, 768),
        "high": (1024, 768),
        "medium": (786, 590),
        "low": (124, 93),
    }
    assert [r.slug for r in renditions][:2] == ["low", "medium"]  # smallest work first
    for rendered in renditions:
        assert (rendered.format, rendered.content_type) == ("jpeg", "image/jpeg")
        reload(rendered)


def test_single_decode_is_sized_for_the_largest_spec(studio_jpeg: bytes) -> None:
    decoded = decode(studio_jpeg, STUDIO, max_pixels=LIMIT)
    assert (decoded.image.width, decoded.image.height) == (1024, 768)
    assert all(covers(decoded, spec) for spec in STUDIO)


def test_height_only_cover_and_no_upscale(studio_jpeg: bytes, small_jpeg: bytes) -> None:
    square = SizeSpec("square", 500, 500, "cover")
    decoded = decode(studio_jpeg, [H200, square], max_pixels=LIMIT)
    assert (render(decoded, H200).width, render(decoded, H200).height) == (267, 200)
    cropped = render(decoded, square)
    assert (cropped.width, cropped.height) == (500, 500)
    small = render(decode(small_jpeg, [BIG], max_pixels=LIMIT), BIG)
    assert (small.width, small.height) == (400, 300)


def test_exif_orientation_6_gives_portrait(make_gradient) -> None:
    landscape = make_gradient(400, 300).copy()
    landscape.set_type(pyvips.GValue.gint_type, "orientation", 6)
    data = landscape.jpegsave_buffer()
    [full, h200] = render_all(data, [BIG, H200], max_pixels=LIMIT)[::-1]
    assert (full.width, full.height) == (300, 400)
    assert (h200.width, h200.height) == (150, 200)
    assert "orientation" not in reload(full).get_fields()  # nobody rotates it twice


def test_cmyk_jpeg_renders_as_srgb(make_solid) -> None:
    data = make_solid(300, 200, (220, 30, 30)).colourspace("cmyk").jpegsave_buffer()
    assert pyvips.Image.new_from_buffer(data, "").interpretation == "cmyk"
    [rendered] = render_all(data, [H200], max_pixels=LIMIT)
    image = reload(rendered)
    assert (image.interpretation, image.format, image.bands) == ("srgb", "uchar", 3)
    red, green, blue = (image[band].avg() for band in range(3))
    assert red > 150 and green < 90 and blue < 90  # still red, not inverted CMY garbage


def test_icc_tagged_jpeg_is_converted_to_srgb(make_solid) -> None:
    # Display P3 pixels of sRGB (220, 30, 30) read (202, 54, 43) if the profile is ignored.
    p3 = make_solid(300, 200, (220, 30, 30)).icc_transform("p3", input_profile="srgb")
    data = p3.jpegsave_buffer()
    assert "icc-profile-data" in pyvips.Image.new_from_buffer(data, "").get_fields()
    [rendered] = render_all(data, [H200], max_pixels=LIMIT)
    image = reload(rendered)
    red, green, blue = (image[band].avg() for band in range(3))
    assert abs(red - 220) < 6 and abs(green - 30) < 6 and abs(blue - 30) < 6


def test_16bit_rgba_png_renders_as_8bit_webp(make_gradient) -> None:
    deep = (make_gradient(300, 200, alpha=True).cast("ushort") * 257).cast("ushort")
    data = deep.copy(interpretation="rgb16").pngsave_buffer()
    source = pyvips.Image.new_from_buffer(data, "")
    assert (source.format, source.bands) == ("ushort", 4)
    [rendered] = render_all(data, [H200], max_pixels=LIMIT)
    image = reload(rendered)
    assert (rendered.format, rendered.content_type) == ("webp", "image/webp")
    assert (image.interpretation, image.format, image.bands) == ("srgb", "uchar", 4)
    assert image.max() <= 255 and image[0].max() > 200  # scaled down, not clipped to 255


def test_grey_png_renders_as_srgb_jpeg(make_gradient) -> None:
    data = make_gradient(300, 200).colourspace("b-w").pngsave_buffer()
    [rendered] = render_all(data, [H200], max_pixels=LIMIT)
    assert rendered.format == "jpeg"
    assert reload(rendered).bands == 3


@pytest.mark.parametrize(("alpha", "fmt"), [(True, "webp"), (False, "jpeg")])
def test_alpha_decides_output_format(make_gradient, alpha: bool, fmt: str) -> None:
    data = make_gradient(300, 200, alpha=alpha).pngsave_buffer()
    [rendered] = render_all(data, [H200], max_pixels=LIMIT)
    assert rendered.format == fmt
    assert bool(reload(rendered).hasalpha()) is alpha


def test_renditions_carry_no_metadata_or_payload(make_gradient) -> None:
    image = make_gradient(400, 300).copy()
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Make", "SpyCam")
    image.set_type(pyvips.GValue.gstr_type, "exif-ifd0-Artist", "Jane Doe")
    data = image.jpegsave_buffer()
    # a polyglot payload hidden in a JPEG comment segment, right after SOI
    payload = b"<script>alert('x')</script>"
    comment = b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload
    data = data[:2] + comment + data[2:]
    source = pyvips.Image.new_from_buffer(data, "")
    assert "exif-data" in source.get_fields() and b"SpyCam" in data  # the test can fail
    for rendered in render_all(data, [BIG, H200], max_pixels=LIMIT):
        fields = reload(rendered).get_fields()
        for name in ("exif-data", "xmp-data", "iptc-data", "icc-profile-data"):
            assert name not in fields
        assert b"SpyCam" not in rendered.data and payload not in rendered.data


def test_animated_gif_renders_first_frame(make_solid) -> None:
    colours = [(250, 0, 0), (0, 250, 0), (0, 0, 250)]
    frames = pyvips.Image.arrayjoin([make_solid(60, 40, rgb) for rgb in colours], across=1)
    frames = frames.copy()
    frames.set_type(pyvips.GValue.gint_type, "page-height", 40)
    decoded = decode(frames.gifsave_buffer(), [BIG], max_pixels=LIMIT)
    assert decoded.info.pages == 3
    image = reload(render(decoded, BIG))
    assert (image.width, image.height) == (60, 40)
    assert image[0].avg() > 200 and image[1].avg() < 50  # red: frame one


def test_intermediate_round_trip(studio_jpeg: bytes) -> None:
    decoded = decode(studio_jpeg, [STUDIO[1]], max_pixels=LIMIT)
    blob = encode_intermediate(decoded)
    reloaded = decode_intermediate(blob)
    assert reloaded.info == decoded.info
    assert reloaded.image.write_to_memory() == decoded.image.write_to_memory()  # lossless
    from_original = {
        r.slug: (r.width, r.height) for r in render_all(studio_jpeg, STUDIO, max_pixels=LIMIT)
    }
    from_blob = {
        spec.slug: (r.width, r.height) for spec in STUDIO for r in [render(reloaded, spec)]
    }
    assert from_blob == from_original
    assert all(covers(reloaded, spec) for spec in STUDIO)


@pytest.mark.parametrize("level", [0, 1])
def test_version_1_intermediates_still_load(small_jpeg: bytes, level: int) -> None:
    # Intermediates stored before version 2 were zlib streams (stored blocks, or level 1).
    decoded = decode(small_jpeg, [H200], max_pixels=LIMIT)
    blob = encode_intermediate(decoded)
    magic, version, header_len = struct.unpack_from(">4sBI", blob)
    assert (magic, version) == (b"IUIM", 2)
    start = struct.calcsize(">4sBI") + header_len
    pixels = blob[start:]
    assert pixels == decoded.image.write_to_memory()  # version 2: the raw pixels
    old = struct.pack(">4sBI", magic, 1, header_len) + blob[9:start] + zlib.compress(pixels, level)
    reloaded = decode_intermediate(old)
    assert reloaded.image.write_to_memory() == decoded.image.write_to_memory()
    damaged = bytearray(old)
    damaged[-40] ^= 0xFF
    with pytest.raises(CorruptImage):
        decode_intermediate(bytes(damaged))


def test_damaged_pixels_fail_the_checksum(small_jpeg: bytes) -> None:
    blob = bytearray(encode_intermediate(decode(small_jpeg, [H200], max_pixels=LIMIT)))
    blob[-100] ^= 0xFF  # one pixel byte
    with pytest.raises(CorruptImage, match="checksum"):
        decode_intermediate(bytes(blob))


def test_a_reloaded_intermediate_outlives_the_bytes_it_came_from(small_jpeg: bytes) -> None:
    decoded = decode(small_jpeg, [H200], max_pixels=LIMIT)
    reloaded = decode_intermediate(bytes(encode_intermediate(decoded)))  # no other reference
    gc.collect()
    assert render(reloaded, H200).data == render(decoded, H200).data


def test_intermediate_keeps_alpha(make_gradient) -> None:
    decoded = decode(make_gradient(300, 200, alpha=True).pngsave_buffer(), [H200], max_pixels=LIMIT)
    reloaded = decode_intermediate(encode_intermediate(decoded))
    assert reloaded.image.bands == 4
    assert render(reloaded, H200).format == "webp"


def test_covers_tells_when_the_original_is_needed(studio_jpeg: bytes) -> None:
    decoded = decode(studio_jpeg, [H200], max_pixels=LIMIT)
    assert covers(decoded, H200)
    assert covers(decoded, STUDIO[3])  # low: 124 x 93
    assert not covers(decoded, H400)
    assert not covers(decoded, STUDIO[0])


@pytest.mark.parametrize("damage", [b"", b"garbage", b"IUIM\x01\x00\x00\x00\x02{}", b"IUIM\x09"])
def test_damaged_intermediate_is_refused(damage: bytes) -> None:
    with pytest.raises(CorruptImage):
        decode_intermediate(damage)


def test_truncated_intermediate_is_refused(small_jpeg: bytes) -> None:
    blob = encode_intermediate(decode(small_jpeg, [H200], max_pixels=LIMIT))
    with pytest.raises(CorruptImage):
        decode_intermediate(blob[:-10])


def test_render_is_thread_safe(studio_jpeg: bytes) -> None:
    decoded = decode(studio_jpeg, STUDIO, max_pixels=LIMIT)
    specs = STUDIO * 4
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda spec: render(decoded, spec), specs))
    expected = {
        "very-high": (1024, 768),
        "high": (1024, 768),
        "medium": (786, 590),
        "low": (124, 93),
    }
    assert [(r.width, r.height) for r in results] == [expected[s.slug] for s in specs]


def test_decode_needs_a_spec(small_jpeg: bytes) -> None:
    with pytest.raises(ValueError, match="at least one SizeSpec"):
        decode(small_jpeg, [], max_pixels=LIMIT)


def _same_pixels(a: pyvips.Image, b: pyvips.Image) -> bool:
    return (a.width, a.height, a.bands) == (b.width, b.height, b.bands) and (
        (a - b).abs().max() == 0
    )


def _oriented(make_gradient) -> bytes:
    image = make_gradient(900, 600).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", 6)
    return image.jpegsave_buffer()


SQUARE = SizeSpec("square", 150, 150, "cover")


@pytest.mark.parametrize(
    ("source", "specs", "first"),
    [
        ("studio", STUDIO, STUDIO[1]),  # the primary is the largest: encoded off the decode
        ("studio", [H200, H400], H200),  # smaller than the intermediate: resized off it
        ("studio", [H400, SQUARE], SQUARE),  # cover: attention crop off the streamed pixels
        ("alpha", [H200, H400], H400),  # WebP
        ("oriented", [H200, BIG], H200),  # EXIF 6, and a size the image cannot fill
        ("cmyk", [H200], H200),
    ],
    ids=["studio-primary", "h200-of-h400", "cover", "alpha", "exif-rotated", "cmyk"],
)
def test_decode_and_render_equals_decode_then_render(
    studio_jpeg: bytes, make_gradient, make_solid, source: str, specs, first: SizeSpec
) -> None:
    data = {
        "studio": lambda: studio_jpeg,
        "alpha": lambda: make_gradient(600, 500, alpha=True).pngsave_buffer(),
        "oriented": lambda: _oriented(make_gradient),
        "cmyk": lambda: make_solid(300, 200, (220, 30, 30)).colourspace("cmyk").jpegsave_buffer(),
    }[source]()
    decoded, rendered = decode_and_render(data, specs, first, max_pixels=LIMIT)
    plain = decode(data, specs, max_pixels=LIMIT)
    assert decoded.info == plain.info
    assert _same_pixels(decoded.image, plain.image)
    expected = render(plain, first)
    assert (rendered.slug, rendered.width, rendered.height, rendered.format) == (
        expected.slug,
        expected.width,
        expected.height,
        expected.format,
    )
    assert _same_pixels(reload(rendered), reload(expected))
    # The tee leaves an intermediate that serves every other size.
    for spec in specs:
        assert render(decoded, spec).data == render(plain, spec).data


def test_decode_and_render_refuses_damaged_files(studio_jpeg: bytes, make_gradient) -> None:
    with pytest.raises(CorruptImage, match="JPEG file is damaged or truncated"):
        decode_and_render(studio_jpeg[: len(studio_jpeg) // 2], STUDIO, STUDIO[1], max_pixels=LIMIT)
    png = bytearray(make_gradient(300, 200).pngsave_buffer())
    png[png.index(b"IDAT") + 100] ^= 0xFF
    with pytest.raises(CorruptImage, match="PNG"):
        decode_and_render(bytes(png), [H200], H200, max_pixels=LIMIT)


def test_decode_and_render_decodes_hevc_heic() -> None:
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    PILImage.linear_gradient("L").resize((640, 480)).convert("RGB").save(out, "HEIF")
    decoded, rendered = decode_and_render(out.getvalue(), [H200, H400], H200, max_pixels=LIMIT)
    assert (decoded.image.width, decoded.image.height) == (533, 400)
    assert (rendered.width, rendered.height, rendered.format) == (267, 200, "jpeg")
    reload(rendered)


def _photo_like(width: int, height: int) -> pyvips.Image:
    """Gradient plus grain: fine detail is where a shrink-on-load would show its losses."""
    xyz = pyvips.Image.xyz(width, height)
    light = (xyz[0] * (200 / width)).bandjoin([xyz[1] * (200 / height), xyz[0] * 0 + 96])
    grain = pyvips.Image.gaussnoise(width, height, sigma=24, mean=0, seed=7)
    return (light + grain).cast("uchar").copy(interpretation="srgb")


@pytest.mark.parametrize(
    ("size", "orientation", "needed", "factor"),
    [
        ((4000, 3000), 1, (1024, 768), 2),  # 12 MP to Studio's high: not 4 (1000 < 1024)
        ((4000, 3000), 1, (533, 400), 4),  # to h400
        ((4000, 3000), 1, (124, 93), 8),  # to low
        ((4000, 3000), 1, (2001, 1500), 1),  # half would be one pixel short
        ((4001, 3001), 1, (2001, 1501), 2),  # libjpeg rounds a scaled side up
        ((400, 300), 6, (150, 200), 2),  # compared upright: 300 x 400 once rotated
        ((400, 300), 6, (200, 150), 1),  # 200 wide needs all 300 upright columns... and more
    ],
)
def test_jpeg_shrink_is_the_largest_factor_that_covers(
    make_gradient, size: tuple[int, int], orientation: int, needed: tuple[int, int], factor: int
) -> None:
    image = make_gradient(*size).copy()
    image.set_type(pyvips.GValue.gint_type, "orientation", orientation)
    info = probe(image.jpegsave_buffer(), max_pixels=LIMIT)
    assert jpeg_shrink(info, *needed) == factor


def test_jpeg_shrink_is_only_for_jpeg(make_gradient) -> None:
    info = probe(make_gradient(4000, 3000).pngsave_buffer(compression=1), max_pixels=LIMIT)
    assert jpeg_shrink(info, 124, 93) == 1


def _psnr(a: pyvips.Image, b: pyvips.Image) -> float:
    difference = a.cast("float") - b.cast("float")
    return 10 * math.log10(255**2 / (difference * difference).avg())


@pytest.mark.parametrize("spec", [H200, STUDIO[1], STUDIO[3]], ids=lambda s: s.slug)
def test_shrink_on_load_loses_less_than_the_encode(spec: SizeSpec) -> None:
    """The upload decodes at libjpeg's largest fitting scale. Against a full decode
    resized with the same kernel, that may cost less than the q85 encode of the
    rendition itself loses, on heavy grain (where a downscale shows most)."""
    data = _photo_like(2400, 1800).jpegsave_buffer(Q=92)
    info = probe(data, max_pixels=LIMIT)
    decoded, rendered = decode_and_render(data, [spec], spec, max_pixels=LIMIT)
    ours = decoded.image
    assert jpeg_shrink(info, ours.width, ours.height) > 1
    assert (rendered.width, rendered.height) == (ours.width, ours.height)
    full = pyvips.Image.new_from_buffer(data, "").thumbnail_image(
        ours.width, height=ours.height, size="force"
    )
    encoded = pyvips.Image.new_from_buffer(
        full.jpegsave_buffer(Q=85, optimize_coding=True, keep="none"), ""
    )
    shrink_psnr, encode_psnr = _psnr(ours, full), _psnr(encoded, full)
    assert shrink_psnr > encode_psnr, f"shrink {shrink_psnr:.1f} dB, encode {encode_psnr:.1f} dB"
