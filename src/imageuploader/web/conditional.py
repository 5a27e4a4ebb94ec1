"""Conditional and range requests (RFC 9110 sections 13 and 14), decided without I/O.

`evaluate` takes the request's method and headers and the validators of one
representation (one variant: each has its own ETag) and says what to answer:
the whole body, a byte range of it, 304, 412 or 416. Building the response is
the caller's job, so every route that serves stored bytes decides alike.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

__all__ = ["Decision", "Validators", "content_range", "evaluate", "http_date", "strong_etag"]

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc excludes '"', controls and spaces.
_ETAG_RE = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')
_RANGE_RE = re.compile(r"^(\d*)-(\d*)$")


@dataclass(frozen=True, slots=True)
class Validators:
    """What identifies one representation: a strong ETag (quoted) and its modification time."""

    etag: str | None
    last_modified: datetime | None

    def __post_init__(self) -> None:
        if self.last_modified is not None:
            # HTTP dates have whole seconds; comparisons must use what we sent.
            object.__setattr__(
                self, "last_modified", self.last_modified.astimezone(UTC).replace(microsecond=0)
            )


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer: `status` 200 (whole body), 206 (bytes `start`..`end` inclusive),
    304, 412 or 416."""

    status: int
    start: int = 0
    end: int = -1

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def strong_etag(digest: str) -> str:
    """The quoted strong entity-tag of a content digest."""
    return f'"{digest}"'


# Objects are read far more often than they change: the same few dates come back.
@functools.lru_cache(maxsize=4096)
def http_date(moment: datetime) -> str:
    """An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`)."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def content_range(decision: Decision, size: int) -> str:
    """The Content-Range of a 206 or a 416."""
    if decision.status == 416:
        return f"bytes */{size}"
    return f"bytes {decision.start}-{decision.end}/{size}"


def evaluate(
    method: str, headers: Mapping[str, str], validators: Validators, size: int
) -> Decision:
    """Apply the preconditions in the order of RFC 9110 section 13.2.2, then Range.

    Only GET and HEAD are served here. A multi-range request is answered with
    the whole body (200), which the RFC allows; Range on HEAD is ignored (range
    handling is defined for GET only).
    """
    method = method.upper()
    if _precondition_failed(headers, validators):
        return Decision(412)
    if _not_modified(method, headers, validators):
        return Decision(304 if method in ("GET", "HEAD") else 412)

    whole = Decision(200, 0, size - 1)
    range_header = headers.get("range")
    if method != "GET" or range_header is None:
        return whole
    if_range = headers.get("if-range")
    if if_range is not None and not _if_range_holds(if_range, validators):
        return whole
    return _byte_range(range_header, size) or whole


def _precondition_failed(headers: Mapping[str, str], validators: Validators) -> bool:
    """Steps 1 and 2: If-Match, else If-Unmodified-Since."""
    if_match = headers.get("if-match")
    if if_match is not None:
        return not _matches(if_match, validators.etag, weak=False)
    since = _date(headers.get("if-unmodified-since"))
    if since is None:
        return False
    return validators.last_modified is None or validators.last_modified > since


def _not_modified(method: str, headers: Mapping[str, str], validators: Validators) -> bool:
    """Steps 3 and 4: If-None-Match, else If-Modified-Since (for GET and HEAD only)."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        return _matches(if_none_match, validators.etag, weak=True)
    if method not in ("GET", "HEAD"):
        return False
    since = _date(headers.get("if-modified-since"))
    return (
        since is not None
        and validators.last_modified is not None
        and (validators.last_modified <= since)
    )


def _matches(header: str, etag: str | None, *, weak: bool) -> bool:
    """Whether an If-Match / If-None-Match list names our ETag (`*` names any)."""
    if header.strip() == "*":
        return etag is not None
    if etag is None:
        return False
    # Strong comparison: neither tag may be weak (ours is always strong).
    return any(tag == etag and (weak or not is_weak) for is_weak, tag in _etags(header))


def _etags(header: str) -> list[tuple[bool, str]]:
    found: list[tuple[bool, str]] = []
    position = 0
    while position < len(header):
        match = _ETAG_RE.match(header, position)
        if match is None:
            return found  # a malformed tail names nothing
        found.append((match.group(1) is not None, match.group(2)))
        position = match.end()
    return found


def _date(value: str | None) -> datetime | None:
    """An HTTP date, or None when absent or invalid (an invalid date is ignored)."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # "-0000" and obsolete forms: HTTP dates are GMT
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _if_range_holds(value: str, validators: Validators) -> bool:
    """If-Range: a strong ETag that matches, or exactly our Last-Modified date."""
    value = value.strip()
    if value.startswith(('"', "W/")):
        return validators.etag is not None and value == validators.etag
    when = _date(value)
    return when is not None and validators.last_modified == when


def _byte_range(header: str, size: int) -> Decision | None:
    """206 or 416 for one byte range; None to ignore the header and send it all."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        return None
    ranges = [part.strip() for part in spec.split(",") if part.strip()]
    if len(ranges) != 1:
        return None  # several ranges (or none): the whole body is a valid answer
    match = _RANGE_RE.match(ranges[0])
    if match is None:
        return None
    first, last = match.groups()
    if first:
        start = int(first)
        if last and int(last) < start:
            return None  # invalid syntax: ignored, not unsatisfiable
        if start >= size:
            return Decision(416)
        end = min(int(last), size - 1) if last else size - 1
        return Decision(206, start, end)
    if not last:
        return None
    suffix = int(last)
    if suffix == 0 or size == 0:
        return Decision(416)
    return Decision(206, max(0, size - suffix), size - 1)
