"""Structured logs: JSON lines that carry the request id, for web and worker processes."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

# The request being served, or the request that queued the job being run.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

FIELDS = ["asctime", "levelname", "name", "message", "request_id"]


class RequestIdFilter(logging.Filter):
    """Stamp each record with the current request id (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


def configure_logging(level: str, stream: TextIO | None = None) -> None:
    """Make every root handler write JSON lines; called by process entry points only.

    The dramatiq CLI installs its own root handler (a pipe to its parent
    process) before importing the worker module: existing handlers are kept
    and re-formatted, a stream handler is added only when there is none.
    """
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(stream or sys.stderr))
    formatter = JsonFormatter(
        FIELDS,
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        timestamp=False,
    )
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
