"""Faults with real processes: a worker killed with SIGKILL, Redis restarted, storage
gone during an upload, PostgreSQL restarted under a running app."""

from __future__ import annotations

import threading
import time

import httpx
from moto.server import ThreadedMotoServer

from tests.faults.conftest import make_user as create_user
from tests.faults.conftest import query, upload_many, wait_all_ready
from tests.faults.stack import PrivatePostgres, Processes, free_port, wait_until


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


def test_storage_unreachable_gives_503_and_leaves_nothing(
    procs: Processes, stack_env: dict[str, str]
) -> None:
    port = free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    buckets = ["faults-a", "faults-b"]
    env = {
        **stack_env,
        "STORAGE_URL": f"http://test-access:test-secret@127.0.0.1:{port}",
        "S3_BUCKETS": ",".join(buckets),
    }
    try:
        _, base = procs.app(env, fast_passwords=True)
        headers = create_user(base, "nostorage")
        moto.stop()  # S3 goes away; moto keeps its objects in this process meanwhile
        r = httpx.post(
            f"{base}/api/images",
            files={"file": ("p.jpg", _photo(), "image/jpeg")},
            headers=headers,
            timeout=120,
        )
        assert r.status_code == 503, r.text
        assert "storage is unavailable" in r.json()["detail"].lower()
        assert "nothing was saved" in r.json()["detail"].lower()
        health = httpx.get(f"{base}/health", timeout=60)
        assert health.status_code == 503 and health.json()["checks"]["storage"] != "ok"
        moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        moto.start()
        assert query(env["DATABASE_URL"], "SELECT count(*) AS n FROM images")[0]["n"] == 0
        assert query(env["DATABASE_URL"], "SELECT count(*) AS n FROM renditions")[0]["n"] == 0
        s3 = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        for bucket in buckets:
            listing = s3.get(f"/{bucket}", params={"list-type": "2"})
            assert listing.status_code == 200, listing.text
            assert "<Key>" not in listing.text, listing.text
        # And with storage back, uploads work again.
        r = httpx.post(
            f"{base}/api/images",
            files={"file": ("p.jpg", _photo(), "image/jpeg")},
            headers=headers,
            timeout=120,
        )
        assert r.status_code == 201, r.text
        stored = sum(
            s3.get(f"/{b}", params={"list-type": "2"}).text.count("<Key>") for b in buckets
        )
        assert stored >= 3  # original, intermediate, primary rendition
    finally:
        moto.stop()


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
