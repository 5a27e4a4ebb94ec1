"""The read benchmark's load client: request bytes and response framing."""

from __future__ import annotations

import asyncio

from bench.loadgen import LoadResult, _read_body, raw_request


def test_raw_request_is_a_keep_alive_get_with_its_headers() -> None:
    host, port, request = raw_request(
        "http://127.0.0.1:8123/api/images?per_page=50", {"Authorization": "Bearer t"}
    )
    assert (host, port) == ("127.0.0.1", 8123)
    assert request == (
        b"GET /api/images?per_page=50 HTTP/1.1\r\nHost: 127.0.0.1:8123\r\n"
        b"Authorization: Bearer t\r\n\r\n"
    )


async def _body_then_rest(head: bytes, rest: bytes) -> tuple[int, bytes]:
    reader = asyncio.StreamReader()
    reader.feed_data(rest + b"NEXT")
    reader.feed_eof()
    length = await _read_body(reader, head)
    return length, await reader.read()


async def test_content_length_chunked_and_empty_bodies_are_read_exactly() -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: x\r\nContent-Length: 5\r\n\r\n"
    assert await _body_then_rest(head, b"hello") == (5, b"NEXT")
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    assert await _body_then_rest(head, b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n") == (5, b"NEXT")
    head = b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n'
    assert await _body_then_rest(head, b"") == (0, b"NEXT")


def test_runs_merge_into_one() -> None:
    first = LoadResult(2, 1.0, [0.1, 0.2], {200: 2}, 10)
    second = LoadResult(3, 2.0, [0.3, 0.4, 0.5], {200: 2, 304: 1}, 5)
    both = first.merged(second)
    assert (both.requests, both.seconds, both.body_bytes) == (5, 3.0, 15)
    assert both.latencies == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert both.statuses == {200: 4, 304: 1}
    assert both.per_second == 5 / 3.0
    assert first.statuses == {200: 2}  # the parts are left as they were
