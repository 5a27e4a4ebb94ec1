"""Content negotiation of output formats: which ready format an Accept header gets.

Pure functions, no I/O. The rules, after imgproxy and the CDNs:
- AVIF and WebP are served only to clients that name them (`image/avif`,
  `image/webp`) with a q-value above 0: browsers also send `*/*` and
  `image/*` for formats they cannot decode, so a wildcard proves nothing;
- the highest q-value wins; equal q-values prefer AVIF, then WebP, then JPEG
  (the smallest at the same visual quality);
- the fallback (JPEG, or WebP for a source with alpha) is served when nothing
  better is acceptable, even to a client that refused it: an image it may
  not render beats a 406 it certainly cannot.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from typing import Final

from imageuploader.imaging import formats

# Most preferred first (ties between equal q-values).
PREFERENCE: Final[tuple[str, ...]] = (formats.AVIF, formats.WEBP, formats.JPEG)
_EXPLICIT_ONLY: Final = frozenset({formats.AVIF, formats.WEBP})
MAX_ACCEPT: Final = 4096  # longer headers are cut: a browser sends ~100 characters


# Browsers send one of a handful of Accept headers: parse each once. The result is
# shared, so it must be read only.
@functools.lru_cache(maxsize=512)
def parse_accept(header: str | None) -> dict[str, float]:
    """Media ranges (lower-cased) and their q-values; malformed entries are skipped."""
    ranges: dict[str, float] = {}
    for part in (header or "")[:MAX_ACCEPT].split(","):
        media, *params = (p.strip() for p in part.split(";"))
        media = media.lower()
        if media.count("/") != 1 or not all(media.split("/")):
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = -1.0
        if not 0.0 <= q <= 1.0:
            continue
        # A repeated range keeps its first q-value (RFC 9110 leaves this open).
        ranges.setdefault(media, q)
    return ranges


def quality(ranges: dict[str, float], fmt: str, *, header_given: bool) -> float:
    """How much the client wants `fmt`: the most specific matching range's q-value."""
    media = formats.MEDIA_TYPES[fmt]
    if media in ranges:
        return ranges[media]
    if fmt in _EXPLICIT_ONLY:
        return 0.0
    if not header_given:
        return 1.0
    return ranges.get("image/*", ranges.get("*/*", 0.0))


def choose(accept: str | None, ready: Collection[str], fallback: str) -> str:
    """The format to serve among `ready` (which holds `fallback`) for this Accept header."""
    ranges = parse_accept(accept)
    given = bool(ranges)
    best, best_q = fallback, 0.0
    for fmt in PREFERENCE:  # strict > keeps the more preferred format on a tie
        if fmt not in ready:
            continue
        q = quality(ranges, fmt, header_given=given)
        if q > best_q:
            best, best_q = fmt, q
    return best
