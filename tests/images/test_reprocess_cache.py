"""`imageuploader reprocess` beside a running embedded server (in-process cache): the
server must not keep serving the views cached before the command changed the rows."""

from __future__ import annotations

import dataclasses

import pytest

from imageuploader.settings import Settings
from tests.conftest import app_for

from .conftest import photo
from .test_cli_maintenance import command_env, run_cli

pytestmark = pytest.mark.usefixtures("settings")


@pytest.fixture
def app(settings: Settings, clock):
    # No worker threads: the renditions stay pending until the command makes them.
    return app_for(dataclasses.replace(settings, worker_threads=0), clock=clock)


async def test_reprocess_clears_the_servers_cached_views(
    client, make_user, upload, settings, storage_env
) -> None:
    headers = await make_user("cas", plan="Studio")
    image_id = (await upload(headers, photo(900, 600))).json()["id"]

    async def statuses() -> dict[str, str]:
        r = await client.get(f"/api/images/{image_id}", headers=headers)
        assert r.status_code == 200, r.text
        return {x["slug"]: x["status"] for x in r.json()["renditions"]}

    assert (await statuses())["low"] == "pending"  # now cached by the server
    code, out = await run_cli(command_env(settings, storage_env), "reprocess")
    assert code == 0, out
    assert set((await statuses()).values()) == {"ready"}
