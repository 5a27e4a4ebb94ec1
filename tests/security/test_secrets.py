"""Secrets stay secret: passwords never reach the logs, API tokens are stored hashed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from imageuploader.accounts.tables import ApiToken
from tests.security.helpers import web_login

PASSWORD = "Pw-that-must-never-be-logged-7431"
WRONG = "Wrong-pw-also-never-logged-9921"


def _everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    # Formatted messages plus raw args and exception text: a password could hide in any.
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        parts.append(repr(record.__dict__))
    return "\n".join(parts)


async def test_passwords_are_never_logged(
    client: AsyncTestClient, admin_headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    r = await client.post(
        "/api/admin/users",
        json={"username": "carol", "password": PASSWORD, "plan": "Basic"},
        headers=admin_headers,
    )
    assert r.status_code == 201
    r = await client.patch(
        "/api/admin/users/carol", json={"password": PASSWORD + "2"}, headers=admin_headers
    )
    assert r.status_code == 200
    ok = await client.post(
        "/api/auth/token", json={"username": "carol", "password": PASSWORD + "2"}
    )
    assert ok.status_code == 200
    bad = await client.post("/api/auth/token", json={"username": "carol", "password": WRONG})
    assert bad.status_code == 401
    assert (await web_login(client, "carol", PASSWORD + "2")).status_code == 303
    assert (await web_login(client, "carol", WRONG)).status_code == 400
    # A malformed body must not echo the password into an error log either.
    r = await client.post("/api/auth/token", json={"username": 5, "password": WRONG})
    assert r.status_code == 400
    assert WRONG not in r.text
    logged = _everything_logged(caplog)
    assert caplog.records, "nothing was captured: the check would be vacuous"
    assert PASSWORD not in logged
    assert WRONG not in logged


async def test_api_tokens_are_stored_hashed(
    client: AsyncTestClient, make_user: Callable[..., Any]
) -> None:
    headers = await make_user("dave")
    raw = headers["Authorization"].removeprefix("Bearer ")
    assert len(raw) >= 32
    rows = await ApiToken.select()
    assert rows
    dump = repr(rows)
    assert raw not in dump
    # Not even a recognisable piece of it (e.g. a stored prefix).
    assert raw[:16] not in dump
    assert (await client.get("/api/me", headers=headers)).status_code == 200
