"""Size arithmetic of renditions: the SizeSpec box and the exact output dimensions it yields.

Pure integer maths, no libvips: dimensions are computed from the original's
oriented size with round-half-up, so a rendition has the same size whether it
is made from the original or from a smaller intermediate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Fit = Literal["contain", "cover"]


@dataclass(frozen=True)
class SizeSpec:
    """A rendition box: `contain` fits inside it, `cover` fills it and crops.

    A side left as None is free. Renditions are never upscaled.
    """

    slug: str
    width: int | None
    height: int | None
    fit: Fit = "contain"

    def __post_init__(self) -> None:
        if self.width is None and self.height is None:
            raise ValueError(f"Size {self.slug!r} needs a width, a height or both.")
        for side in (self.width, self.height):
            if side is not None and side <= 0:
                raise ValueError(f"Size {self.slug!r} must have positive sides.")
        if self.fit not in ("contain", "cover"):
            raise ValueError(f"Size {self.slug!r} has unknown fit {self.fit!r}.")


@dataclass(frozen=True)
class Target:
    """How to make one rendition from an image of a given size.

    Resize to `scaled_width` x `scaled_height`, then (cover only) crop the
    attention-chosen `width` x `height` window out of it.
    """

    width: int
    height: int
    scaled_width: int
    scaled_height: int

    @property
    def crops(self) -> bool:
        return (self.width, self.height) != (self.scaled_width, self.scaled_height)


def _scale(side: int, num: int, den: int) -> int:
    """side * num / den rounded half up, never below one pixel."""
    return max(1, (2 * side * num + den) // (2 * den))


def _by_width(box_width: int, sw: int, sh: int) -> tuple[int, int]:
    return (sw, sh) if box_width >= sw else (box_width, _scale(sh, box_width, sw))


def _by_height(box_height: int, sw: int, sh: int) -> tuple[int, int]:
    return (sw, sh) if box_height >= sh else (_scale(sw, box_height, sh), box_height)


def target(spec: SizeSpec, source_width: int, source_height: int) -> Target:
    """Exact output size of `spec` for a source of this (oriented) size."""
    sw, sh, bw, bh = source_width, source_height, spec.width, spec.height
    # One-sided cover behaves as contain: there is nothing to crop.
    cover = spec.fit == "cover" and bw is not None and bh is not None
    # contain is bound by the tighter ratio, cover by the looser one.
    if bw is not None and (bh is None or (bw * sh >= bh * sw if cover else bw * sh <= bh * sw)):
        scaled = _by_width(bw, sw, sh)
    elif bh is not None:
        scaled = _by_height(bh, sw, sh)
    else:  # pragma: no cover - SizeSpec.__post_init__ forbids it
        raise ValueError(f"Size {spec.slug!r} has no side.")
    width, height = scaled
    if cover and bw is not None and bh is not None:
        width, height = min(bw, width), min(bh, height)
    return Target(width, height, scaled[0], scaled[1])


def needed_size(
    specs: Sequence[SizeSpec], source_width: int, source_height: int
) -> tuple[int, int]:
    """Smallest (width, height) an intermediate needs to make every spec without upscaling."""
    targets = [target(spec, source_width, source_height) for spec in specs]
    return max(t.scaled_width for t in targets), max(t.scaled_height for t in targets)


def twins(
    specs: Sequence[SizeSpec], of: SizeSpec, source_width: int, source_height: int
) -> list[str]:
    """Slugs of the other specs whose rendition is `of`'s, pixel for pixel.

    A rendition is a function of the source pixels and its `Target` only (fit
    included: a cover crop is in the Target), so equal Targets mean equal
    bytes; Studio's very-high and high on a 4:3 landscape photo are one such pair.
    """
    mine = target(of, source_width, source_height)
    return [
        spec.slug
        for spec in specs
        if spec.slug != of.slug and target(spec, source_width, source_height) == mine
    ]
