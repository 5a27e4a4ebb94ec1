"""End to end in the production shape, on this machine.

The app runs under uvicorn as a real process (`imageuploader serve`, APP_ENV=
production), renditions are made by a real `dramatiq workers.main` process, on
PostgreSQL, with Redis as broker and cache, and S3 storage over four buckets on
SeaweedFS, which stands in for MinIO (which cannot run here) and, like it,
checks the signature of every request and presigned link.
"""

from __future__ import annotations

import json
import time

import httpx
import pyvips

from imageuploader.imaging.metadata import strip_jpeg
from tests.metrics.conftest import sample

from .conftest import Stack

# Liveness bound for the worker, not a speed target: a stuck job fails here.
DONE_WITHIN_SECONDS = 90
REQUEST_ID = "e2e-upload-0001"


def photo() -> bytes:
    xy = pyvips.Image.xyz(900, 600)
    image = (xy[0] * (255 / 900)).bandjoin([xy[1] * (255 / 600), xy[0] * 0 + 60])
    return image.cast("uchar").copy(interpretation="srgb").write_to_buffer(".jpg", Q=90)


def json_lines(text: str) -> list[dict]:
    """The JSON lines of a log (dramatiq's own parent process writes plain text)."""
    found = []
    for line in text.splitlines():
        start = line.find("{")
        if start < 0:
            continue
        try:
            found.append(json.loads(line[start:]))
        except json.JSONDecodeError:
            continue
    return found


def test_upload_renditions_links_cache_and_metrics(stack: Stack) -> None:
    with httpx.Client(base_url=stack.base_url, timeout=30) as web:
        r = web.post(
            "/api/auth/token", json={"username": "admin", "password": stack.admin_password}
        )
        assert r.status_code == 200, r.text
        admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
        r = web.post(
            "/api/admin/users",
            json={"username": "erin", "password": "erin-secret-pass", "plan": "Enterprise"},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        r = web.post("/api/auth/token", json={"username": "erin", "password": "erin-secret-pass"})
        erin = {"Authorization": f"Bearer {r.json()['access_token']}"}

        scraper = {"Authorization": f"Bearer {stack.env['METRICS_TOKEN']}"}
        assert web.get("/metrics").status_code == 401
        health = web.get("/health").json()
        assert health["checks"] == {n: "ok" for n in ("broker", "cache", "database", "storage")}
        ready = {"actor": "make_rendition", "outcome": "ready"}
        before = web.get("/metrics", headers=scraper).text
        assert sample(before, "imageuploader_jobs_total", **ready) is None

        # A cached, empty list first: the upload must invalidate it.
        assert web.get("/api/images", headers=erin).json()["total"] == 0
        original = photo()
        r = web.post(
            "/api/images",
            files={"file": ("photo.jpg", original, "image/jpeg")},
            data={"caption": "end to end"},
            headers={**erin, "X-Request-ID": REQUEST_ID},
        )
        assert r.status_code == 201, r.text
        assert r.headers["x-request-id"] == REQUEST_ID
        image = r.json()
        statuses = {x["slug"]: x["status"] for x in image["renditions"]}
        assert statuses == {"h200": "ready", "h400": "pending"}
        listed = web.get("/api/images", headers=erin).json()
        assert [i["id"] for i in listed["items"]] == [image["id"]]
        assert listed["items"][0]["renditions"][1]["status"] == "pending"

        # The worker process makes h400; the cached list must show it.
        deadline = time.monotonic() + DONE_WITHIN_SECONDS
        while True:
            item = web.get("/api/images", headers=erin).json()["items"][0]
            if item["renditions"][1]["status"] != "pending":
                break
            assert time.monotonic() < deadline, stack.worker_log.read_text()[-3000:]
            time.sleep(0.2)
        assert item["renditions"][1]["status"] == "ready", item
        detail = web.get(f"/api/images/{image['id']}", headers=erin).json()
        assert {x["status"] for x in detail["renditions"]} == {"ready"}
        # S3 media are delivered by a redirect to a presigned URL (the default).
        r = web.get(f"/media/{image['id']}/h400", headers=erin, follow_redirects=True)
        assert [h.status_code for h in r.history] == [307]
        assert str(r.url).startswith(stack.env["S3_PUBLIC_URL"])
        assert r.status_code == 200
        assert pyvips.Image.new_from_buffer(r.content, "").height == 400

        # An expiring link: a presigned S3 URL anyone can open.
        r = web.post(
            f"/api/images/{image['id']}/expiring-links",
            json={"seconds": 600, "rendition": "original"},
            headers=erin,
        )
        assert r.status_code == 201, r.text
        link = r.json()["url"]
        assert link.startswith(stack.env["S3_PUBLIC_URL"])
        opened = httpx.get(link, timeout=30)
        assert opened.status_code == 200, opened.text
        # What is delivered is the stored original: the upload without its metadata.
        assert opened.content == strip_jpeg(original)
        assert opened.headers["content-type"] == "image/jpeg"
        # The server judges the signature: one changed character and it refuses.
        signature = link.rsplit("X-Amz-Signature=", 1)[1][:64]
        changed = signature[:-1] + ("0" if signature[-1] != "0" else "1")
        refused = httpx.get(link.replace(signature, changed), timeout=30)
        assert refused.status_code == 403, refused.text

        after = web.get("/metrics", headers=scraper).text
        assert sample(after, "imageuploader_jobs_total", **ready) == 1
        assert sample(after, "imageuploader_job_duration_seconds_count", actor="make_rendition")
        assert sample(after, "imageuploader_queue_messages", queue="renditions") == 0
        upload_requests = sample(
            after, "imageuploader_requests_total", method="POST", path="/api/images"
        )
        assert upload_requests == 1

    # The worker's log line for the job carries the upload's request id.
    worker_lines = [
        line
        for line in json_lines(stack.worker_log.read_text())
        if line.get("logger") == "imageuploader.tasks.actors"
    ]
    assert worker_lines, stack.worker_log.read_text()[-3000:]
    assert {line.get("request_id") for line in worker_lines} == {REQUEST_ID}
    web_lines = json_lines(stack.web_log.read_text())
    assert any(
        line.get("request_id") == REQUEST_ID and line.get("path") == "/api/images"
        for line in web_lines
    )
