"""A password reset, a password change and a deactivation end the user's sessions and tokens;
the user's own change keeps the session it was made in; reactivation revives nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import AsyncTestClient

from tests.conftest import bearer
from tests.security.helpers import HTML, web_login

PASSWORD = "secret-pass"
NEW_PASSWORD = "a-new-secret-pass"


class Jar:
    """One browser's cookies (session and CSRF), swapped in and out of the shared client."""

    def __init__(self, client: AsyncTestClient, cookies: dict[str, str], csrf: str) -> None:
        self.client = client
        self.cookies = cookies
        self.csrf = csrf

    def _use(self) -> None:
        self.client.cookies.clear()
        self.client.cookies.update(self.cookies)

    async def get(self, path: str, **kwargs: Any):
        self._use()
        try:
            return await self.client.get(path, **kwargs)
        finally:
            self.client.cookies.clear()

    async def post(self, path: str, **kwargs: Any):
        self._use()
        headers = {"X-CSRFToken": self.csrf, **kwargs.pop("headers", {})}
        try:
            answer = await self.client.post(path, headers=headers, **kwargs)
            # A rotated session id arrives in the answer: this browser keeps it.
            self.cookies.update({c.name: c.value for c in answer.cookies.jar})
            return answer
        finally:
            self.client.cookies.clear()


async def browser_session(client: AsyncTestClient, username: str, password: str) -> Jar:
    """Log in through the HTML form in a fresh cookie jar; return that jar."""
    client.cookies.clear()
    r = await web_login(client, username, password)
    assert r.status_code == 303, r.text
    page = await client.get("/", headers=HTML)
    assert page.status_code == 200
    body = BeautifulSoup(page.text, "html.parser").select_one("body")
    csrf = body["hx-headers"].split('"X-CSRFToken": "')[1].split('"')[0]
    jar = Jar(client, dict(client.cookies), csrf)
    client.cookies.clear()
    return jar


async def me(jar_or_client: Jar | AsyncTestClient, headers: dict[str, str] | None = None) -> int:
    return (await jar_or_client.get("/api/me", headers=headers or {})).status_code


async def test_admin_password_reset_ends_sessions_and_tokens(
    client: AsyncTestClient, make_user: Callable[..., Any], admin_headers: dict[str, str]
) -> None:
    token = await make_user("alice")
    session = await browser_session(client, "alice", PASSWORD)
    assert await me(session) == 200 and await me(client, token) == 200

    r = await client.patch(
        "/api/admin/users/alice", json={"password": NEW_PASSWORD}, headers=admin_headers
    )
    assert r.status_code == 200, r.text

    assert await me(session) == 401
    assert await me(client, token) == 401
    assert await me(client, await bearer(client, "alice", NEW_PASSWORD)) == 200


async def test_own_password_change_keeps_only_the_session_it_was_made_in(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    token = await make_user("alice")
    here = await browser_session(client, "alice", PASSWORD)
    elsewhere = await browser_session(client, "alice", PASSWORD)

    r = await here.post(
        "/api/me/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert r.status_code == 204, r.text

    assert await me(here) == 200
    assert await me(elsewhere) == 401
    assert await me(client, token) == 401
    r = await client.post("/api/auth/token", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 401
    assert await me(client, await bearer(client, "alice", NEW_PASSWORD)) == 200


async def test_own_password_change_with_a_token_keeps_that_token_only(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    used = await make_user("alice")
    other = await bearer(client, "alice", PASSWORD)
    r = await client.post(
        "/api/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=used,
    )
    assert r.status_code == 204, r.text
    assert await me(client, used) == 200
    assert await me(client, other) == 401


async def test_own_password_change_refuses_a_wrong_current_password(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    token = await make_user("alice")
    for body in (
        {"current_password": "wrong-pass", "new_password": NEW_PASSWORD},
        {"current_password": PASSWORD, "new_password": "x"},
        {"current_password": PASSWORD},
    ):
        r = await client.post("/api/me/password", json=body, headers=token)
        assert r.status_code in (400, 422), (body, r.text)
        assert r.json()["detail"]
    # Nothing changed: the old password and the token still work.
    assert await me(client, token) == 200
    assert await me(client, await bearer(client, "alice", PASSWORD)) == 200


async def test_deactivation_ends_sessions_and_reactivation_revives_nothing(
    client: AsyncTestClient, make_user: Callable[..., Any], admin_headers: dict[str, str]
) -> None:
    token = await make_user("alice")
    session = await browser_session(client, "alice", PASSWORD)
    r = await client.patch("/api/admin/users/alice", json={"active": False}, headers=admin_headers)
    assert r.status_code == 200
    # The session is not used while the user is inactive (a refused session is
    # cleared from the store on use): it must stay dead all the same.
    assert await me(client, token) == 401

    r = await client.patch("/api/admin/users/alice", json={"active": True}, headers=admin_headers)
    assert r.status_code == 200
    assert await me(session) == 401
    assert await me(client, token) == 401
    fresh = await browser_session(client, "alice", PASSWORD)
    assert await me(fresh) == 200


async def test_password_page_changes_the_password_and_keeps_the_session(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    token = await make_user("alice")
    here = await browser_session(client, "alice", PASSWORD)
    page = await here.get("/account/password", headers=HTML)
    assert page.status_code == 200
    form = BeautifulSoup(page.text, "html.parser").select_one("form[action='/account/password']")
    assert form is not None
    names = {i["name"] for i in form.select("input[name]")}
    assert {"current_password", "new_password", "_csrf_token"} <= names

    wrong = await here.post(
        "/account/password",
        data={"current_password": "wrong-pass", "new_password": NEW_PASSWORD},
        headers=HTML,
    )
    assert wrong.status_code == 400
    assert BeautifulSoup(wrong.text, "html.parser").select_one("[role=alert]") is not None
    assert await me(client, token) == 200

    done = await here.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=HTML,
    )
    assert done.status_code == 200, done.text
    assert await me(here) == 200
    assert await me(client, token) == 401
