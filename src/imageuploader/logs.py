"""Structured logs: JSON lines that carry the request id, for web and worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from contextvars import ContextVar
from typing import TextIO

import msgspec
from pythonjsonlogger.msgspec import MsgspecFormatter

# The request being served, or the request that queued the job being run.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

FIELDS = ["asctime", "levelname", "name", "message", "request_id"]
RENAMED = {"asctime": "time", "levelname": "level", "name": "logger"}
ACCESS_LOGGER = "imageuploader.access"
# What the access log adds to FIELDS (web/request_id.py), in this order.
ACCESS_FIELDS = ("method", "path", "status", "duration_ms")


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonLines(MsgspecFormatter):
    """JSON lines; the access log's records, one per request, by a direct path.

    The generic path walks every attribute of the record to find the extra
    fields; an access record's fields are known, and writing them straight out
    costs a fraction (the same keys, in the same order).
    """

    _second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The default format, its seconds part made once per second."""
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        cached = self._second
        if cached[0] != second:
            stamp = time.strftime(self.default_time_format, self.converter(record.created))
            cached = self._second = (second, stamp)
        return self.default_msec_format % (cached[1], record.msecs)

    def format(self, record: logging.LogRecord) -> str:
        if record.name != ACCESS_LOGGER or record.exc_info:
            return super().format(record)
        line = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for name in ACCESS_FIELDS:
            line[name] = getattr(record, name, None)
        return msgspec.json.encode(line).decode()


class LoopBatchedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes the lines of one event-loop turn together.

    On the thread running an event loop, INFO lines (one per request) are kept
    until the loop's next turn and written in one go: a busy server makes one
    write for many requests, an idle one writes at once. Warnings and errors,
    and every line from other threads, are written straight away (after what
    is kept, so the order holds); `flush` (at exit too) writes what is kept.
    """

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._kept: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
            loop = _running_loop()
            if loop is None or record.levelno >= logging.WARNING:
                self._kept.append(line)
                self._write()
                return
            if not self._kept:
                loop.call_soon(self.flush)
            self._kept.append(line)
        except RecursionError:
            raise
        except Exception:  # logging's own contract: report, never raise
            self.handleError(record)

    def flush(self) -> None:
        with self.lock if self.lock else contextlib.nullcontext():
            self._write()

    def _write(self) -> None:
        if self._kept:
            text = "".join(self._kept)
            self._kept.clear()
            self.stream.write(text)
        if self.stream and hasattr(self.stream, "flush"):
            self.stream.flush()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def configure_logging(level: str, stream: TextIO | None = None) -> None:
    """Make every root handler write JSON lines; called by process entry points only.

    The dramatiq CLI installs its own root handler (a pipe to its parent
    process) before importing the worker module: existing handlers are kept
    and re-formatted, a stream handler is added only when there is none.
    """
    # Our lines carry none of the caller's file and line, thread or process names:
    # the logging HOWTO's "Optimization" switches spare looking them up per record.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(LoopBatchedStreamHandler(stream or sys.stderr))
    # msgspec encodes a line in a fraction of the stdlib json's time: there is one per request.
    formatter = JsonLines(FIELDS, rename_fields=RENAMED, timestamp=False)
    for handler in root.handlers:
        handler.setFormatter(formatter)
        if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
            handler.addFilter(RequestIdFilter())
    root.setLevel(level)
    # libvips reports each step of every pipeline at INFO ("reducev: 13 point
    # mask"): several lines per rendition, each formatted and, in a worker,
    # piped to Dramatiq's parent process. Its warnings still pass; DEBUG shows all.
    vips_level = logging.DEBUG if root.getEffectiveLevel() <= logging.DEBUG else logging.WARNING
    logging.getLogger("pyvips").setLevel(vips_level)
