"""Account changes made in one process are seen by another on its very next request.

The reader is a real uvicorn process (`python -m bench.server`) on the same
PostgreSQL and Redis as the test's own app, which makes the changes. The
reader's caches are warm before each change: it has just answered the same
request with the old state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from bs4 import BeautifulSoup
from litestar.testing import AsyncTestClient

from bench.processes import Server
from imageuploader.accounts.tables import Plan, User
from imageuploader.app import create_app
from imageuploader.settings import Settings
from tests.conftest import _reset_database, bearer

PASSWORD = "secret-pass"

pytestmark = pytest.mark.e2e


@pytest.fixture
async def shared(
    postgres_url: str, redis_url: str, make_settings: Callable[..., Settings]
) -> Settings:
    await _reset_database(postgres_url)
    return make_settings(DATABASE_URL=postgres_url, CACHE_URL=redis_url)


@pytest.fixture
async def writer(shared: Settings) -> AsyncIterator[AsyncTestClient]:
    """The first process: the test's own app, which makes every change."""
    async with AsyncTestClient(app=create_app(shared)) as client:
        client.follow_redirects = False
        yield client


@pytest.fixture
def reader(writer: AsyncTestClient, shared: Settings, tmp_path: Path) -> Iterator[str]:
    """The second process, started once the writer has migrated and seeded."""
    server = Server.start(
        {
            "DATA_DIR": str(tmp_path / "reader"),
            "DATABASE_URL": shared.database_url,
            "DATABASE_POOL_SIZE": "2",
            "CACHE_URL": str(shared.cache_url),
        },
        tmp_path / "reader.log",
    )
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.fixture
async def alice(writer: AsyncTestClient) -> dict[str, str]:
    admin = await bearer(writer, "admin", "admin")
    r = await writer.post(
        "/api/admin/users",
        json={"username": "alice", "password": PASSWORD, "plan": "Basic"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return await bearer(writer, "alice", PASSWORD)


@pytest.fixture
async def admin(writer: AsyncTestClient) -> dict[str, str]:
    return await bearer(writer, "admin", "admin")


async def me(
    base_url: str, headers: dict[str, str] | None = None, cookies: dict[str, str] | None = None
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=base_url, cookies=cookies) as client:
        return await client.get("/api/me", headers=headers)


async def login_cookies(base_url: str, username: str, password: str) -> dict[str, str]:
    """A browser session on the reader, through its login form."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        page = await client.get("/login", headers={"Accept": "text/html"})
        form = BeautifulSoup(page.text, "html.parser").select_one("form[action='/login']")
        fields = {i["name"]: i.get("value", "") for i in form.select("input[name]")}
        fields.update(username=username, password=password)
        r = await client.post("/login", data=fields, headers={"Accept": "text/html"})
        assert r.status_code == 303, r.text
        return {c.name: c.value for c in client.cookies.jar}


async def test_a_revoked_token_is_refused_by_the_other_process(
    writer: AsyncTestClient, reader: str, alice: dict[str, str]
) -> None:
    assert (await me(reader, headers=alice)).status_code == 200
    assert (await writer.delete("/api/auth/token", headers=alice)).status_code == 204
    assert (await me(reader, headers=alice)).status_code == 401


async def test_a_deactivated_user_is_refused_by_the_other_process(
    writer: AsyncTestClient, reader: str, alice: dict[str, str], admin: dict[str, str]
) -> None:
    cookies = await login_cookies(reader, "alice", PASSWORD)
    assert (await me(reader, headers=alice)).status_code == 200
    assert (await me(reader, cookies=cookies)).status_code == 200
    r = await writer.patch("/api/admin/users/alice", json={"active": False}, headers=admin)
    assert r.status_code == 200
    assert (await me(reader, headers=alice)).status_code == 401
    assert (await me(reader, cookies=cookies)).status_code == 401


async def test_a_password_reset_ends_sessions_and_tokens_in_the_other_process(
    writer: AsyncTestClient, reader: str, alice: dict[str, str], admin: dict[str, str]
) -> None:
    cookies = await login_cookies(reader, "alice", PASSWORD)
    assert (await me(reader, cookies=cookies)).status_code == 200
    assert (await me(reader, headers=alice)).status_code == 200
    r = await writer.patch(
        "/api/admin/users/alice", json={"password": "another-pass-1"}, headers=admin
    )
    assert r.status_code == 200
    assert (await me(reader, cookies=cookies)).status_code == 401
    assert (await me(reader, headers=alice)).status_code == 401


async def test_a_plan_change_is_seen_by_the_other_process(
    writer: AsyncTestClient, reader: str, alice: dict[str, str], admin: dict[str, str]
) -> None:
    assert (await me(reader, headers=alice)).json()["plan"]["name"] == "Basic"
    # Behind the caches' back, the reader keeps answering from memory: its cache is warm.
    studio = await Plan.select(Plan.id).where(Plan.name == "Studio").first()
    await User.update({User.plan: studio["id"]}).where(User.username == "alice")
    assert (await me(reader, headers=alice)).json()["plan"]["name"] == "Basic"

    r = await writer.patch("/api/admin/users/alice", json={"plan": "Studio"}, headers=admin)
    assert r.status_code == 200
    assert (await me(reader, headers=alice)).json()["plan"]["name"] == "Studio"

    # An edit of the plan itself (the catalogue) too.
    sizes = (await me(reader, headers=alice)).json()["plan"]["sizes"]
    r = await writer.patch("/api/admin/plans/Studio", json={"sizes": sizes[:1]}, headers=admin)
    assert r.status_code == 200, r.text
    assert (await me(reader, headers=alice)).json()["plan"]["sizes"] == sizes[:1]
