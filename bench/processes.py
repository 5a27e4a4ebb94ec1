"""Starting and stopping the app and worker processes the benchmark talks to."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
# Every variable Settings.from_env reads: the benchmark sets the ones it wants and
# must not inherit the others from whoever runs `make bench`.
APP_VARIABLES = [
    "APP_ENV",
    "HOST",
    "PORT",
    "DATA_DIR",
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
    "BROKER_URL",
    "WORKER_THREADS",
    "STORAGE_URL",
    "S3_BUCKETS",
    "S3_PUBLIC_URL",
    "S3_DELIVERY",
    "S3_REDIRECT_WINDOW",
    "CACHE_URL",
    "SECRET_KEY",
    "ADMIN_USERNAME",
    "ADMIN_PASSWORD",
    "MAX_UPLOAD_BYTES",
    "MAX_PIXELS",
    "UPLOAD_MIN_RESOLUTION",
    "RECONCILE_AFTER_SECONDS",
    "DECODE_CONCURRENCY",
    "DECODE_WAIT_SECONDS",
    "LOG_LEVEL",
]
READY_LINE = "ready for action"
START_TIMEOUT = 90.0


def free_port() -> int:
    """A port the kernel just handed out (bound to port 0), free unless someone races us."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def app_env(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any app setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if k not in APP_VARIABLES}
    return {**env, "LOG_LEVEL": "WARNING", **settings}


@dataclass
class Server:
    """The app under uvicorn (`python -m bench.server`) on a free port."""

    process: subprocess.Popen[bytes]
    base_url: str
    log: Path

    @classmethod
    def start(cls, settings: Mapping[str, str], log: Path) -> Server:
        for _ in range(3):  # another process may grab the free port first
            port = free_port()
            env = app_env({**settings, "HOST": "127.0.0.1", "PORT": str(port)})
            with log.open("ab") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "bench.server"],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            server = cls(process, f"http://127.0.0.1:{port}", log)
            if server._wait_healthy():
                return server
            server.stop()
        raise RuntimeError(f"the app did not start; see {log}")

    def _wait_healthy(self) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        stop(self.process)


@dataclass
class Worker:
    """One `dramatiq workers.main --processes 1 --threads 4` (the compose file's worker),
    pinned to one CPU core so that one process is one core's work."""

    process: subprocess.Popen[str]
    core: int
    ready_at: float | None = None
    lines: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, settings: Mapping[str, str], core: int, threads: int = 4) -> Worker:
        argv = ["dramatiq", "workers.main", "--processes", "1", "--threads", str(threads)]
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and argv
            [sys.executable, "-m", *argv],
            cwd=ROOT,
            env=app_env({**settings, "LOG_LEVEL": "INFO"}),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            # Inherited by the worker process dramatiq forks.
            preexec_fn=lambda: os.sched_setaffinity(0, {core}),
        )
        worker = cls(process, core)
        threading.Thread(target=worker._read, daemon=True).start()
        return worker

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if self.ready_at is None and READY_LINE in line:
                self.ready_at = time.monotonic()
            if len(self.lines) < 200 and ("ERROR" in line or "Traceback" in line):
                self.lines.append(line.rstrip())

    def wait_ready(self, timeout: float = START_TIMEOUT) -> float:
        deadline = time.monotonic() + timeout
        while self.ready_at is None:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"worker did not start: {self.lines}")
            time.sleep(0.01)
        return self.ready_at

    def cpu_seconds(self) -> float:
        """User + system CPU of the dramatiq process and the worker it forked."""
        return tree_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        # The forked worker must not outlive a killed parent and drain the next run's queue.
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        stop(self.process)
        for child in children:
            if child.is_running():
                child.kill()


def tree_cpu_seconds(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        total = 0.0
        for proc in [root, *root.children(recursive=True)]:
            times = proc.cpu_times()
            total += times.user + times.system
        return total
    except psutil.NoSuchProcess:
        return 0.0


def stop(process: subprocess.Popen[bytes] | subprocess.Popen[str], timeout: float = 30) -> None:
    """SIGTERM (both uvicorn and dramatiq shut down cleanly on it), SIGKILL if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
