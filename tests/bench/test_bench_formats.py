"""The format bench's quality score and table on tiny inputs (no timing is asserted)."""

from __future__ import annotations

import pyvips

from bench import formats, photographs, photos


def test_score_ranks_a_worse_encode_lower() -> None:
    image = pyvips.Image.new_from_buffer(photos.photo_jpeg(256, 192, seed=2), "").copy_memory()
    good = formats.score(image, image.jpegsave_buffer(Q=95))
    bad = formats.score(image, image.jpegsave_buffer(Q=10))
    assert 0 < bad < good <= 100


def test_table_shows_each_set_its_verdicts_and_every_image() -> None:
    row = {"bytes": 1000, "encode_ms": 1.0, "score": 80.0}
    case = {
        "size": "400x300",
        "jpeg": {"bytes": 1000, "score": 80.0},
        "webp": {"bytes": 700, "score": 80.5},
        "avif": {"bytes": 500, "score": 79.0},
    }
    found = {
        "settings": {"jpeg": "q85"},
        "sets": {
            "photographs": {
                "about": "real",
                "per_format": {
                    "jpeg": row,
                    "webp": {**row, "bytes": 700, "saving": 0.3, "target": 0.25, "passed": True},
                    "avif": {**row, "bytes": 700, "saving": 0.3, "target": 0.4, "passed": False},
                },
                "cases": {"cat/h400": case},
            },
            "synthetic": {
                "about": "grain",
                "per_format": {
                    "jpeg": row,
                    "webp": {**row, "bytes": 900, "saving": 0.1, "target": 0.25, "passed": False},
                },
                "cases": {},
            },
        },
        "avif_efforts": {"0": row},
        "upload": {"without_ms": 100.0, "with_ms": 104.0, "placeholder_ms": 4.0},
        "workers": {
            "jpeg_only_s": 0.1,
            "with_formats_s": 1.0,
            "images_per_min_jpeg_only": 600.0,
            "images_per_min_with_formats": 60.0,
        },
    }
    text = formats.table(found)
    real, grain = text.split("Formats on real")[1].split("Formats on grain")
    assert "| webp | 700 | -30% |" in real and ": PASS |" in real
    assert "| avif | 700 | -30% |" in real and ": FAIL |" in real
    assert "| webp | 900 | -10% |" in grain and ": PASS |" not in grain
    assert "| cat/h400 | 400x300 | 1,000, 80.0 | 700 (-30%), 80.5 | 500 (-50%), 79.0 |" in text
    assert "| images per minute | 600.0 | 60.0 |" in text


def test_photographs_are_distinct_colour_photos_at_card_size() -> None:
    cases = formats.photograph_cases()
    assert [name for name, _ in cases] == [f"{n}/h400" for n in photographs.FILES]
    for _, image in cases:
        assert image.bands == 3 and image.height <= 400 and image.width >= 400
    # Five different photographs, not one read five times.
    assert len({round(image.avg(), 3) for _, image in cases}) == len(cases)
