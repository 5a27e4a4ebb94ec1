"""Regressions for 500s the API fuzzer found: integers too large for the database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar.testing import AsyncTestClient


async def test_revoking_a_token_id_beyond_bigint_is_404(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    # Found by schemathesis: DELETE /api/auth/tokens/16468257837499547648000 was a 500.
    headers = await make_user("grace")
    for token_id in (16468257837499547648000, 2**63, 0):
        r = await client.delete(f"/api/auth/tokens/{token_id}", headers=headers)
        assert r.status_code == 404, r.text
        assert r.json()["detail"] == f"No token with id {token_id}."
    assert (await client.get("/api/me", headers=headers)).status_code == 200


async def test_a_page_number_that_would_overflow_the_offset_is_422(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    headers = await make_user("heidi")
    for page in (2**62, 10**20):
        r = await client.get("/api/images", params={"page": page}, headers=headers)
        assert r.status_code in (400, 422), r.text
        assert "page" in r.json()["detail"]
    r = await client.get("/api/images", params={"page": 10**9}, headers=headers)
    assert r.status_code == 200 and r.json()["items"] == []


async def test_revoking_a_token_id_beyond_a_32_bit_serial_is_404(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    # Found by schemathesis on PostgreSQL, where ids are SERIAL (32-bit):
    # DELETE /api/auth/tokens/472034010539 was a 500 there and a 404 on SQLite.
    headers = await make_user("ivan")
    for token_id in (472034010539, 2**31, 2**63 - 1):
        r = await client.delete(f"/api/auth/tokens/{token_id}", headers=headers)
        assert r.status_code == 404, r.text
    assert (await client.get("/api/me", headers=headers)).status_code == 200


async def test_webhook_ids_beyond_the_column_are_404(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    # Found by schemathesis: /api/webhooks/36993511640939104 (PostgreSQL, SERIAL) and
    # /api/webhooks/86608744780986941440/deliveries (both databases) were 500s.
    headers = await make_user("judy")
    for webhook_id in (36993511640939104, 86608744780986941440, 2**31, 0):
        r = await client.delete(f"/api/webhooks/{webhook_id}", headers=headers)
        assert r.status_code == 404, r.text
        r = await client.get(f"/api/webhooks/{webhook_id}/deliveries", headers=headers)
        assert r.status_code == 404, r.text
