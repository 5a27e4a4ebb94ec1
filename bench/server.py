"""Entry for `python -m bench.server`: the app under uvicorn, as `imageuploader serve` runs
it, plus a SQL statement counter the benchmark reads at /__bench/queries."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

from bench.queries import QueryCounter, counting

QUERIES_PATH = "/__bench/queries"
Scope = MutableMapping[str, Any]
Asgi = Callable[[Scope, Callable[..., Any], Callable[..., Any]], Awaitable[None]]


def with_query_endpoint(app: Asgi, counter: QueryCounter) -> Asgi:
    """Answer QUERIES_PATH with the counter's snapshot; pass everything else to `app`."""

    async def wrapped(scope: Scope, receive: Callable[..., Any], send: Callable[..., Any]) -> None:
        if scope["type"] == "http" and scope["path"] == QUERIES_PATH:
            body = json.dumps(counter.snapshot()).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await app(scope, receive, send)

    return wrapped


def main() -> None:
    from imageuploader.app import create_app
    from imageuploader.cli import UVICORN_OPTIONS
    from imageuploader.settings import Settings

    settings = Settings.from_env(os.environ)
    logging.basicConfig(level=settings.log_level)
    with counting(QueryCounter()) as counter:
        app = with_query_endpoint(create_app(settings), counter)
        options = {**UVICORN_OPTIONS, "log_level": "warning"}
        uvicorn.run(app, host=settings.host, port=settings.port, **options)


if __name__ == "__main__":
    main()
