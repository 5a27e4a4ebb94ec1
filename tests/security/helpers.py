"""Helpers for the web-security tests: a browser-like login and a tiny JPEG."""

from __future__ import annotations

import pyvips
from bs4 import BeautifulSoup
from litestar.testing import AsyncTestClient

HTML = {"Accept": "text/html"}


async def web_login(client: AsyncTestClient, username: str, password: str):
    """Log in through the HTML form, CSRF token included; return the POST response."""
    page = await client.get("/login", headers=HTML)
    assert page.status_code == 200
    form = BeautifulSoup(page.text, "html.parser").select_one("form[action='/login']")
    fields = {i["name"]: i.get("value", "") for i in form.select("input[name]")}
    fields.update(username=username, password=password)
    return await client.post("/login", data=fields, headers=HTML)


def small_jpeg(width: int = 320, height: int = 240) -> bytes:
    image = pyvips.Image.black(width, height, bands=3).linear([1, 1, 1], [40, 90, 160])
    return image.cast("uchar").jpegsave_buffer(Q=80)
