"""Web login and logout with sessions and CSRF, asserted on parsed markup."""

from __future__ import annotations

from bs4 import BeautifulSoup
from litestar.testing import AsyncTestClient

HTML = {"Accept": "text/html"}


async def _login_form(client: AsyncTestClient, path: str = "/login") -> dict[str, str]:
    r = await client.get(path, headers=HTML)
    assert r.status_code == 200
    form = BeautifulSoup(r.text, "html.parser").select_one("form[action='/login']")
    assert form is not None
    return {i["name"]: i.get("value", "") for i in form.select("input[name]")}


async def test_login_page_has_a_csrf_field(client: AsyncTestClient) -> None:
    fields = await _login_form(client)
    assert set(fields) >= {"_csrf_token", "username", "password", "next"}
    assert len(fields["_csrf_token"]) > 20


async def test_post_without_csrf_is_refused(client: AsyncTestClient) -> None:
    await _login_form(client)
    r = await client.post("/login", data={"username": "admin", "password": "admin"}, headers=HTML)
    assert r.status_code == 403
    assert client.cookies.get("session") is None or "user_id" not in r.text
    assert (await client.get("/", headers=HTML)).status_code in (302, 303, 307)


async def test_login_then_logout(client: AsyncTestClient) -> None:
    fields = await _login_form(client)
    before = client.cookies.get("session")
    fields.update(username="admin", password="admin")
    r = await client.post("/login", data=fields, headers=HTML)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert client.cookies.get("session") not in (None, before)
    home = await client.get("/", headers=HTML)
    assert home.status_code == 200
    soup = BeautifulSoup(home.text, "html.parser")
    assert soup.select_one(".who").get_text(strip=True).startswith("admin")
    assert soup.body["hx-headers"].startswith('{"X-CSRFToken": "')
    # The session works for the JSON API too.
    assert (await client.get("/api/me")).json()["username"] == "admin"
    logout_form = soup.select_one("form[action='/logout']")
    token = logout_form.select_one("input[name=_csrf_token]")["value"]
    r = await client.post("/logout", data={"_csrf_token": token}, headers=HTML)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = await client.get("/", headers=HTML)
    assert r.status_code in (302, 303, 307) and r.headers["location"].startswith("/login")
    assert (await client.get("/api/me")).status_code == 401


async def test_bad_credentials_show_an_error_in_the_form(client: AsyncTestClient) -> None:
    fields = await _login_form(client)
    fields.update(username="admin", password="wrong")
    r = await client.post("/login", data=fields, headers=HTML)
    assert r.status_code == 400
    soup = BeautifulSoup(r.text, "html.parser")
    assert soup.select_one("[role=alert]").get_text(strip=True) == "Invalid username or password."
    assert soup.select_one("input[name=username]")["value"] == "admin"


async def test_next_is_kept_but_never_leaves_the_site(client: AsyncTestClient) -> None:
    r = await client.get("/api-not-a-page", headers=HTML)
    assert r.status_code in (302, 303, 307, 404)
    fields = await _login_form(client, "/login?next=//evil.example/x")
    assert fields["next"] == "/"
    fields = await _login_form(client, "/login?next=/schema")
    fields.update(username="admin", password="admin")
    r = await client.post("/login", data=fields, headers=HTML)
    assert r.headers["location"] == "/schema"


async def test_api_with_session_cookie_needs_csrf(client: AsyncTestClient) -> None:
    fields = await _login_form(client)
    fields.update(username="admin", password="admin")
    await client.post("/login", data=fields, headers=HTML)
    r = await client.post("/api/admin/sizes", json={"slug": "w1", "width": 10})
    assert r.status_code == 403
    r = await client.post(
        "/api/admin/sizes",
        json={"slug": "w1", "width": 10},
        headers={"X-CSRFToken": client.cookies.get("csrftoken")},
    )
    assert r.status_code == 201


async def test_anonymous_requests_store_no_session(client: AsyncTestClient, app) -> None:
    """Only a login creates a server-side session; visitors leave nothing behind."""
    store = app.stores.get("sessions")
    r = await client.get("/login", headers=HTML)
    assert r.status_code == 200
    assert "session" not in r.cookies
    assert (await client.get("/", headers=HTML)).status_code in (302, 303)
    assert client.cookies.get("session") is None

    fields = await _login_form(client)
    fields.update(username="admin", password="admin")
    assert (await client.post("/login", data=fields, headers=HTML)).status_code == 303
    session_id = client.cookies.get("session")
    assert session_id
    assert await store.exists(session_id)
