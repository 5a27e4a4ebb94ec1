"""In headless chromium: the gallery's usage meter moves with uploads and deletes, the
admin users page shows usage; screenshots of both (copied to docs/screenshots/)."""

from __future__ import annotations

from pathlib import Path

import pytest
import pyvips
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PASSWORD, PHONE, Server, log_in, screenshot
from tests.browser.test_browser import upload

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


def photos(directory: Path, count: int) -> list[Path]:
    files = []
    for i in range(count):
        path = directory / f"u{i}.jpg"
        w, h = 1200 - 100 * i, 800
        xy = pyvips.Image.xyz(w, h)
        noise = pyvips.Image.gaussnoise(w, h, sigma=30)
        (xy[0] * (255.0 / w)).bandjoin(
            [xy[1] * (255.0 / h), (xy[0] + xy[1]) * (127.0 / (w + h)) + 50 * i]
        ).add(noise - 128).cast("uchar").copy(interpretation="srgb").jpegsave(str(path), Q=92)
        files.append(path)
    return files


@pytest.mark.parametrize(("label", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_usage_meter_and_admin_usage(
    new_context, server: Server, tmp_path: Path, label: str, viewport
) -> None:
    plan = f"Meter-{label}"
    r = server.admin.post(
        "/api/admin/plans",
        json={"name": plan, "sizes": ["h200", "h400"], "max_images": 4, "max_bytes": 8 * 2**20},
    )
    assert r.status_code == 201, r.text
    username = f"meter-{label}"
    server.create_user(username, plan)
    page = new_context(viewport).new_page()
    log_in(page, username, PASSWORD)
    images = page.locator(".usage [data-gauge=images]")
    expect(images.locator(".gauge-text")).to_have_text("0 images of 4")

    upload(page, photos(tmp_path, 3), caption="Usage")
    expect(page.locator("#upload-results .renditions[data-state=ready]")).to_have_count(3)
    page.goto("/")
    expect(page.locator("li.tile .status-ready")).to_have_count(3)
    expect(images.locator(".gauge-text")).to_have_text("3 images of 4")
    expect(images.locator("meter")).to_have_attribute("value", "3")
    for img in page.locator("main img").all():
        img.evaluate("(i) => i.decode()")
    assert screenshot(page, f"usage-gallery-{label}").stat().st_size > 0

    admin = new_context(viewport).new_page()
    log_in(admin, "admin", "admin")
    admin.goto("/admin/users")
    row = admin.locator(f"tr[data-username='{username}'] .user-usage")
    expect(row.locator("[data-gauge=images]")).to_have_text("3 images of 4")
    expect(row.locator("[data-gauge=bytes]")).to_contain_text("of 8.0 MB")
    assert screenshot(admin, f"admin-users-usage-{label}").stat().st_size > 0
