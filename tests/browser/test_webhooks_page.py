"""The webhooks page in headless chromium: add one, watch a retried delivery, delete it,
and the screenshot kept in docs/screenshots/."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PASSWORD, ROOT, Server, screenshot
from tests.webhooks.conftest import Receiver, photo, serve_receiver

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
RECEIVED_WITHIN_SECONDS = 60


@pytest.fixture(scope="module", autouse=True)
def _private_receivers_allowed() -> Iterator[None]:
    # Autouse, so set before the module's server starts: the receiver is on 127.0.0.1.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WEBHOOK_ALLOW_PRIVATE", "true")
        yield


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as state:
        yield state


def _wait(receiver: Receiver, count: int) -> None:
    deadline = time.monotonic() + RECEIVED_WITHIN_SECONDS
    while len(receiver.requests) < count:
        assert time.monotonic() < deadline, f"{len(receiver.requests)} requests, not {count}"
        time.sleep(0.1)


def test_add_watch_a_retry_and_delete(user_page, server: Server, receiver: Receiver) -> None:
    page = user_page("hooked", "Premium", DESKTOP)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
    page.get_by_label("URL").fill(receiver.url)
    page.get_by_label("image.failed").uncheck()
    page.get_by_role("button", name="Add webhook").click()
    expect(page.locator("[data-secret]")).to_contain_text("whsec_")
    expect(page.locator("section.webhook .meta")).to_contain_text("image.ready, image.deleted")

    receiver.answers = [500]
    token = httpx.post(
        f"{server.url}/api/auth/token", json={"username": "hooked", "password": PASSWORD}
    ).json()["access_token"]
    r = httpx.post(
        f"{server.url}/api/images",
        files={"file": ("photo.jpg", photo(), "image/jpeg")},
        data={"caption": "Harbour at dawn"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 201, r.text
    _wait(receiver, 2)  # a 500, then the retry
    page.goto("/webhooks")
    rows = page.locator("tr.delivery")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_attribute("data-status", "succeeded")
    expect(rows.nth(1)).to_have_attribute("data-status", "failed")
    expect(rows.nth(1)).to_contain_text("500")
    path = screenshot(page, "webhooks-desktop")
    if not os.environ.get("CI"):
        # The copy the docs show; CI leaves the committed one alone.
        DOCS_SCREENSHOTS.mkdir(exist_ok=True)
        shutil.copyfile(path, DOCS_SCREENSHOTS / "webhooks.png")

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page.locator(".notice")).to_have_text("Webhook deleted.")
    expect(page.locator("section.webhook")).to_have_count(0)
