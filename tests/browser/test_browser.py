"""End-to-end in headless chromium: log in, upload, share, administer, refusals, screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import pyvips
from playwright.sync_api import Page, expect

from imageuploader.imaging.metadata import strip_jpeg
from tests.browser.conftest import DESKTOP, PASSWORD, PHONE, Server, log_in, screenshot

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

# Record every value the progress bars take; runs through DevTools, not the page's CSP.
RECORD_PROGRESS = """() => {
  window.progressSeen = [];
  new MutationObserver((changes) => {
    for (const c of changes) {
      if (c.target.tagName !== "PROGRESS") continue;
      window.progressSeen.push(Number(c.target.getAttribute("value")));
    }
  }).observe(document.body, {subtree: true, attributes: true, attributeFilter: ["value"]});
}"""


def camera_photo(path: Path, width: int = 2400, height: int = 1800) -> Path:
    """A noisy photo of a few megabytes, so the upload takes several progress events."""
    xy = pyvips.Image.xyz(width, height)
    base = (xy[0] * (255.0 / width)).bandjoin([xy[1] * (255.0 / height), xy[0] * 0 + 120])
    noise = pyvips.Image.gaussnoise(width, height, sigma=40).bandjoin(
        [
            pyvips.Image.gaussnoise(width, height, sigma=40),
            pyvips.Image.gaussnoise(width, height, sigma=40),
        ]
    )
    image = (base + noise - 128).cast("uchar").copy(interpretation="srgb")
    image.jpegsave(str(path), Q=95)
    return path


def upload(page: Page, files: list[Path], caption: str = "") -> None:
    page.goto("/upload")
    page.get_by_label("Drop photos here or choose them").set_input_files([str(f) for f in files])
    if caption:
        page.get_by_label("Caption").fill(caption)
    page.get_by_role("button", name="Upload", exact=True).click()


def test_login_shows_the_error_in_the_form_then_logs_in(new_context, server: Server) -> None:
    server.create_user("lena", "Basic")
    page = new_context().new_page()
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    page.get_by_label("Username").fill("lena")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid username or password.")
    expect(page.get_by_label("Username")).to_have_value("lena")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your images")).to_be_visible()
    expect(page.locator(".who")).to_have_text("lena · Basic")
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))


def test_upload_shows_progress_then_every_rendition(user_page, tmp_path: Path) -> None:
    page = user_page("uma", "Studio")
    photo = camera_photo(tmp_path / "harbour.jpg")
    page.goto("/upload")
    page.get_by_label("Drop photos here or choose them").set_input_files(str(photo))
    # The preview shows before anything is sent.
    preview = page.locator("img.queue-preview")
    expect(preview).to_have_attribute("src", re.compile(r"^blob:"))
    assert page.evaluate("(img) => img.complete && img.naturalWidth", preview.element_handle())
    page.get_by_label("Caption").fill("Harbour at dawn")
    # Slow the upload link so the bar has time to move (DevTools network throttling).
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": 1_500_000},
    )
    page.evaluate(RECORD_PROGRESS)
    page.get_by_role("button", name="Upload", exact=True).click()

    card = page.locator("#upload-results li.result")
    expect(card).to_have_count(1)
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    seen = page.evaluate("window.progressSeen")
    assert seen[-1] == 100
    assert any(0 < v < 100 for v in seen), seen  # it moved, not just jumped to the end
    assert seen == sorted(seen)
    expect(card.get_by_role("heading")).to_have_text("Harbour at dawn")
    # The primary is in the card at once; the others arrive as the workers finish.
    for slug in ("very-high", "high", "medium", "low"):
        rendition = card.locator(f"li.rendition[data-slug={slug}]")
        expect(rendition).to_have_attribute("data-status", "ready")
        image = rendition.locator("img")
        expect(image).to_be_visible()
        image.evaluate("(img) => img.decode()")
        assert image.evaluate("(img) => img.naturalWidth") > 0
    expect(card.locator(".renditions .status")).to_have_text("ready")
    expect(card.locator(".renditions")).not_to_have_attribute("hx-trigger", re.compile("."))
    # The form is ready for the next photo.
    expect(page.get_by_label("Caption")).to_have_value("")
    expect(page.locator("li.queue-item")).to_have_count(0)


def test_several_files_in_a_row_and_a_refused_one(user_page, tmp_path: Path) -> None:
    page = user_page("rita", "Premium")
    good = tmp_path / "good.jpg"
    pyvips.Image.xyz(800, 600)[0].cast("uchar").copy(interpretation="b-w").jpegsave(str(good))
    bad = tmp_path / "notes.jpg"
    bad.write_bytes(b"%PDF-1.4 this is not a photo")
    upload(page, [good, bad], caption="Trip")
    failed = page.locator("li.queue-item.failed")
    expect(failed).to_have_count(1)
    expect(failed.locator(".queue-note")).to_contain_text("not a supported image")
    expect(page.locator("[data-errors] .error")).to_contain_text("notes.jpg: ")
    # The refused file stays listed and the form keeps its values.
    expect(page.get_by_label("Caption")).to_have_value("Trip")
    expect(page.locator("#upload-results li.result")).to_have_count(1)
    # Another photo right after, on the same page.
    page.locator("li.queue-item.failed").get_by_role("button", name=re.compile("Remove")).click()
    page.get_by_label("Drop photos here or choose them").set_input_files(str(good))
    page.get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#upload-results li.result")).to_have_count(2)
    expect(page.locator("[data-errors] .error")).to_have_count(0)


def test_expiring_link_opens_in_a_fresh_context(user_page, new_context, tmp_path: Path) -> None:
    page = user_page("erin", "Enterprise")
    photo = tmp_path / "lake.jpg"
    pyvips.Image.xyz(900, 600)[1].cast("uchar").copy(interpretation="b-w").jpegsave(str(photo))
    upload(page, [photo], caption="Lake")
    page.locator("#upload-results h2 a").click()
    expect(page.get_by_role("heading", name="Lake")).to_be_visible()

    seconds = page.get_by_label("Valid for (seconds, 300 to 30000)")
    seconds.fill("120")
    page.get_by_role("button", name="Create link").click()
    # The browser refuses the value before anything is sent.
    assert seconds.evaluate("(el) => el.validity.rangeUnderflow")
    expect(page.locator("#expiring-link")).to_have_count(0)

    page.get_by_label("Which file").select_option("original")
    seconds.fill("600")
    page.get_by_role("button", name="Create link").click()
    link = page.locator("#expiring-link")
    expect(link).to_have_value(re.compile(r"/s/"))
    expect(page.locator(".expiring-link time")).to_have_text(re.compile(r"UTC$"))
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("button[data-copy=expiring-link]").click()
    expect(page.locator("button[data-copy=expiring-link]")).to_have_text("Copied")
    url = link.input_value()
    assert page.evaluate("navigator.clipboard.readText()") == url

    stranger = new_context().new_page()
    assert stranger.context.cookies() == []  # no session: the link is the only credential
    response = stranger.goto(url)
    assert response is not None and response.status == 200
    assert response.headers["content-type"] == "image/jpeg"
    # The stored original is the upload without its metadata.
    assert response.body() == strip_jpeg(photo.read_bytes())


def test_admin_moves_a_user_onto_a_new_plan(
    new_context, user_page, server: Server, tmp_path: Path
) -> None:
    owner = user_page("otto", "Basic")
    photo = tmp_path / "tower.jpg"
    pyvips.Image.xyz(1000, 1400)[0].cast("uchar").copy(interpretation="b-w").jpegsave(str(photo))
    upload(owner, [photo], caption="Tower")
    owner.locator("#upload-results h2 a").click()
    expect(owner.locator("li.rendition")).to_have_count(1)  # Basic: h200 only
    detail = owner.url

    admin = new_context().new_page()
    log_in(admin, "admin", "admin")
    admin.get_by_role("link", name="Admin").click()
    admin.get_by_role("link", name="Plans").click()
    new_plan = admin.locator("section.plan-new")
    new_plan.get_by_label("Name").fill("Gallery Pro")
    for slug in ("h200", "h400", "medium"):
        new_plan.get_by_label(slug, exact=True).check()
    new_plan.get_by_label("Primary size").select_option("h400")
    new_plan.get_by_label("Link to the original").check()
    new_plan.get_by_role("button", name="Create plan").click()
    expect(admin.get_by_role("status")).to_have_text("Plan 'Gallery Pro' created.")
    # A second plan of the same name gets the conflict under its form.
    new_plan.get_by_label("Name").fill("Gallery Pro")
    new_plan.get_by_label("h200", exact=True).check()
    new_plan.get_by_role("button", name="Create plan").click()
    expect(new_plan.locator("[data-errors]")).to_have_text(
        "A plan named 'Gallery Pro' already exists."
    )

    admin.get_by_role("link", name="Users").click()
    row = admin.locator("tr[data-username=otto]")
    row.get_by_label("Plan of otto").select_option("Gallery Pro")
    row.get_by_role("button", name="Change plan").click()
    expect(admin.get_by_role("status")).to_have_text("otto is now on plan Gallery Pro.")

    owner.goto(detail)
    for slug in ("h200", "h400", "medium"):
        expect(owner.locator(f"li.rendition[data-slug={slug}]")).to_have_attribute(
            "data-status", "ready"
        )
    expect(owner.get_by_label("Link to the original")).to_have_value(re.compile(r"/original$"))
    expect(owner.locator(".copy input[readonly]")).to_have_count(4)


@pytest.mark.parametrize(("label", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots(new_context, server: Server, tmp_path: Path, label: str, viewport) -> None:
    """Gallery, detail and admin plans, for a person to look at (see README)."""
    username = f"shot-{label}"
    server.create_user(username, "Studio")
    page = new_context(viewport).new_page()
    log_in(page, username, PASSWORD)
    files = []
    for i, (w, h) in enumerate([(1200, 800), (800, 1200), (1000, 1000)]):
        path = tmp_path / f"p{i}.jpg"
        xy = pyvips.Image.xyz(w, h)
        (xy[0] * (255.0 / w)).bandjoin(
            [xy[1] * (255.0 / h), (xy[0] + xy[1]) * (127.0 / (w + h)) + 60 * i]
        ).cast("uchar").copy(interpretation="srgb").jpegsave(str(path))
        files.append(path)
    upload(page, files, caption="Sunset over the bay")
    results = page.locator("#upload-results li.result")
    expect(results).to_have_count(3)
    expect(page.locator("#upload-results .renditions[data-state=ready]")).to_have_count(3)
    page.goto("/")
    expect(page.locator("li.tile .status-ready")).to_have_count(3)
    assert screenshot(page, f"gallery-{label}").stat().st_size > 0
    page.locator("a.tile-link").first.click()
    expect(page.locator("li.rendition[data-status=ready]")).to_have_count(4)
    page.get_by_role("button", name="Create link").click()
    expect(page.locator("#expiring-link")).to_be_visible()
    for img in page.locator("main img").all():
        img.evaluate("(i) => i.decode()")
    assert screenshot(page, f"detail-{label}").stat().st_size > 0
    admin = new_context(viewport).new_page()
    log_in(admin, "admin", "admin")
    admin.goto("/admin/plans")
    assert screenshot(admin, f"admin-plans-{label}").stat().st_size > 0
