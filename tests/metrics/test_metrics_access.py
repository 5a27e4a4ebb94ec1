"""Who may scrape /metrics: a bearer METRICS_TOKEN when set; closed in production without one."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from litestar.testing import AsyncTestClient

from imageuploader.app import create_app
from imageuploader.settings import ConfigError, Settings

TOKEN = "m" * 40
PRODUCTION = {"APP_ENV": "production", "SECRET_KEY": "s" * 40, "ADMIN_PASSWORD": "a-strong-one"}


async def scrape(settings: Settings, headers: dict[str, str] | None = None) -> int:
    async with AsyncTestClient(app=create_app(settings)) as client:
        r = await client.get("/metrics", headers=headers or {})
        if r.status_code == 200:
            assert "imageuploader_worker_metrics_up" in r.text
        return r.status_code


async def test_production_without_a_token_keeps_metrics_closed(
    settings: Settings, make_settings: Callable[..., Settings]
) -> None:
    production = make_settings(DATABASE_URL=settings.database_url, **PRODUCTION)
    assert await scrape(production) == 404
    assert await scrape(production, {"Authorization": "Bearer anything"}) == 404


@pytest.mark.parametrize("mode", [{}, PRODUCTION], ids=["embedded", "production"])
async def test_a_metrics_token_is_required_when_set(
    settings: Settings, make_settings: Callable[..., Settings], mode: dict[str, str]
) -> None:
    guarded = make_settings(DATABASE_URL=settings.database_url, METRICS_TOKEN=TOKEN, **mode)
    assert await scrape(guarded) == 401
    assert await scrape(guarded, {"Authorization": "Bearer " + "x" * 40}) == 401
    assert await scrape(guarded, {"Authorization": TOKEN}) == 401
    assert await scrape(guarded, {"Authorization": f"Bearer {TOKEN}"}) == 200


async def test_the_embedded_default_stays_open(settings: Settings) -> None:
    assert await scrape(settings) == 200


def test_a_short_metrics_token_is_refused() -> None:
    with pytest.raises(ConfigError, match="METRICS_TOKEN"):
        Settings.from_env({"METRICS_TOKEN": "short"})
