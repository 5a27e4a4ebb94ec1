"""Faults with real processes: a worker killed with SIGKILL, Redis restarted, storage
(SeaweedFS) stopped during an upload, PostgreSQL restarted under a running app."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import httpx

from bench.seaweedfs import SeaweedFS
from imageuploader.storage import S3Storage
from tests.faults.conftest import make_user as create_user
from tests.faults.conftest import query, upload_many, wait_all_ready
from tests.faults.stack import PrivatePostgres, Processes, wait_until


def _assert_complete(url: str, images: int) -> dict:
    state = wait_all_ready(url, images)
    assert state["images"] == images, state
    assert state["failed"] == 0, state
    # Premium: h200 made in the request, h400 by the workers.
    assert state["renditions"] == 2 * images, state
    assert state["ready"] == state["renditions"], state
    return state


def test_worker_killed_mid_batch_loses_nothing(procs: Processes, stack_env: dict[str, str]) -> None:
    _, base = procs.app(stack_env, fast_passwords=True)
    first = procs.worker(stack_env)
    headers = create_user(base, "kill9")
    killed = threading.Event()

    def kill_after_some(n: int) -> None:
        if n == 25 and not killed.is_set():
            killed.set()
            first.kill()  # SIGKILL to the worker's whole process group

    responses = upload_many(base, headers, 100, on_done=kill_after_some)
    assert killed.is_set() and not first.alive()
    assert [r.status_code for r in responses] == [201] * 100
    procs.worker(stack_env)
    _assert_complete(stack_env["DATABASE_URL"], 100)


def test_redis_restart_during_uploads_loses_nothing(
    procs: Processes, stack_env: dict[str, str]
) -> None:
    _, base = procs.app(stack_env, fast_passwords=True)
    procs.worker(stack_env)
    headers = create_user(base, "redis")
    redis = next(p for p in procs.procs if p.name == "redis")
    port = int(stack_env["REDIS_PORT"])
    restarted = threading.Event()

    def restart_redis(n: int) -> None:
        if n == 10 and not restarted.is_set():
            restarted.set()
            redis.kill()  # queued messages are gone: no persistence
            time.sleep(1.0)  # uploads keep arriving while Redis is down
            procs.redis(port)

    responses = upload_many(base, headers, 40, clients=4, on_done=restart_redis)
    assert restarted.is_set()
    statuses = [r.status_code for r in responses]
    assert all(s < 500 for s in statuses), statuses
    accepted = statuses.count(201)
    assert accepted == 40, statuses
    _assert_complete(stack_env["DATABASE_URL"], accepted)


def test_storage_stopped_mid_upload_gives_503_and_leaves_nothing(
    procs: Processes, stack_env: dict[str, str], own_seaweedfs: SeaweedFS
) -> None:
    buckets = [f"faults-{uuid.uuid4().hex[:8]}-{i}" for i in range(2)]
    env = {**stack_env, "STORAGE_URL": own_seaweedfs.storage_url, "S3_BUCKETS": ",".join(buckets)}
    _, base = procs.app(env, fast_passwords=True)
    headers = create_user(base, "nostorage")
    body = _photo()

    def slow_body() -> Iterator[bytes]:
        """The upload's bytes in two halves; storage is stopped between them."""
        yield body[: len(body) // 2]
        own_seaweedfs.stop()  # SIGTERM: S3 goes away while the upload is on the wire
        yield body[len(body) // 2 :]

    boundary = "faults-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="p.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def multipart() -> Iterator[bytes]:
        yield head
        yield from slow_body()
        yield tail

    r = httpx.post(
        f"{base}/api/images",
        content=multipart(),
        headers={**headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        timeout=120,
    )
    assert not own_seaweedfs.running()
    assert r.status_code == 503, r.text
    assert "storage is unavailable" in r.json()["detail"].lower()
    assert "nothing was saved" in r.json()["detail"].lower()
    # Anonymous /health answers from a result shared for about 2 s: ask past that.
    deadline = time.monotonic() + 10
    while (health := httpx.get(f"{base}/health", timeout=60)).status_code == 200:
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert health.status_code == 503 and health.json()["checks"]["storage"] != "ok"

    # The same server back on the same ports and data: it holds no object, and
    # the database no row.
    own_seaweedfs.start()
    assert query(env["DATABASE_URL"], "SELECT count(*) AS n FROM images")[0]["n"] == 0
    assert query(env["DATABASE_URL"], "SELECT count(*) AS n FROM renditions")[0]["n"] == 0
    s3 = S3Storage(
        own_seaweedfs.endpoint,
        own_seaweedfs.access_key,
        own_seaweedfs.secret_key,
        buckets,
        secure=False,
    )
    assert {b: list(s3.list_keys(b)) for b in buckets} == {b: [] for b in buckets}

    # And with storage back, uploads work again without restarting the app.
    r = httpx.post(
        f"{base}/api/images",
        files={"file": ("p.jpg", body, "image/jpeg")},
        headers=headers,
        timeout=120,
    )
    assert r.status_code == 201, r.text
    stored = sum(len(list(s3.list_keys(b))) for b in buckets)
    assert stored >= 3  # original, intermediate, primary rendition


def _photo() -> bytes:
    from tests.faults.conftest import photo

    return photo()


def test_database_restart_app_recovers_without_restart(
    procs: Processes, stack_env: dict[str, str], pg: PrivatePostgres
) -> None:
    app, base = procs.app(stack_env, fast_passwords=True)
    procs.worker(stack_env)
    headers = create_user(base, "dbrestart")
    assert httpx.get(f"{base}/health", timeout=30).status_code == 200
    pg.stop("fast")
    try:
        wait_until(
            lambda: httpx.get(f"{base}/health", timeout=30).status_code == 503,
            "/health reporting the database down",
        )
        down = httpx.get(f"{base}/health", timeout=30).json()
        assert down["checks"]["database"] != "ok"
    finally:
        pg.start()
    wait_until(
        lambda: httpx.get(f"{base}/health", timeout=30).status_code == 200,
        "/health recovering",
    )
    assert app.alive()  # the same process: it recovered on its own
    # Every request succeeds afterwards (the pool replaced its dead connections).
    for _ in range(20):
        assert httpx.get(f"{base}/api/me", headers=headers, timeout=30).status_code == 200
    responses = upload_many(base, headers, 5, clients=2)
    assert [r.status_code for r in responses] == [201] * 5
    _assert_complete(stack_env["DATABASE_URL"], 5)
