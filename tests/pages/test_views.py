"""The view values pages are built from: sizes, progress words, thumbnails, pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from imageuploader.images.schemas import ImageOut, RenditionOut
from imageuploader.web.pages.views import human_bytes, image_view, pager, progress


def rendition(slug: str, status: str, width: int | None = None, height: int | None = None):
    return RenditionOut(
        slug=slug,
        status=status,
        width=width,
        height=height,
        format="jpeg" if status == "ready" else None,
        bytes=1000 if status == "ready" else None,
        # Versioned once made, as the library shapes them.
        url=f"/media/x/{slug}?v=v-{slug}" if status == "ready" else f"/media/x/{slug}",
    )


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 bytes"), (1023, "1023 bytes"), (1536, "1.5 KB"), (5 * 1024 * 1024, "5.0 MB")],
)
def test_human_bytes(size: int, text: str) -> None:
    assert human_bytes(size) == text


def test_progress_words() -> None:
    busy = progress([rendition("a", "ready", 1, 1), rendition("b", "pending")])
    assert (busy.done, busy.label, busy.state) == (False, "processing 1/2", "processing")
    failed = progress([rendition("a", "ready", 1, 1), rendition("b", "failed")])
    assert (failed.done, failed.label, failed.state) == (True, "1 failed", "failed")
    ready = progress([rendition("a", "ready", 1, 1)])
    assert (ready.done, ready.label, ready.state) == (True, "ready", "ready")


def test_thumbnail_is_the_smallest_ready_rendition_and_hero_the_largest() -> None:
    image = ImageOut(
        id="x",
        caption="c",
        width=2000,
        height=1500,
        format="jpeg",
        bytes=123456,
        created_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        renditions=[
            rendition("big", "ready", 1000, 750),
            rendition("small", "ready", 200, 150),
            rendition("tiny", "pending"),
        ],
        original_url="/media/x/original?v=v-original",
    )
    view = image_view(image, "http://host:1/")
    assert view.thumbnail == "/media/x/small?v=v-small"
    assert view.hero == "/media/x/big?v=v-big"
    assert view.renditions[0].url == "/media/x/big?v=v-big"
    # Links to copy and keep leave the version out, so they follow remakes.
    assert view.original_absolute_url == "http://host:1/media/x/original"
    assert view.renditions[0].absolute_url == "http://host:1/media/x/big"
    assert view.size == "120.6 KB"
    assert view.created == "2026-01-02 03:04 UTC"


@pytest.mark.parametrize(
    ("page", "total", "previous", "next_", "pages"),
    [(1, 0, None, None, 1), (1, 13, None, 2, 2), (2, 13, 1, None, 2), (2, 36, 1, 3, 3)],
)
def test_pager(page: int, total: int, previous: int | None, next_: int | None, pages: int) -> None:
    p = pager(page, 12, total)
    assert (p.previous, p.next, p.pages) == (previous, next_, pages)
