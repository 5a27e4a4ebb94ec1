"""A caption is data: the API returns it verbatim as JSON, pages show it as text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bs4 import BeautifulSoup
from litestar.testing import AsyncTestClient

from tests.security.helpers import HTML, small_jpeg, web_login

CAPTION = "<script>alert('x')</script><img src=x onerror=alert(1)>"


async def test_script_caption_is_returned_as_data(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    headers = await make_user("erin")
    r = await client.post(
        "/api/images",
        files={"file": ("a.jpg", small_jpeg(), "image/jpeg")},
        data={"caption": CAPTION},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["caption"] == CAPTION
    image_id = r.json()["id"]
    again = await client.get(f"/api/images/{image_id}", headers=headers)
    assert again.json()["caption"] == CAPTION
    assert again.headers["content-type"].startswith("application/json")
    assert again.headers["x-content-type-options"] == "nosniff"


async def test_script_caption_is_shown_as_text_in_the_gallery(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    headers = await make_user("frank")
    r = await client.post(
        "/api/images",
        files={"file": ("a.jpg", small_jpeg(), "image/jpeg")},
        data={"caption": CAPTION},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    assert (await web_login(client, "frank", "secret-pass")).status_code == 303
    for path in ("/", f"/images/{r.json()['id']}"):
        page = await client.get(path, headers=HTML)
        assert page.status_code == 200, path
        assert CAPTION not in page.text  # never raw markup
        soup = BeautifulSoup(page.text, "html.parser")
        assert CAPTION in soup.get_text(), path  # shown, as text
        assert all(s.get("src", "").startswith("/static/") for s in soup.find_all("script"))
        assert not soup.select("img[onerror]")
