"""`imageuploader serve --workers N`: N uvicorn processes on one port, or a clear refusal."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from bench.processes import app_env, free_port
from imageuploader.cli import main

START_SECONDS = 90


def _live_workers(pid: int) -> list[psutil.Process]:
    found = []
    for child in psutil.Process(pid).children():
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue  # a worker that exited; the supervisor replaces it
    return found


def test_more_than_one_worker_needs_a_shared_redis_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CACHE_URL", raising=False)
    assert main(["serve", "--workers", "2"]) == 2
    assert "CACHE_URL" in capsys.readouterr().err


@pytest.mark.e2e
def test_workers_run_as_separate_processes_answering_on_one_port(
    redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    env = app_env(
        {
            "DATA_DIR": str(tmp_path),
            "CACHE_URL": redis_url,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WORKER_THREADS": "0",
        }
    )
    with (tmp_path / "serve.log").open("ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "imageuploader.cli", "serve", "--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_SECONDS
        answered = False
        while time.monotonic() < deadline and not answered:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).is_success
            except httpx.HTTPError:
                time.sleep(0.2)
        assert answered, (tmp_path / "serve.log").read_text()[-2000:]
        # uvicorn's supervisor spawns the workers; each serves its own app.
        assert len(_live_workers(server.pid)) == 2, (tmp_path / "serve.log").read_text()[-2000:]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
