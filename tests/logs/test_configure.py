"""configure_logging keeps libvips' per-step chatter out of the logs above DEBUG."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import pyvips

from imageuploader.logs import configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root, vips = logging.getLogger(), logging.getLogger("pyvips")
    level, vips_level = root.level, vips.level
    formatters = [(h, h.formatter, list(h.filters)) for h in root.handlers]
    yield
    root.setLevel(level)
    vips.setLevel(vips_level)
    for handler, formatter, filters in formatters:
        handler.setFormatter(formatter)
        handler.filters = filters


def shrink_a_photo() -> None:
    photo = pyvips.Image.xyz(800, 600)[0].cast("uchar").jpegsave_buffer()
    pyvips.Image.thumbnail_buffer(photo, 200).jpegsave_buffer()


@pytest.mark.usefixtures("restore_logging")
@pytest.mark.parametrize(("level", "vips_lines"), [("INFO", False), ("DEBUG", True)])
def test_libvips_steps_are_logged_only_at_debug(
    caplog: pytest.LogCaptureFixture, level: str, vips_lines: bool
) -> None:
    configure_logging(level)
    shrink_a_photo()
    logging.getLogger("imageuploader.test").info("still here")
    assert [r.getMessage() for r in caplog.records if r.name == "imageuploader.test"] == [
        "still here"
    ]
    from_vips = [r.getMessage() for r in caplog.records if r.name == "pyvips"]
    assert bool(from_vips) is vips_lines, from_vips[:3]
