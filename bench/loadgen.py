"""A small closed-loop HTTP/1.1 load client: N keep-alive connections on uvloop, each sending
its next request as soon as the last answer is complete, every latency recorded.

It measures ours and the bare-framework floor alike, so whatever it costs is in
both figures; it parses only the status line and the body's framing
(Content-Length or chunked), which keeps it far cheaper than either server.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import uvloop

from bench.stats import percentile


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float] = field(repr=False)
    statuses: dict[int, int]
    body_bytes: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def merged(self, other: LoadResult) -> LoadResult:
        """Both runs as one: their requests, time and latencies together."""
        statuses = dict(self.statuses)
        for status, n in other.statuses.items():
            statuses[status] = statuses.get(status, 0) + n
        return LoadResult(
            self.requests + other.requests,
            self.seconds + other.seconds,
            self.latencies + other.latencies,
            statuses,
            self.body_bytes + other.body_bytes,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "requests_per_s": round(self.per_second, 1),
            "p50_ms": round(percentile(self.latencies, 50) * 1000, 3),
            "p99_ms": round(percentile(self.latencies, 99) * 1000, 3),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "body_bytes_per_response": self.body_bytes // max(1, self.requests),
        }


def raw_request(url: str, headers: dict[str, str] | None = None) -> tuple[str, int, bytes]:
    """(host, port, the bytes of a keep-alive GET) for `url`."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return parts.hostname or "127.0.0.1", parts.port or 80, request


async def _read_body(reader: asyncio.StreamReader, head: bytes) -> int:
    lower = head.lower()
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        end = lower.index(b"\r\n", at + 2)
        length = int(lower[at + 17 : end])
        if length:
            await reader.readexactly(length)
        return length
    if b"\r\ntransfer-encoding: chunked" not in lower:
        return 0  # 304, 204: no body
    total = 0
    while True:
        size = int((await reader.readuntil(b"\r\n"))[:-2].split(b";")[0], 16)
        await reader.readexactly(size + 2)
        total += size
        if size == 0:
            return total


async def _connection(
    host: str, port: int, request: bytes, stop_at: float, result: LoadResult
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    clock = time.perf_counter
    statuses: Counter[int] = Counter()
    try:
        while (started := clock()) < stop_at:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = await _read_body(reader, head)  # not `+= await`: other connections add too
            result.body_bytes += length
            result.latencies.append(clock() - started)
            statuses[int(head[9:12])] += 1
    finally:
        writer.close()
        for status, n in statuses.items():
            result.statuses[status] = result.statuses.get(status, 0) + n


async def _run(url: str, headers: dict[str, str], seconds: float, connections: int) -> LoadResult:
    host, port, request = raw_request(url, headers)
    result = LoadResult(0, 0.0, [], {}, 0)
    started = time.perf_counter()
    stop_at = started + seconds
    await asyncio.gather(
        *(_connection(host, port, request, stop_at, result) for _ in range(connections))
    )
    result.seconds = time.perf_counter() - started
    result.requests = len(result.latencies)
    return result


def load(
    url: str, headers: dict[str, str] | None = None, seconds: float = 5.0, connections: int = 8
) -> LoadResult:
    """Hammer `url` with `connections` keep-alive connections for `seconds`."""
    return uvloop.run(_run(url, headers or {}, seconds, connections))
