"""RFC 9110 preconditions and byte ranges, decided from headers alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from imageuploader.web.conditional import (
    Decision,
    Validators,
    content_range,
    evaluate,
    http_date,
    strong_etag,
)

ETAG = strong_etag("abc123")
MODIFIED = datetime(2026, 11, 23, 12, 0, 0, 500_000, tzinfo=UTC)
V = Validators(ETAG, MODIFIED)
SIZE = 1000


def decide(headers: dict[str, str], method: str = "GET", size: int = SIZE) -> Decision:
    return evaluate(method, {k.lower(): v for k, v in headers.items()}, V, size)


def test_no_conditions_is_the_whole_body() -> None:
    d = decide({})
    assert (d.status, d.start, d.end, d.length) == (200, 0, SIZE - 1, SIZE)


@pytest.mark.parametrize(
    "header",
    [ETAG, f'"other", {ETAG}', f"W/{ETAG}", "*", f' "x" ,W/"y",  {ETAG} '],
)
def test_if_none_match_that_names_us_is_304(header: str) -> None:
    assert decide({"If-None-Match": header}).status == 304
    assert decide({"If-None-Match": header}, method="HEAD").status == 304


@pytest.mark.parametrize("header", ['"other"', '"abc1234"', "abc123", '"abc123', ""])
def test_if_none_match_that_does_not_name_us_is_200(header: str) -> None:
    assert decide({"If-None-Match": header}).status == 200


def test_if_none_match_wins_over_if_modified_since() -> None:
    # The date alone would say "not modified"; a non-matching ETag means modified.
    later = http_date(MODIFIED + timedelta(days=1))
    assert decide({"If-Modified-Since": later}).status == 304
    assert decide({"If-None-Match": '"old"', "If-Modified-Since": later}).status == 200


def test_if_modified_since_compares_whole_seconds() -> None:
    same = http_date(MODIFIED)  # MODIFIED has half a second the header cannot carry
    earlier = http_date(MODIFIED - timedelta(seconds=1))
    assert decide({"If-Modified-Since": same}).status == 304
    assert decide({"If-Modified-Since": earlier}).status == 200
    assert decide({"If-Modified-Since": "not a date"}).status == 200


def test_if_match_and_if_unmodified_since() -> None:
    assert decide({"If-Match": ETAG}).status == 200
    assert decide({"If-Match": '"other"'}).status == 412
    assert decide({"If-Match": f"W/{ETAG}"}).status == 412  # strong comparison
    earlier = http_date(MODIFIED - timedelta(seconds=1))
    assert decide({"If-Unmodified-Since": earlier}).status == 412
    assert decide({"If-Unmodified-Since": http_date(MODIFIED)}).status == 200


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=100-", 100, SIZE - 1),
        ("bytes=-10", SIZE - 10, SIZE - 1),
        ("bytes=-5000", 0, SIZE - 1),
        ("bytes=990-5000", 990, SIZE - 1),
        ("BYTES = 5-5", 5, 5),
    ],
)
def test_single_range_is_206(header: str, start: int, end: int) -> None:
    d = decide({"Range": header})
    assert (d.status, d.start, d.end) == (206, start, end)
    assert content_range(d, SIZE) == f"bytes {start}-{end}/{SIZE}"


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_range_is_416(header: str) -> None:
    d = decide({"Range": header})
    assert d.status == 416
    assert content_range(d, SIZE) == f"bytes */{SIZE}"


def test_any_range_of_an_empty_object_is_416() -> None:
    assert decide({"Range": "bytes=-5"}, size=0).status == 416
    assert decide({"Range": "bytes=0-"}, size=0).status == 416


@pytest.mark.parametrize(
    "header", ["items=0-5", "bytes=5-1", "bytes=a-b", "bytes=", "bytes=0-1,5-9", "bytes=-"]
)
def test_ignored_ranges_send_the_whole_body(header: str) -> None:
    # Other units, invalid syntax and several ranges: 200 with everything.
    assert decide({"Range": header}).status == 200


def test_range_is_ignored_on_head() -> None:
    assert decide({"Range": "bytes=0-9"}, method="HEAD").status == 200


def test_if_range_with_the_current_validator_keeps_the_range() -> None:
    assert decide({"Range": "bytes=0-9", "If-Range": ETAG}).status == 206
    assert decide({"Range": "bytes=0-9", "If-Range": http_date(MODIFIED)}).status == 206


@pytest.mark.parametrize(
    "if_range", ['"stale"', f"W/{ETAG}", "Mon, 01 Jan 2024 00:00:00 GMT", "garbage"]
)
def test_if_range_with_a_stale_validator_sends_the_whole_body(if_range: str) -> None:
    assert decide({"Range": "bytes=0-9", "If-Range": if_range}).status == 200


def test_if_range_stale_with_unsatisfiable_range_is_still_200() -> None:
    assert decide({"Range": "bytes=5000-", "If-Range": '"stale"'}).status == 200


def test_a_304_precedes_the_range() -> None:
    assert decide({"Range": "bytes=0-9", "If-None-Match": ETAG}).status == 304


def test_without_an_etag_nothing_matches() -> None:
    none = Validators(None, None)
    assert evaluate("GET", {"if-none-match": "*"}, none, SIZE).status == 200
    assert evaluate("GET", {"if-modified-since": http_date(MODIFIED)}, none, SIZE).status == 200


def test_other_methods_get_412_for_a_matching_tag_and_ignore_dates() -> None:
    assert decide({"If-None-Match": ETAG}, method="PUT").status == 412
    assert decide({"If-Modified-Since": http_date(MODIFIED)}, method="PUT").status == 200
