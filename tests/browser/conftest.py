"""A real uvicorn process and Debian's headless chromium driven by Playwright.

The app runs the embedded default (SQLite, local storage, in-process workers)
in a temporary DATA_DIR on a free port. Playwright never downloads a browser:
it launches /usr/bin/chromium (installed by .ci/run).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.conftest import IN_CI

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"
# Liveness bounds, not speed targets: a server or job that never answers fails here.
START_WITHIN_SECONDS = 60
DONE_WITHIN_MS = 60_000
PASSWORD = "browser-pass"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


expect.set_options(timeout=DONE_WITHIN_MS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    url: str
    data_dir: Path
    admin: httpx.Client  # bearer-authenticated API client for setting up users

    def create_user(self, username: str, plan: str) -> None:
        r = self.admin.post(
            "/api/admin/users", json={"username": username, "password": PASSWORD, "plan": plan}
        )
        assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("browser-data")
    port = _free_port()
    env = {
        **os.environ,
        "DATA_DIR": str(data_dir),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    for name in ("DATABASE_URL", "BROKER_URL", "STORAGE_URL", "CACHE_URL", "APP_ENV"):
        env.pop(name, None)  # the embedded default, whatever the shell says
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "imageuploader", "serve"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_WITHIN_SECONDS
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited: {(data_dir / 'server.log').read_text()}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not start: {(data_dir / 'server.log').read_text()}")
            time.sleep(0.2)
        token = httpx.post(
            f"{url}/api/auth/token", json={"username": "admin", "password": "admin"}
        ).json()["access_token"]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as admin:
            yield Server(url=url, data_dir=data_dir, admin=admin)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def new_context(browser: Browser, server: Server) -> Iterator:
    """Fresh contexts (own cookies) on the test server; closed after the test."""
    made: list[BrowserContext] = []

    def make(viewport: dict[str, int] = DESKTOP) -> BrowserContext:
        context = browser.new_context(base_url=server.url, viewport=viewport)
        context.set_default_timeout(DONE_WITHIN_MS)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


@pytest.fixture
def user_page(new_context, server: Server):
    """user_page("alice", "Studio") -> a logged-in page of a new user."""

    def make(username: str, plan: str, viewport: dict[str, int] = DESKTOP) -> Page:
        server.create_user(username, plan)
        page = new_context(viewport).new_page()
        log_in(page, username, PASSWORD)
        return page

    return make


def screenshot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
