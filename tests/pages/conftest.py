"""Fixtures for the HTML pages: a browser-like session (cookie + CSRF) and photos."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import pyvips
from bs4 import BeautifulSoup
from httpx import Response
from litestar.testing import AsyncTestClient

# Liveness bound for background work, not a speed target: a stuck job fails here.
DONE_WITHIN_SECONDS = 60
PASSWORD = "secret-pass"


def photo(width: int = 640, height: int = 480, suffix: str = ".jpg") -> bytes:
    """A deterministic gradient photo, generated (no image is committed)."""
    xy = pyvips.Image.xyz(width, height)
    image = (xy[0] * (255.0 / width)).bandjoin([xy[1] * (255.0 / height), xy[0] * 0 + 90])
    data: bytes = image.cast("uchar").copy(interpretation="srgb").write_to_buffer(suffix)
    return data


def soup(response: Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


@dataclass
class Browser:
    """One logged-in person on the shared test client: their CSRF token and helpers."""

    client: AsyncTestClient
    username: str
    csrf: str = ""
    headers: dict[str, str] = field(default_factory=lambda: {"Accept": "text/html"})

    def htmx(self) -> dict[str, str]:
        """What htmx sends: our body's hx-headers plus HX-Request."""
        return {**self.headers, "HX-Request": "true", "X-CSRFToken": self.csrf}

    async def page(self, path: str, status: int = 200) -> BeautifulSoup:
        r = await self.client.get(path, headers=self.headers)
        assert r.status_code == status, (path, r.status_code, r.text[:500])
        return soup(r)

    async def fragment(self, path: str) -> Response:
        return await self.client.get(path, headers=self.htmx())

    async def form(self, path: str, data: dict[str, Any], *, htmx: bool = True) -> Response:
        """POST a urlencoded form, as htmx (header token) or as a plain form (field token)."""
        if htmx:
            return await self.client.post(path, data=data, headers=self.htmx())
        return await self.client.post(
            path, data={**data, "_csrf_token": self.csrf}, headers=self.headers
        )

    async def upload(
        self,
        data: bytes,
        caption: str = "",
        resolution: str = "",
        *,
        filename: str = "photo.jpg",
        htmx: bool = True,
    ) -> Response:
        fields = {"caption": caption, "resolution": resolution}
        headers = self.htmx() if htmx else self.headers
        if not htmx:
            fields["_csrf_token"] = self.csrf
        return await self.client.post(
            "/upload",
            files={"file": (filename, data, "image/jpeg")},
            data=fields,
            headers=headers,
        )

    async def wait_done(self, image_id: str) -> BeautifulSoup:
        """Poll the renditions fragment the way htmx does, until it stops polling."""
        deadline = asyncio.get_running_loop().time() + DONE_WITHIN_SECONDS
        while True:
            r = await self.fragment(f"/images/{image_id}/renditions")
            if r.status_code == 286:
                return soup(r)
            assert r.status_code == 200, r.text
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"renditions still pending: {r.text}")
            await asyncio.sleep(0.05)


async def log_in(client: AsyncTestClient, username: str, password: str) -> Browser:
    """Log in through the real form; a fresh cookie jar so one client can switch users."""
    client.cookies.clear()
    r = await client.get("/login", headers={"Accept": "text/html"})
    token = soup(r).select_one("input[name=_csrf_token]")["value"]
    r = await client.post(
        "/login",
        data={"username": username, "password": password, "_csrf_token": token, "next": "/"},
        headers={"Accept": "text/html"},
    )
    assert r.status_code == 303, r.text
    browser = Browser(client=client, username=username)
    page = await browser.page("/")
    browser.csrf = page.select_one("input[name=_csrf_token]")["value"]
    return browser


LogIn = Callable[..., Awaitable[Browser]]


@pytest.fixture
def login(client: AsyncTestClient, make_user: Callable[..., Any]) -> LogIn:
    """login("alice", plan="Studio") creates alice (unless "admin") and logs her in."""

    async def go(username: str = "admin", plan: str = "Studio", is_admin: bool = False) -> Browser:
        if username == "admin":
            return await log_in(client, "admin", "admin")
        await make_user(username, plan, is_admin)
        return await log_in(client, username, PASSWORD)

    return go
