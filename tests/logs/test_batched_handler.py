"""The stream handler writes one event-loop turn's lines together, and never out of order."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import pytest

from imageuploader.logs import LoopBatchedStreamHandler


class Recorder:
    """A stream that remembers each write."""

    def __init__(self) -> None:
        self.writes: list[str] = []

    def write(self, text: str) -> None:
        self.writes.append(text)

    def flush(self) -> None:
        return None


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, Recorder]]:
    stream = Recorder()
    handler = LoopBatchedStreamHandler(stream)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("imageuploader.test-batched")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


async def test_one_turn_is_one_write(logged: tuple[logging.Logger, Recorder]) -> None:
    logger, stream = logged
    logger.info("a")
    logger.info("b")
    assert stream.writes == []  # kept until the loop turns
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert stream.writes == ["INFO a\nINFO b\n"]


async def test_a_warning_goes_out_at_once_after_what_was_kept(
    logged: tuple[logging.Logger, Recorder],
) -> None:
    logger, stream = logged
    logger.info("a")
    logger.warning("w")
    assert stream.writes == ["INFO a\nWARNING w\n"]
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert stream.writes == ["INFO a\nWARNING w\n"]


def test_without_a_loop_each_line_goes_out_at_once(
    logged: tuple[logging.Logger, Recorder],
) -> None:
    logger, stream = logged
    logger.info("a")
    logger.info("b")
    assert stream.writes == ["INFO a\n", "INFO b\n"]


async def test_flush_writes_what_is_kept(logged: tuple[logging.Logger, Recorder]) -> None:
    logger, stream = logged
    logger.info("a")
    logger.handlers[0].flush()
    assert stream.writes == ["INFO a\n"]
