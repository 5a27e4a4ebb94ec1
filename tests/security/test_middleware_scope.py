"""Middleware runs only where it has work: the session store for cookie requests, CSRF for
cookie requests that change something or may render a form."""

from __future__ import annotations

from typing import Any

from litestar.stores.memory import MemoryStore
from litestar.testing import AsyncTestClient

from tests.security.helpers import HTML, web_login


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    async def get(self, key: str, renew_for: Any = None) -> bytes | None:
        self.reads += 1
        return await super().get(key, renew_for)


async def test_bearer_and_cookieless_requests_never_read_the_session_store(
    client: AsyncTestClient, admin_headers: dict[str, str]
) -> None:
    store = CountingStore()
    client.app.stores.register("sessions", store, allow_override=True)
    assert (await web_login(client, "admin", "admin")).status_code == 303
    session_cookies = dict(client.cookies)

    client.cookies.clear()
    before = store.reads
    assert (await client.get("/api/me", headers=admin_headers)).status_code == 200
    assert (await client.get("/api/me")).status_code == 401
    assert store.reads == before

    client.cookies.update(session_cookies)
    assert (await client.get("/api/me")).status_code == 200
    assert store.reads == before + 1
    # A bearer header is judged alone, cookie or not: the store is not read.
    assert (await client.get("/api/me", headers=admin_headers)).status_code == 200
    assert store.reads == before + 1


async def test_csrf_cookie_only_where_a_form_may_be_rendered(
    client: AsyncTestClient, admin_headers: dict[str, str]
) -> None:
    client.cookies.clear()
    api = await client.get("/api/me", headers=admin_headers)
    assert "csrftoken" not in api.headers.get("set-cookie", "")
    health = await client.get("/health")
    assert "csrftoken" not in health.headers.get("set-cookie", "")
    page = await client.get("/login", headers=HTML)
    assert "csrftoken" in page.headers.get("set-cookie", "")


async def test_cookie_requests_that_change_something_still_need_the_csrf_token(
    client: AsyncTestClient,
) -> None:
    assert (await web_login(client, "admin", "admin")).status_code == 303
    r = await client.post(
        "/api/me/password", json={"current_password": "admin", "new_password": "x" * 12}
    )
    assert r.status_code == 403
    r = await client.delete("/api/auth/token")
    assert r.status_code == 403
