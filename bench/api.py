"""The HTTP calls the benchmark makes, through the app's public JSON API."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

ADMIN = ("admin", "admin")  # the embedded default's seeded administrator
PASSWORD = "bench-password-2026"  # noqa: S105 - a throwaway user in a throwaway database
POLL_SECONDS = 0.025


class Api:
    """A bearer-token client for one user."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(base_url=base_url, headers=headers, timeout=120)

    @classmethod
    def login(cls, base_url: str, username: str, password: str) -> Api:
        answer = httpx.post(
            f"{base_url}/api/auth/token",
            json={"username": username, "password": password},
            timeout=60,
        )
        answer.raise_for_status()
        return cls(base_url, answer.json()["access_token"])

    def create_user(self, username: str, plan: str) -> None:
        answer = self.client.post(
            "/api/admin/users", json={"username": username, "password": PASSWORD, "plan": plan}
        )
        answer.raise_for_status()

    def upload(self, data: bytes, caption: str = "") -> dict[str, Any]:
        answer = self.client.post(
            "/api/images",
            files={"file": ("photo.jpg", data, "image/jpeg")},
            data={"caption": caption},
        )
        answer.raise_for_status()
        image: dict[str, Any] = answer.json()
        return image

    def image(self, image_id: str) -> dict[str, Any]:
        answer = self.client.get(f"/api/images/{image_id}")
        answer.raise_for_status()
        image: dict[str, Any] = answer.json()
        return image

    def wait_ready(
        self, image_id: str, timeout: float = 120, poll: float = POLL_SECONDS
    ) -> dict[str, Any]:
        """Poll until every rendition is ready; raise if one failed or time runs out."""

        def done(image: dict[str, Any]) -> bool:
            statuses = {r["status"] for r in image["renditions"]}
            if "failed" in statuses:
                raise RuntimeError(f"a rendition failed: {image['renditions']}")
            return statuses == {"ready"}

        return self._poll(image_id, done, "renditions", timeout, poll)

    def wait_formats(
        self, image_id: str, timeout: float = 300, poll: float = POLL_SECONDS
    ) -> dict[str, Any]:
        """Poll until no WebP or AVIF variant of the image is still being made."""

        def done(image: dict[str, Any]) -> bool:
            return all(f["status"] != "pending" for r in image["renditions"] for f in r["formats"])

        return self._poll(image_id, done, "formats", timeout, poll)

    def _poll(
        self,
        image_id: str,
        done: Callable[[dict[str, Any]], bool],
        what: str,
        timeout: float,
        poll: float,
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            image = self.image(image_id)
            if done(image):
                return image
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} still pending: {image['renditions']}")
            time.sleep(poll)

    def close(self) -> None:
        self.client.close()


def user_api(base_url: str, username: str, plan: str) -> Api:
    """Create `username` on `plan` through the admin API and log in as them."""
    admin = Api.login(base_url, *ADMIN)
    try:
        admin.create_user(username, plan)
    finally:
        admin.close()
    return Api.login(base_url, username, PASSWORD)
