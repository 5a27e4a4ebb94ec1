"""The webhooks page: linked from the nav, add (secret shown once), recent deliveries,
delete; CSRF like every other form; each user sees only their own."""

from __future__ import annotations

import asyncio

import pytest

from tests.pages.conftest import PASSWORD, Browser, log_in, soup

from .conftest import Receiver, Upload


@pytest.fixture
async def alice(client, make_user) -> tuple[Browser, dict[str, str]]:
    headers = await make_user("alice", "Basic")
    return await log_in(client, "alice", PASSWORD), headers


async def test_linked_from_the_nav_with_a_form_carrying_the_token(alice) -> None:
    browser, _ = alice
    page = await browser.page("/")
    assert "/webhooks" in [a["href"] for a in page.select("header nav a")]
    page = await browser.page("/webhooks")
    form = page.select_one("section.webhook-new form")
    assert form["method"] == "post" and form["action"] == "/webhooks"
    assert form.select_one("input[name=_csrf_token]")["value"]
    assert [i["value"] for i in form.select("input[name=events]")] == [
        "image.ready",
        "image.failed",
        "image.deleted",
    ]
    assert page.select("section.webhook") == []


async def test_add_shows_the_secret_once_then_deliveries_then_delete(
    alice, receiver: Receiver, upload: Upload
) -> None:
    browser, headers = alice
    r = await browser.form("/webhooks", {"url": receiver.url, "events": ["image.ready"]})
    assert r.status_code == 200, r.text
    fragment = soup(r)
    secret = fragment.select_one("[data-secret]").get_text()
    assert secret.startswith("whsec_")
    [hook] = fragment.select("section.webhook")
    assert hook.select_one(".webhook-url").get_text() == receiver.url
    assert "image.ready" in hook.select_one(".meta").get_text()
    assert "image.deleted" not in hook.select_one(".meta").get_text()

    await upload(headers)
    await receiver.wait_for(1)
    page = await browser.page("/webhooks")
    assert page.select("[data-secret]") == []  # shown once
    rows = page.select("section.webhook tr.delivery")
    for _ in range(100):  # the attempt row is written just after the receiver answers
        if rows:
            break
        await asyncio.sleep(0.05)
        page = await browser.page("/webhooks")
        rows = page.select("section.webhook tr.delivery")
    [row] = rows
    cells = [td.get_text(strip=True) for td in row.select("td")]
    assert cells[1:] == ["image.ready", "1", "succeeded", "204"]

    hook_id = page.select_one("section.webhook")["data-webhook"]
    r = await browser.client.post(
        "/webhooks/delete", data={"id": hook_id}, headers={"Accept": "text/html"}
    )
    assert r.status_code == 403  # no CSRF token
    assert len((await browser.page("/webhooks")).select("section.webhook")) == 1
    r = await browser.form("/webhooks/delete", {"id": hook_id})
    assert r.status_code == 200, r.text
    assert soup(r).select("section.webhook") == []
    assert soup(r).select_one(".notice").get_text() == "Webhook deleted."


async def test_plain_form_post_renders_the_page_with_the_secret(alice, receiver) -> None:
    browser, _ = alice
    r = await browser.form(
        "/webhooks", {"url": receiver.url, "events": ["image.deleted"]}, htmx=False
    )
    assert r.status_code == 200, r.text
    page = soup(r)
    assert page.select_one("header nav")  # the whole page, not a fragment
    assert page.select_one("[data-secret]").get_text().startswith("whsec_")


async def test_a_bad_url_is_shown_under_the_form_and_nothing_stored(alice) -> None:
    browser, _ = alice
    r = await browser.form("/webhooks", {"url": "ftp://example.test/", "events": ["image.ready"]})
    assert r.status_code == 422
    assert "http:// or https://" in soup(r).get_text()
    r = await browser.form("/webhooks", {"url": "http://127.0.0.1/"})
    assert r.status_code == 422
    assert "choose at least one" in soup(r).get_text()
    assert (await browser.page("/webhooks")).select("section.webhook") == []


async def test_another_users_webhook_is_neither_shown_nor_deleted(
    client, make_user, alice, receiver: Receiver
) -> None:
    _, headers = alice
    r = await client.post(
        "/api/webhooks", json={"url": receiver.url, "events": ["image.ready"]}, headers=headers
    )
    hook_id = r.json()["id"]
    await make_user("bob")
    bob = await log_in(client, "bob", PASSWORD)
    assert (await bob.page("/webhooks")).select("section.webhook") == []
    r = await bob.form("/webhooks/delete", {"id": str(hook_id)})
    assert r.status_code == 404
    assert len((await client.get("/api/webhooks", headers=headers)).json()) == 1
