"""Session cookies: HttpOnly and SameSite always, Secure in production, a new id at login."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie

from litestar.testing import AsyncTestClient

from imageuploader.app import create_app
from imageuploader.settings import Settings
from tests.security.helpers import HTML, web_login


def _set_cookies(response) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for raw in response.headers.get_list("set-cookie"):
        jar = SimpleCookie()
        jar.load(raw)
        for name, morsel in jar.items():
            out[name] = {k.lower(): v for k, v in morsel.items() if v} | {"value": morsel.value}
    return out


def assert_cookie_flags(cookie: dict, *, secure: bool) -> None:
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() in ("lax", "strict")
    assert bool(cookie.get("secure")) is secure


async def test_session_and_csrf_cookies_are_httponly_samesite(client: AsyncTestClient) -> None:
    page = await client.get("/login", headers=HTML)
    assert_cookie_flags(_set_cookies(page)["csrftoken"], secure=False)
    r = await web_login(client, "admin", "admin")
    assert r.status_code == 303
    assert_cookie_flags(_set_cookies(r)["session"], secure=False)


async def test_cookies_are_secure_in_production(
    client: AsyncTestClient, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(
        APP_ENV="production",
        SECRET_KEY="k" * 48,
        ADMIN_PASSWORD="a-strong-password",
        DATABASE_URL=client.app.state.settings.database_url,
    )
    # https: the client must send Secure cookies back for CSRF to pass.
    prod_app = create_app(settings)
    async with AsyncTestClient(app=prod_app, base_url="https://testserver.local") as prod:
        prod.follow_redirects = False
        page = await prod.get("/login", headers=HTML)
        assert_cookie_flags(_set_cookies(page)["csrftoken"], secure=True)
        # The admin was seeded by the first app with admin/admin.
        r = await web_login(prod, "admin", "admin")
        assert r.status_code == 303, r.text
        assert_cookie_flags(_set_cookies(r)["session"], secure=True)


async def test_login_replaces_an_existing_session_and_kills_the_old_id(
    client: AsyncTestClient,
) -> None:
    """Fixation: an id known before login (planted or left over) is useless after it.

    tests/accounts/test_web_login.py checks a first login gets a cookie; this
    covers a login made while a valid session id is already in the browser.
    """
    assert (await web_login(client, "admin", "admin")).status_code == 303
    planted = client.cookies.get("session")
    assert planted and (await client.get("/api/me")).status_code == 200
    assert (await web_login(client, "admin", "admin")).status_code == 303
    fresh = client.cookies.get("session")
    assert fresh and fresh != planted
    assert (await client.get("/api/me")).status_code == 200
    # The planted id no longer authenticates anyone.
    client.cookies.clear()
    r = await client.get("/api/me", headers={"Cookie": f"session={planted}"})
    assert r.status_code == 401
