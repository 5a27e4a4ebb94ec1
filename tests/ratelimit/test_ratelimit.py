"""Login attempts per IP and per username, uploads per user: 429 with Retry-After."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
import redis
from bs4 import BeautifulSoup
from litestar.testing import AsyncTestClient

from imageuploader.settings import ConfigError, Settings
from tests.conftest import bearer

from .conftest import photo, serving

HTML = {"Accept": "text/html"}


def assert_limited(r: httpx.Response, what: str) -> None:
    assert r.status_code == 429, r.text
    assert 1 <= int(r.headers["retry-after"]) <= 60
    body = r.json()
    assert body["status_code"] == 429
    assert what in body["detail"]


async def token_attempt(
    client: AsyncTestClient,
    username: str,
    password: str = "wrong",  # noqa: S107 - a failing attempt
) -> httpx.Response:
    return await client.post("/api/auth/token", json={"username": username, "password": password})


async def test_token_logins_are_limited_per_ip(limited_settings: Callable[..., Settings]) -> None:
    async with serving(limited_settings(RATE_LIMIT_LOGIN_PER_IP="3/minute")) as client:
        # Different usernames: only the address connects them.
        for name in ("a", "b", "c"):
            assert (await token_attempt(client, name)).status_code == 401
        assert_limited(await token_attempt(client, "d"), "from this address")
        # The right password does not get through either.
        assert (await token_attempt(client, "admin", "admin")).status_code == 429


async def test_token_logins_are_limited_per_username(
    limited_settings: Callable[..., Settings],
) -> None:
    async with serving(limited_settings(RATE_LIMIT_LOGIN_PER_USERNAME="2/minute")) as client:
        for _ in range(2):
            assert (await token_attempt(client, "admin")).status_code == 401
        assert_limited(await token_attempt(client, "admin", "admin"), "for this username")
        # Another username is not affected.
        assert (await token_attempt(client, "someone")).status_code == 401


async def test_a_malformed_login_body_is_refused_not_counted(
    limited_settings: Callable[..., Settings],
) -> None:
    async with serving(limited_settings(RATE_LIMIT_LOGIN_PER_USERNAME="1/minute")) as client:
        for _ in range(3):
            r = await client.post("/api/auth/token", content=b"{not json")
            assert r.status_code == 400, r.text
        assert (await token_attempt(client, "admin", "admin")).status_code == 200


async def login_form(client: AsyncTestClient) -> dict[str, str]:
    r = await client.get("/login", headers=HTML)
    form = BeautifulSoup(r.text, "html.parser").select_one("form[action='/login']")
    assert form is not None
    return {i["name"]: i.get("value", "") for i in form.select("input[name]")}


@pytest.mark.parametrize(
    ("env", "what"),
    [
        ({"RATE_LIMIT_LOGIN_PER_IP": "2/minute"}, "from this address"),
        ({"RATE_LIMIT_LOGIN_PER_USERNAME": "2/minute"}, "for this username"),
    ],
)
async def test_the_login_page_is_limited(
    limited_settings: Callable[..., Settings], env: dict[str, str], what: str
) -> None:
    async with serving(limited_settings(**env)) as client:
        fields = await login_form(client)
        for _ in range(2):
            r = await client.post("/login", data={**fields, "username": "admin"}, headers=HTML)
            assert r.status_code == 400, r.text
        r = await client.post(
            "/login", data={**fields, "username": "admin", "password": "admin"}, headers=HTML
        )
        assert r.status_code == 429
        assert 1 <= int(r.headers["retry-after"]) <= 60
        # JSON clients get the detail as JSON.
        r = await client.post(
            "/login",
            data={**fields, "username": "admin", "password": "admin"},
            headers={"Accept": "application/json"},
        )
        assert_limited(r, what)


async def test_uploads_are_limited_per_user(limited_settings: Callable[..., Settings]) -> None:
    async with serving(limited_settings(RATE_LIMIT_UPLOADS_PER_USER="2/minute")) as client:
        admin = await bearer(client, "admin", "admin")
        for name in ("alice", "bob"):
            r = await client.post(
                "/api/admin/users",
                json={"username": name, "password": "secret-pass", "plan": "Basic"},
                headers=admin,
            )
            assert r.status_code == 201, r.text
        alice = await bearer(client, "alice", "secret-pass")
        bob = await bearer(client, "bob", "secret-pass")

        shades = iter(range(256))

        async def send(headers: dict[str, str]) -> httpx.Response:
            files = {"file": ("p.jpg", photo(next(shades)), "image/jpeg")}
            return await client.post("/api/images", files=files, headers=headers)

        for _ in range(2):
            assert (await send(alice)).status_code == 201
        assert_limited(await send(alice), "uploads")
        # The upload page draws on the same budget.
        page = await client.post(
            "/upload", files={"file": ("p.jpg", photo(), "image/jpeg")}, headers=alice
        )
        assert_limited(page, "uploads")
        # Nothing was stored for the refused upload, and other users still upload.
        assert (await client.get("/api/images", headers=alice)).json()["total"] == 2
        assert (await send(bob)).status_code == 201
        # Reads are not uploads.
        assert (await client.get("/api/images", headers=alice)).status_code == 200


async def test_redis_counts_across_processes(
    limited_settings: Callable[..., Settings], redis_url: str
) -> None:
    """Two apps (two web processes) on one Redis share the counters."""
    redis.Redis.from_url(redis_url).flushdb()
    settings = limited_settings(CACHE_URL=redis_url, RATE_LIMIT_LOGIN_PER_IP="3/minute")
    async with serving(settings) as first, serving(settings) as second:
        for _ in range(3):
            assert (await token_attempt(first, "x")).status_code == 401
        assert_limited(await token_attempt(second, "y"), "from this address")
    keys = redis.Redis.from_url(redis_url).keys("imageuploader:ratelimit*")
    assert keys


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("", ("minute", 10)), ("5/second", ("second", 5)), ("100/hour", ("hour", 100)), ("off", None)],
)
def test_limits_are_configured_by_environment(raw: str, expected: tuple[str, int] | None) -> None:
    settings = Settings.from_env({"RATE_LIMIT_LOGIN_PER_USERNAME": raw})
    assert settings.rate_limit_login_per_username == expected


@pytest.mark.parametrize("raw", ["10", "10/fortnight", "-1/minute", "x/minute", "0/minute"])
def test_bad_limits_name_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="RATE_LIMIT_UPLOADS_PER_USER"):
        Settings.from_env({"RATE_LIMIT_UPLOADS_PER_USER": raw})
