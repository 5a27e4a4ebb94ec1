"""Admin API: the guard on every route, and the rules for users, plans and sizes."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from tests.conftest import bearer

ADMIN_ROUTES = [
    ("GET", "/api/admin/users", None),
    ("POST", "/api/admin/users", {"username": "zed", "password": "zed-pass", "plan": "Basic"}),
    ("GET", "/api/admin/users/admin", None),
    ("PATCH", "/api/admin/users/admin", {"plan": "Studio"}),
    ("DELETE", "/api/admin/users/alice", None),
    ("GET", "/api/admin/plans", None),
    ("POST", "/api/admin/plans", {"name": "Tiny", "sizes": ["h200"]}),
    ("GET", "/api/admin/plans/Basic", None),
    ("PATCH", "/api/admin/plans/Basic", {"original_link": True}),
    ("DELETE", "/api/admin/plans/Studio", None),
    ("GET", "/api/admin/sizes", None),
    ("POST", "/api/admin/sizes", {"slug": "w100", "width": 100}),
    ("GET", "/api/admin/sizes/h200", None),
    ("PATCH", "/api/admin/sizes/h200", {"height": 210}),
    ("DELETE", "/api/admin/sizes/low", None),
]


@pytest.mark.parametrize(("role", "allowed"), [("anonymous", 401), ("user", 403), ("admin", 0)])
@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
async def test_admin_guard(
    client: AsyncTestClient, make_user, admin_headers, role, allowed, method, path, body
) -> None:
    alice = await make_user("alice")
    headers = {"anonymous": {}, "user": alice, "admin": admin_headers}[role]
    r = await client.request(method, path, json=body, headers=headers)
    if allowed:
        assert r.status_code == allowed, r.text
        assert r.json()["status_code"] == allowed
    else:
        assert r.status_code in (200, 201, 204, 409), r.text


async def test_plan_crud_and_rules(client: AsyncTestClient, admin_headers) -> None:
    h = admin_headers
    r = await client.post(
        "/api/admin/plans",
        json={"name": "Tiny", "sizes": ["low", "h200"], "expiring_links": True},
        headers=h,
    )
    assert r.status_code == 201
    assert r.json() == {
        "name": "Tiny",
        "sizes": ["low", "h200"],
        "primary_size": "low",
        "max_images": None,
        "max_bytes": None,
        "max_upload_bytes": None,
        "original_link": False,
        "expiring_links": True,
    }
    dup = await client.post("/api/admin/plans", json={"name": "Tiny", "sizes": ["low"]}, headers=h)
    assert dup.status_code == 409
    assert "already exists" in dup.json()["detail"]
    r = await client.patch(
        "/api/admin/plans/Tiny",
        json={"sizes": ["h200", "h400"], "primary_size": "h400"},
        headers=h,
    )
    assert r.status_code == 200
    assert r.json()["sizes"] == ["h200", "h400"] and r.json()["primary_size"] == "h400"
    rename = await client.patch("/api/admin/plans/Tiny", json={"name": "Basic"}, headers=h)
    assert rename.status_code == 409
    assert (await client.delete("/api/admin/plans/Tiny", headers=h)).status_code == 204
    assert (await client.get("/api/admin/plans/Tiny", headers=h)).status_code == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"name": "X", "sizes": []}, 422),
        ({"name": "X", "sizes": ["nope"]}, 422),
        ({"name": "X", "sizes": ["h200"], "primary_size": "h400"}, 422),
        ({"name": "X", "sizes": ["h200", "h200"]}, 422),
        ({"name": "", "sizes": ["h200"]}, 400),
        ({"name": "X", "sizes": "h200"}, 400),
        ({"name": "X", "sizes": ["h200"], "colour": "red"}, 400),
    ],
)
async def test_bad_plans_are_refused(client: AsyncTestClient, admin_headers, body, status) -> None:
    r = await client.post("/api/admin/plans", json=body, headers=admin_headers)
    assert r.status_code == status, r.text
    assert r.json()["detail"]
    plans = (await client.get("/api/admin/plans", headers=admin_headers)).json()
    assert "X" not in [p["name"] for p in plans]


async def test_plan_held_by_users_cannot_be_deleted(client: AsyncTestClient, admin_headers) -> None:
    r = await client.delete("/api/admin/plans/Enterprise", headers=admin_headers)
    assert r.status_code == 409
    assert "held by 1 user" in r.json()["detail"]
    assert (
        await client.get("/api/admin/plans/Enterprise", headers=admin_headers)
    ).status_code == 200


async def test_size_crud_and_rules(client: AsyncTestClient, admin_headers) -> None:
    h = admin_headers
    r = await client.post(
        "/api/admin/sizes",
        json={"slug": "sq300", "width": 300, "height": 300, "fit": "cover"},
        headers=h,
    )
    assert r.status_code == 201
    assert r.json() == {"slug": "sq300", "width": 300, "height": 300, "fit": "cover"}
    assert (
        await client.post("/api/admin/sizes", json={"slug": "sq300", "width": 1}, headers=h)
    ).status_code == 409
    r = await client.patch("/api/admin/sizes/sq300", json={"width": None}, headers=h)
    assert r.json()["width"] is None and r.json()["height"] == 300
    r = await client.patch("/api/admin/sizes/sq300", json={"height": None}, headers=h)
    assert r.status_code == 422
    in_use = await client.delete("/api/admin/sizes/h200", headers=h)
    assert in_use.status_code == 409
    assert "Basic" in in_use.json()["detail"]
    assert (await client.delete("/api/admin/sizes/sq300", headers=h)).status_code == 204
    assert (await client.get("/api/admin/sizes/sq300", headers=h)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"slug": "no box"},
        {"slug": "Bad Slug", "width": 10},
        {"slug": "original", "width": 10},
        {"slug": "w", "width": 0},
        {"slug": "w", "width": 10, "fit": "stretch"},
        {"slug": "w"},
    ],
)
async def test_bad_sizes_are_refused(client: AsyncTestClient, admin_headers, body) -> None:
    r = await client.post("/api/admin/sizes", json=body, headers=admin_headers)
    assert r.status_code in (400, 422), r.text
    assert r.json()["detail"]
    sizes = (await client.get("/api/admin/sizes", headers=admin_headers)).json()
    assert len(sizes) == 6


async def test_user_lifecycle(client: AsyncTestClient, admin_headers) -> None:
    h = admin_headers
    r = await client.post(
        "/api/admin/users",
        json={"username": "carol", "password": "carol-pass", "plan": "Premium"},
        headers=h,
    )
    assert r.status_code == 201
    assert r.json()["plan"]["name"] == "Premium" and r.json()["is_admin"] is False
    dup = await client.post(
        "/api/admin/users", json={"username": "carol", "password": "other-pass"}, headers=h
    )
    assert dup.status_code == 409
    carol = await bearer(client, "carol", "carol-pass")
    r = await client.patch("/api/admin/users/carol", json={"plan": "Studio"}, headers=h)
    assert r.json()["plan"]["name"] == "Studio"
    assert (await client.get("/api/me", headers=carol)).json()["plan"]["name"] == "Studio"
    assert (await client.delete("/api/admin/users/carol", headers=h)).status_code == 204
    assert (await client.get("/api/me", headers=carol)).status_code == 401
    r = await client.post("/api/auth/token", json={"username": "carol", "password": "carol-pass"})
    assert r.status_code == 401
    listed = {u["username"]: u for u in (await client.get("/api/admin/users", headers=h)).json()}
    assert listed["carol"]["active"] is False


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"username": "dave", "password": "dave-pass", "plan": "Gold"}, 422),
        ({"username": "dave", "password": "short"}, 422),
        ({"username": "da ve", "password": "dave-pass"}, 400),
        ({"username": "dave"}, 400),
    ],
)
async def test_bad_users_are_refused(client: AsyncTestClient, admin_headers, body, status) -> None:
    r = await client.post("/api/admin/users", json=body, headers=admin_headers)
    assert r.status_code == status, r.text
    users = (await client.get("/api/admin/users", headers=admin_headers)).json()
    assert [u["username"] for u in users] == ["admin"]


async def test_admin_cannot_lock_themselves_out(client: AsyncTestClient, admin_headers) -> None:
    r = await client.delete("/api/admin/users/admin", headers=admin_headers)
    assert r.status_code == 409
    r = await client.patch(
        "/api/admin/users/admin", json={"is_admin": False}, headers=admin_headers
    )
    assert r.status_code == 409
    assert (await client.get("/api/me", headers=admin_headers)).json()["is_admin"] is True
