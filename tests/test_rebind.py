"""One built app pointed at fresh services: what a reused app serves after `rebind`."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar.testing import AsyncTestClient

from imageuploader.app import create_app, rebind
from imageuploader.container import build_services
from imageuploader.settings import Settings
from tests.conftest import _reset_database


async def test_providers_state_and_stores_follow_the_new_services(
    make_settings: Callable[..., Settings],
) -> None:
    settings = make_settings()
    first = build_services(settings)
    app = create_app(settings, services=first)
    sessions = app.stores.get("sessions")
    await sessions.set("kept-before", b"x")
    assert await sessions.get("kept-before") == b"x"

    second = build_services(settings)
    rebind(app, second)

    assert app.dependencies["images"].dependency() is second.images
    assert app.dependencies["user_service"].dependency() is second.users
    assert app.state.services is second
    assert app.state.settings is second.settings
    # Fresh stores: nothing from the earlier services' sessions is found.
    assert await app.stores.get("sessions").get("kept-before") is None


async def test_a_rebound_app_serves(
    database_url: str, make_settings: Callable[..., Settings]
) -> None:
    settings = make_settings(DATABASE_URL=database_url)
    app = create_app(settings)
    for _ in range(2):
        await _reset_database(database_url)
        rebind(app, build_services(settings))
        async with AsyncTestClient(app=app) as client:
            r = await client.post(
                "/api/auth/token", json={"username": "admin", "password": "admin"}
            )
            assert r.status_code == 200, r.text
            token = r.json()["access_token"]
            # /api/me with a bearer token is answered by the fast reads, which read the slot.
            me = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200, me.text
            assert me.json()["username"] == "admin"


def test_other_settings_are_refused(make_settings: Callable[..., Settings]) -> None:
    app = create_app(make_settings())
    other = build_services(make_settings(MAX_UPLOAD_BYTES="3000000"))
    with pytest.raises(ValueError, match="own settings"):
        rebind(app, other)
