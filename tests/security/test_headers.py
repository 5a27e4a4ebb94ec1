"""Security headers on every kind of response: pages, API, errors, static files."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from litestar.testing import AsyncTestClient

from tests.security.helpers import HTML, web_login


def _directives(csp: str) -> dict[str, list[str]]:
    parts = (d.split() for d in csp.split(";") if d.strip())
    return {p[0]: p[1:] for p in parts}


def assert_strict_headers(headers) -> None:
    csp = _directives(headers["content-security-policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize(
    ("path", "accept", "status"),
    [
        ("/login", "text/html", 200),
        ("/", "text/html", 302),  # redirect to the login page
        ("/api/me", "application/json", 401),
        ("/api/images/not-a-uuid", "application/json", 401),
        ("/health", "application/json", 200),
        ("/static/app.css", "text/css", 200),
        ("/no/such/page", "text/html", 404),
        ("/schema/openapi.json", "application/json", 200),
    ],
)
async def test_every_response_carries_the_headers(
    client: AsyncTestClient, path: str, accept: str, status: int
) -> None:
    r = await client.get(path, headers={"Accept": accept})
    assert r.status_code == status
    assert_strict_headers(r.headers)


async def test_authenticated_api_and_pages_carry_the_headers(
    client: AsyncTestClient, admin_headers: dict[str, str]
) -> None:
    r = await client.get("/api/images", headers=admin_headers)
    assert r.status_code == 200
    assert_strict_headers(r.headers)
    assert (await web_login(client, "admin", "admin")).status_code == 303
    home = await client.get("/", headers=HTML)
    assert home.status_code == 200
    assert_strict_headers(home.headers)


async def test_pages_only_load_our_own_scripts_and_styles(client: AsyncTestClient) -> None:
    """What the CSP allows must be all the pages need: no inline code or styles."""
    await web_login(client, "admin", "admin")
    for path in ("/login", "/"):
        soup = BeautifulSoup((await client.get(path, headers=HTML)).text, "html.parser")
        scripts = soup.find_all("script")
        assert scripts, path
        for script in scripts:
            assert script.get("src", "").startswith("/static/"), script
            assert not script.string
        assert not soup.find_all("style"), path
        assert not soup.select("[style]"), path
        assert not [t for t in soup.find_all(True) if any(a.startswith("on") for a in t.attrs)]
        # htmx 2 would inject an inline <style>; the config meta tag turns that off.
        meta = soup.select_one("meta[name=htmx-config]")
        assert meta is not None and '"includeIndicatorStyles": false' in meta["content"]


async def test_api_docs_page_is_the_only_relaxed_policy(client: AsyncTestClient) -> None:
    # The docs viewer loads from a CDN; the exception must not widen framing.
    r = await client.get("/schema")
    assert r.status_code == 200
    csp = _directives(r.headers["content-security-policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" in csp["script-src"]
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_hsts_only_in_production(client: AsyncTestClient, make_settings) -> None:
    from imageuploader.app import create_app

    r = await client.get("/health")
    assert "strict-transport-security" not in r.headers
    settings = make_settings(
        APP_ENV="production",
        SECRET_KEY="s" * 40,
        ADMIN_PASSWORD="a-strong-password",
        DATABASE_URL=client.app.state.settings.database_url,
    )
    async with AsyncTestClient(app=create_app(settings)) as prod:
        r = await prod.get("/health")
        assert r.headers["strict-transport-security"].startswith("max-age=")
        assert_strict_headers(r.headers)
