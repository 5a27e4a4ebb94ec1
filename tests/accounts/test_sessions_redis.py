"""The Redis session store (CACHE_URL=redis://...) against the real Redis service."""

from __future__ import annotations

import redis.asyncio as aioredis
from bs4 import BeautifulSoup
from litestar.testing import AsyncTestClient

from imageuploader.app import create_app

HTML = {"Accept": "text/html"}
NAMESPACE = "imageuploader:sessions"


async def test_sessions_live_in_redis(make_settings, redis_url: str, tmp_path) -> None:
    settings = make_settings(
        CACHE_URL=redis_url, DATABASE_URL=f"sqlite:///{tmp_path / 'redis-test.sqlite'}"
    )
    r = aioredis.from_url(redis_url)
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            client.follow_redirects = False
            page = await client.get("/login", headers=HTML)
            token = BeautifulSoup(page.text, "html.parser").select_one("input[name=_csrf_token]")[
                "value"
            ]
            resp = await client.post(
                "/login",
                data={"_csrf_token": token, "username": "admin", "password": "admin", "next": "/"},
                headers=HTML,
            )
            assert resp.status_code == 303
            session_id = client.cookies.get("session")
            stored = await r.get(f"{NAMESPACE}:{session_id}")
            assert stored is not None and b"user_id" in stored
            assert (await client.get("/api/me")).json()["username"] == "admin"

            resp = await client.post("/logout", data={"_csrf_token": token}, headers=HTML)
            assert resp.status_code == 303
            assert await r.get(f"{NAMESPACE}:{session_id}") is None
            assert (await client.get("/api/me")).status_code == 401
    finally:
        await r.aclose()
