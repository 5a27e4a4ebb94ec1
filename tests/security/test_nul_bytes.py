"""A NUL character in any text a client sends is a 4xx, never a 500 (PostgreSQL text
cannot hold NUL): JSON bodies, forms, multipart fields, path and query parameters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import pyvips
from bs4 import BeautifulSoup
from litestar.testing import AsyncTestClient

from imageuploader.web.text import FORM, JSON, _has_nul

pytestmark = pytest.mark.usefixtures("settings")

NUL = "\x00"


def photo() -> bytes:
    xy = pyvips.Image.xyz(64, 48)
    image = (xy[0] * 4).bandjoin([xy[1] * 5, xy[0] * 0 + 90])
    return image.cast("uchar").copy(interpretation="srgb").write_to_buffer(".jpg")


JSON_CASES = [
    ("POST", "/api/auth/token", {"username": f"ad{NUL}min", "password": "admin"}),
    ("POST", "/api/auth/token", {"username": "admin", "password": f"ad{NUL}min"}),
    ("POST", "/api/auth/token", {"username": "admin", "password": "admin", "name": f"cli{NUL}"}),
    (
        "POST",
        "/api/admin/users",
        {"username": f"eve{NUL}", "password": "secret-pass", "plan": "Basic"},
    ),
    (
        "POST",
        "/api/admin/users",
        {"username": "eve", "password": f"secret{NUL}pass", "plan": "Basic"},
    ),
    ("POST", "/api/admin/users", {"username": "eve", "password": "secret-pass", "plan": f"B{NUL}"}),
    ("PATCH", "/api/admin/users/alice", {"plan": f"Basic{NUL}"}),
    ("PATCH", "/api/admin/users/alice", {"password": f"new{NUL}password"}),
    ("POST", "/api/admin/plans", {"name": f"Tiny{NUL}", "sizes": ["h200"]}),
    ("POST", "/api/admin/plans", {"name": "Tiny", "sizes": [f"h200{NUL}"]}),
    ("PATCH", "/api/admin/plans/Basic", {"name": f"Basic{NUL}"}),
    ("POST", "/api/admin/sizes", {"slug": f"s{NUL}", "width": 10, "fit": "contain"}),
    ("PATCH", "/api/admin/sizes/h200", {"slug": f"h{NUL}"}),
    ("POST", "/api/images/{image}/expiring-links", {"seconds": 600, "rendition": f"h2{NUL}"}),
]

PATH_CASES = [
    ("GET", "/api/admin/users/al%00ice"),
    ("PATCH", "/api/admin/users/al%00ice"),
    ("DELETE", "/api/admin/users/al%00ice"),
    ("GET", "/api/admin/plans/Ba%00sic"),
    ("DELETE", "/api/admin/plans/Ba%00sic"),
    ("GET", "/api/admin/sizes/h2%0000"),
    ("DELETE", "/api/admin/sizes/h2%0000"),
    ("GET", "/media/{image}/h2%0000"),
    ("GET", "/api/images/{image}%00"),
    ("GET", "/s/abc%00def"),
    ("GET", "/api/images?page=1%00"),
    ("GET", "/login?next=/%00"),
    ("GET", "/images/{image}?x=%00"),
]


@pytest.fixture
async def image(client: AsyncTestClient, make_user: Callable[..., Any]) -> dict[str, Any]:
    """alice (Enterprise) and one image of hers; her headers under "headers"."""
    alice = await make_user("alice", plan="Enterprise")
    r = await client.post(
        "/api/images", files={"file": ("p.jpg", photo(), "image/jpeg")}, headers=alice
    )
    assert r.status_code == 201, r.text
    return {"id": r.json()["id"], "headers": alice}


def assert_refused(r: Any, case: Any) -> None:
    assert 400 <= r.status_code < 500, (case, r.status_code, r.text[:300])


@pytest.mark.parametrize(("method", "path", "body"), JSON_CASES)
async def test_json_fields(
    client: AsyncTestClient,
    admin_headers: dict[str, str],
    image: dict[str, Any],
    method: str,
    path: str,
    body: dict[str, Any],
) -> None:
    headers = image["headers"] if "{image}" in path else admin_headers
    r = await client.request(method, path.format(image=image["id"]), json=body, headers=headers)
    assert_refused(r, body)
    # Nothing was changed: alice and the plans and sizes are as they were.
    assert (await client.get("/api/admin/users/alice", headers=admin_headers)).status_code == 200
    plans = (await client.get("/api/admin/plans", headers=admin_headers)).json()
    assert all(NUL not in p["name"] for p in plans)


@pytest.mark.parametrize(("method", "path"), PATH_CASES)
async def test_path_and_query_parameters(
    client: AsyncTestClient,
    admin_headers: dict[str, str],
    image: dict[str, Any],
    method: str,
    path: str,
) -> None:
    headers = image["headers"] if "{image}" in path else admin_headers
    r = await client.request(method, path.format(image=image["id"]), headers=headers)
    assert_refused(r, path)


@pytest.mark.parametrize("field", ["caption", "resolution", "keep_metadata"])
@pytest.mark.parametrize("route", ["/api/images", "/upload"])
async def test_multipart_fields(
    client: AsyncTestClient, image: dict[str, Any], field: str, route: str
) -> None:
    headers = image["headers"]
    r = await client.post(
        route,
        files={"file": ("p.jpg", photo(), "image/jpeg")},
        data={field: f"a{NUL}b"},
        headers=headers,
    )
    assert_refused(r, (route, field))
    assert (await client.get("/api/images", headers=headers)).json()["total"] == 1


async def test_login_and_link_forms(client: AsyncTestClient, image: dict[str, Any]) -> None:
    page = await client.get("/login", headers={"Accept": "text/html"})
    form = BeautifulSoup(page.text, "html.parser").select_one("form[action='/login']")
    fields = {i["name"]: i.get("value", "") for i in form.select("input[name]")}
    for name in ("username", "password", "next"):
        data = {**fields, "username": "admin", "password": "admin", name: f"x{NUL}y"}
        r = await client.post("/login", data=data, headers={"Accept": "text/html"})
        assert_refused(r, name)
    r = await client.post(
        f"/images/{image['id']}/links",
        data={"seconds": "600", "rendition": f"h200{NUL}"},
        headers=image["headers"],
    )
    assert_refused(r, "rendition")


def test_only_decoded_nul_characters_count() -> None:
    assert _has_nul(b'{"caption": "a\\u0000b"}', JSON)
    assert _has_nul(b'{"tags": [{"k\\u0000": 1}]}', JSON)
    assert not _has_nul(b'{"caption": "a\\\\u0000b"}', JSON)  # a backslash, then text
    assert _has_nul(b"username=ad%00min", FORM)
    assert not _has_nul(b"password=100%2500", FORM)  # the text "100%00"
    assert not _has_nul(b"{not json", JSON)  # the handler refuses it
