"""The format bench's quality score and table on tiny inputs (no timing is asserted)."""

from __future__ import annotations

import pyvips

from bench import formats, photos


def test_score_ranks_a_worse_encode_lower() -> None:
    image = pyvips.Image.new_from_buffer(photos.photo_jpeg(256, 192, seed=2), "").copy_memory()
    good = formats.score(image, image.jpegsave_buffer(Q=95))
    bad = formats.score(image, image.jpegsave_buffer(Q=10))
    assert 0 < bad < good <= 100


def test_table_shows_each_format_and_its_verdict() -> None:
    row = {"bytes": 1000, "encode_ms": 1.0, "score": 80.0}
    found = {
        "photos": "p",
        "settings": {"jpeg": "q85"},
        "per_format": {
            "jpeg": row,
            "webp": {**row, "bytes": 700, "saving": 0.3, "target": 0.25, "passed": True},
            "avif": {**row, "bytes": 700, "saving": 0.3, "target": 0.4, "passed": False},
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
    assert "| webp | 700 | -30% |" in text and ": PASS |" in text
    assert "| avif | 700 | -30% |" in text and ": FAIL |" in text
    assert "| images per minute | 600.0 | 60.0 |" in text
