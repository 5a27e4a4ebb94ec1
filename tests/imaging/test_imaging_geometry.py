"""Tests of rendition size arithmetic: contain, cover, free sides, no upscaling, rounding."""

from __future__ import annotations

import pytest

from imageuploader.imaging import SizeSpec, target, twins


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        # the Studio plan's four sizes on a 4:3 12 MP photo
        (SizeSpec("very-high", 1024, 1024, "contain"), (1024, 768)),
        (SizeSpec("high", 1024, 786, "contain"), (1024, 768)),
        (SizeSpec("medium", 786, 786, "contain"), (786, 590)),  # 589.5 rounds half up
        (SizeSpec("low", 124, 124, "contain"), (124, 93)),
        (SizeSpec("h200", None, 200, "contain"), (267, 200)),  # 266.67 rounds up
        (SizeSpec("w300", 300, None, "contain"), (300, 225)),
        (SizeSpec("huge", 5000, 5000, "contain"), (4000, 3000)),  # no upscale
        (SizeSpec("square", 500, 500, "cover"), (500, 500)),
        (SizeSpec("banner", 5000, 500, "cover"), (4000, 500)),  # crop, never upscale
        (SizeSpec("h200c", None, 200, "cover"), (267, 200)),  # one side: nothing to crop
    ],
    ids=lambda value: value.slug if isinstance(value, SizeSpec) else None,
)
def test_target_on_4000x3000(spec: SizeSpec, expected: tuple[int, int]) -> None:
    result = target(spec, 4000, 3000)
    assert (result.width, result.height) == expected


def test_cover_scales_to_fill_before_cropping() -> None:
    result = target(SizeSpec("square", 500, 500, "cover"), 4000, 3000)
    assert (result.scaled_width, result.scaled_height) == (667, 500)
    assert result.crops


def test_portrait_contain_is_height_bound() -> None:
    result = target(SizeSpec("high", 1024, 786, "contain"), 3000, 4000)
    assert (result.width, result.height) == (590, 786)
    assert not result.crops


def test_tiny_side_never_rounds_to_zero() -> None:
    result = target(SizeSpec("thin", 10, 10, "contain"), 10000, 10)
    assert (result.width, result.height) == (10, 1)


@pytest.mark.parametrize(
    ("width", "height", "fit"),
    [(None, None, "contain"), (0, 100, "contain"), (100, -1, "cover"), (100, 100, "stretch")],
)
def test_sizespec_validation(width: int | None, height: int | None, fit: str) -> None:
    with pytest.raises(ValueError, match="Size 'bad'"):
        SizeSpec("bad", width, height, fit)  # type: ignore[arg-type]


STUDIO = [
    SizeSpec("very-high", 1024, 1024, "contain"),
    SizeSpec("high", 1024, 786, "contain"),
    SizeSpec("medium", 786, 786, "contain"),
    SizeSpec("low", 124, 124, "contain"),
]


@pytest.mark.parametrize(
    ("width", "height", "expected"),
    [
        (4000, 3000, ["very-high"]),  # both 1024x768
        (3000, 4000, ["medium"]),  # both 590x786
        (700, 500, ["very-high", "medium"]),  # nothing is upscaled: all three 700x500
        (5000, 1000, ["very-high"]),  # both 1024x205; medium is 786 wide
    ],
)
def test_twins_are_the_sizes_with_the_same_output(
    width: int, height: int, expected: list[str]
) -> None:
    assert twins(STUDIO, STUDIO[1], width, height) == expected
    # The same crop of the same scale is the same rendition; another crop is not.
    square = SizeSpec("square", 300, 300, "cover")
    assert twins([square, SizeSpec("sq", 300, 300, "cover")], square, width, height) == ["sq"]
    assert twins([square, SizeSpec("fit", 300, 300, "contain")], square, width, height) == []
