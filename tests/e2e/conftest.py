"""The production shape as real processes: uvicorn web app, dramatiq worker, SeaweedFS.

Every process is started in its own session (process group) and killed in
teardown whatever happened; their output goes to files the tests read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import redis

from tests.conftest import POSTGRES_URL, REDIS_URL, require_service, start_seaweedfs

ROOT = Path(__file__).resolve().parents[2]
# Liveness bound for start-up, not a speed target.
START_WITHIN_SECONDS = 90


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Stack:
    base_url: str
    env: dict[str, str]
    web_log: Path
    worker_log: Path
    admin_password: str


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the whole process group (dramatiq forks), then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_WITHIN_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the web app exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the web app did not become healthy:\n{log.read_text()[-3000:]}")


async def _empty_schema(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_service(POSTGRES_URL, "PostgreSQL")
    require_service(REDIS_URL, "Redis")
    # The tests of other modules may have left rows and queued jobs: start empty.
    # In a thread of its own: an earlier test's event loop may still be set on this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _empty_schema(POSTGRES_URL)).result()
    redis.Redis.from_url(REDIS_URL).flushdb()
    # SeaweedFS stands in for MinIO (which cannot run here); like MinIO it checks
    # every signature, so the expiring link below is judged for real.
    tmp = tmp_path_factory.mktemp("e2e")
    s3 = start_seaweedfs(tmp / "seaweedfs")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        port = free_port()
        run = uuid.uuid4().hex[:8]
        admin_password = secrets.token_urlsafe(16)
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("S3_", "RATE_LIMIT_"))},
            "APP_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "ADMIN_USERNAME": "admin",
            "ADMIN_PASSWORD": admin_password,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "DATA_DIR": str(tmp / "data"),
            "DATABASE_URL": POSTGRES_URL,
            "DATABASE_POOL_SIZE": "4",
            "BROKER_URL": REDIS_URL,
            "CACHE_URL": REDIS_URL,
            "STORAGE_URL": s3.storage_url,
            "S3_BUCKETS": ",".join(f"e2e-{run}-{i}" for i in range(4)),
            "S3_PUBLIC_URL": s3.url,
            "LOG_LEVEL": "INFO",
            "METRICS_TOKEN": secrets.token_urlsafe(32),
            "PYTHONUNBUFFERED": "1",
        }
        stack = Stack(
            base_url=f"http://127.0.0.1:{port}",
            env=env,
            web_log=tmp / "web.log",
            worker_log=tmp / "worker.log",
            admin_password=admin_password,
        )
        # The web app migrates and creates the buckets; the worker starts after it.
        web = _start([sys.executable, "-m", "imageuploader.cli", "serve"], env, stack.web_log)
        processes.append(web)
        _wait_healthy(stack.base_url, web, stack.web_log)
        worker_args = [sys.executable, "-m", "dramatiq", "workers.main"]
        worker = _start([*worker_args, "--processes", "1", "--threads", "2"], env, stack.worker_log)
        processes.append(worker)
        yield stack
    finally:
        for process in reversed(processes):
            _stop(process)
        s3.close(kill=True)  # its data is thrown away: no need to wait for a clean stop
