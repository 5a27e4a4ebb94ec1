"""Choosing a ready output format from the Accept header and its q-values."""

from __future__ import annotations

import pytest

from imageuploader.images.negotiation import choose, parse_accept

ALL = ("jpeg", "webp", "avif")
CHROME = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
FIREFOX_OLD = "image/webp,*/*"
SAFARI_15 = "image/webp,image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5"


@pytest.mark.parametrize(
    ("accept", "ready", "expected"),
    [
        (CHROME, ALL, "avif"),
        (CHROME, ("jpeg", "webp"), "webp"),  # AVIF not made yet
        (CHROME, ("jpeg",), "jpeg"),
        (FIREFOX_OLD, ALL, "webp"),
        (SAFARI_15, ALL, "webp"),
        ("*/*", ALL, "jpeg"),  # a wildcard proves no AVIF or WebP decoder
        ("image/*", ALL, "jpeg"),
        (None, ALL, "jpeg"),
        ("", ALL, "jpeg"),
        ("image/avif;q=0.5, image/webp;q=0.8", ALL, "webp"),
        ("image/avif;q=0.9, image/webp;q=0.8", ALL, "avif"),
        ("image/avif;q=0.8, image/webp;q=0.8", ALL, "avif"),  # a tie prefers AVIF
        ("image/avif;q=0, image/webp", ALL, "webp"),
        ("image/avif;q=0, image/webp;q=0, */*", ALL, "jpeg"),
        ("image/jpeg, image/webp;q=0.5", ALL, "jpeg"),  # JPEG asked for more
        ("image/jpeg;q=0.4, image/webp;q=0.5", ALL, "webp"),
        ("IMAGE/AVIF ; Q=1", ALL, "avif"),  # case and spaces do not matter
        ("image/avif;q=abc, image/webp", ALL, "webp"),  # a malformed q drops the range
        ("image/avif;q=2, image/webp", ALL, "webp"),  # so does one out of range
        ("image/jpeg;q=0", ("jpeg",), "jpeg"),  # the fallback rather than a 406
        ("garbage,,;;/", ALL, "jpeg"),
    ],
)
def test_choice(accept: str | None, ready: tuple[str, ...], expected: str) -> None:
    assert choose(accept, ready, "jpeg") == expected


def test_a_source_with_alpha_falls_back_to_webp() -> None:
    assert choose("*/*", ("webp", "avif"), "webp") == "webp"
    assert choose(CHROME, ("webp", "avif"), "webp") == "avif"


def test_parse_keeps_q_values_and_skips_bad_ranges() -> None:
    assert parse_accept("image/avif;q=0.7, text/html, nonsense, image/webp;q=x") == {
        "image/avif": 0.7,
        "text/html": 1.0,
    }


def test_a_huge_header_is_cut_not_parsed_whole() -> None:
    header = "image/png," * 10_000 + "image/avif"
    assert choose(header, ALL, "jpeg") == "jpeg"
