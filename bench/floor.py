"""Entry for `python -m bench.floor SPEC PORT`: the bare-framework floor for the read figures.

A Litestar app with nothing but one handler per read, each returning the very
bytes (status, content type, body) our app answered it with, served by uvicorn
with the same options as `imageuploader serve`. A read with an `etag` answers
304 to a matching If-None-Match, as ours should.
"""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar, Request, Response, get
from litestar.handlers import HTTPRouteHandler

from imageuploader.cli import UVICORN_OPTIONS


def handler(path: str, read: dict[str, Any], name: str) -> HTTPRouteHandler:
    body = base64.b64decode(read["body"])
    status = int(read["status"])
    content_type = read["content_type"]
    etag = read.get("etag")

    async def answer(request: Request[Any, Any, Any]) -> Response[bytes]:
        if etag and request.headers.get("if-none-match") == etag:
            return Response(b"", status_code=304, headers={"ETag": etag})
        return Response(body, status_code=status, media_type=content_type)

    answer.__name__ = name
    return get(path, name=name, sync_to_thread=False)(answer)


def floor_app(spec: dict[str, Any]) -> Litestar:
    # The 304 read shares its path with the rendition read: one handler serves both.
    by_path: dict[str, dict[str, Any]] = {}
    for read in spec["reads"]:
        path = read["path"].split("?")[0]  # routes match the path; the query is ignored
        merged = by_path.setdefault(path, dict(read))
        merged["etag"] = merged.get("etag") or read.get("etag")
    handlers = [handler(path, r, f"read{n}") for n, (path, r) in enumerate(by_path.items())]
    return Litestar(route_handlers=handlers, logging_config=None, debug=False)


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    uvicorn.run(floor_app(spec), host="127.0.0.1", port=int(sys.argv[2]), **UVICORN_OPTIONS)


if __name__ == "__main__":
    main()
