"""Bearer tokens: issue, use, list, revoke; stored hashed; /api/me."""

from __future__ import annotations

import hashlib

from litestar.testing import AsyncTestClient

from imageuploader.accounts.tables import ApiToken
from tests.conftest import bearer


async def test_admin_gets_a_token_and_me_answers(client: AsyncTestClient) -> None:
    r = await client.post("/api/auth/token", json={"username": "admin", "password": "admin"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    me = await client.get("/api/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "admin"
    assert me.json()["is_admin"] is True
    assert me.json()["plan"]["name"] == "Enterprise"


async def test_token_is_stored_hashed(client: AsyncTestClient) -> None:
    r = await client.post("/api/auth/token", json={"username": "admin", "password": "admin"})
    raw = r.json()["access_token"]
    rows = await ApiToken.select(ApiToken.token_hash)
    assert [row["token_hash"] for row in rows] == [hashlib.sha256(raw.encode()).hexdigest()]
    assert raw not in str(rows)


async def test_wrong_password_and_unknown_user_are_401(client: AsyncTestClient) -> None:
    for body in (
        {"username": "admin", "password": "nope"},
        {"username": "ghost", "password": "admin"},
    ):
        r = await client.post("/api/auth/token", json=body)
        assert r.status_code == 401
        assert r.json()["detail"] == "Invalid username or password."


async def test_malformed_token_requests_are_400(client: AsyncTestClient) -> None:
    r = await client.post("/api/auth/token", json={"username": "admin"})
    assert r.status_code == 400
    assert "detail" in r.json()
    r = await client.post("/api/auth/token", content=b"not json")
    assert r.status_code == 400


async def test_anonymous_and_bad_headers_are_401(client: AsyncTestClient) -> None:
    assert (await client.get("/api/me")).status_code == 401
    for value in ("Basic abc", "Bearer", "Bearer not-a-real-token"):
        r = await client.get("/api/me", headers={"Authorization": value})
        assert r.status_code == 401, value


async def test_revoke_current_token(client: AsyncTestClient, admin_headers: dict) -> None:
    assert (await client.get("/api/me", headers=admin_headers)).status_code == 200
    assert (await client.delete("/api/auth/token", headers=admin_headers)).status_code == 204
    assert (await client.get("/api/me", headers=admin_headers)).status_code == 401


async def test_list_and_revoke_by_id(client: AsyncTestClient, make_user) -> None:
    alice = await make_user("alice")
    second = await bearer(client, "alice", "secret-pass")
    tokens = (await client.get("/api/auth/tokens", headers=alice)).json()
    assert len(tokens) == 2 and not any(t["revoked"] for t in tokens)
    r = await client.delete(f"/api/auth/tokens/{tokens[1]['id']}", headers=alice)
    assert r.status_code == 204
    assert (await client.get("/api/me", headers=second)).status_code == 401
    assert (await client.get("/api/me", headers=alice)).status_code == 200


async def test_cannot_revoke_someone_elses_token(client: AsyncTestClient, make_user) -> None:
    alice = await make_user("alice")
    bob = await make_user("bob")
    bobs = (await client.get("/api/auth/tokens", headers=bob)).json()
    r = await client.delete(f"/api/auth/tokens/{bobs[0]['id']}", headers=alice)
    assert r.status_code == 404
    assert (await client.get("/api/me", headers=bob)).status_code == 200
