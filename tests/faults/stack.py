"""Real processes for fault and fuzz tests: uvicorn app, dramatiq workers, redis-server,
a private PostgreSQL. Every process starts in its own session so it can be killed whole."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# Start-up bound for a process, not a speed target.
START_WITHIN_SECONDS = 60
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl live: PG_BIN if set, else PATH, else Debian's layout.

    Debian keeps the server tools in /usr/lib/postgresql/<major>/bin, off PATH;
    the newest major wins when several are installed.
    """
    candidates = [os.environ.get("PG_BIN", "")]
    on_path = shutil.which("pg_ctl")
    candidates.append(str(Path(on_path).parent) if on_path else "")
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(str(p) for p in debian)
    for candidate in filter(None, candidates):
        if (Path(candidate) / "pg_ctl").exists() and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def require_postgres_bindir() -> Path:
    found = postgres_bindir()
    if found is None:
        raise RuntimeError("initdb/pg_ctl not found: install PostgreSQL's server or set PG_BIN")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], bool], what: str, seconds: float = START_WITHIN_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: S110 - not up yet is the normal case while waiting
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready within {seconds}s")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the process group we created (the process and its children)."""
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Processes:
    """Everything a test started; `close()` kills whatever is still running."""

    workdir: Path
    procs: list[Proc] = field(default_factory=list)

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Proc:
        log = self.workdir / f"{name}-{len(self.procs)}.log"
        with log.open("wb") as out:  # the child keeps its own copy of the descriptor
            popen = subprocess.Popen(  # noqa: S603 - our own argv
                argv,
                env={**os.environ, **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(name, popen, log)
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in reversed(self.procs):
            proc.kill()

    # -- Redis -------------------------------------------------------------------------

    def redis(self, port: int) -> Proc:
        proc = self.spawn(
            "redis",
            [
                REDIS_SERVER,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
        )

        def up() -> bool:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")

        wait_until(up, "redis-server")
        return proc

    # -- the app and its workers -----------------------------------------------------

    def app(self, env: dict[str, str], *, fast_passwords: bool = False) -> tuple[Proc, str]:
        """uvicorn through `imageuploader serve`; returns the process and its base URL."""
        port = free_port()
        code = "from imageuploader.cli import main; raise SystemExit(main(['serve']))"
        if fast_passwords:
            # As tests/conftest.py does in-process: same hasher, fewer PBKDF2 rounds.
            code = (
                "from imageuploader.accounts.tables import User; "
                "User._pbkdf2_iteration_count = 1000; " + code
            )
        proc = self.spawn(
            "app", [sys.executable, "-c", code], {**env, "HOST": "127.0.0.1", "PORT": str(port)}
        )
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            if not proc.alive():
                raise RuntimeError(f"the app exited:\n{proc.tail()}")
            return httpx.get(f"{base}/health", timeout=2).status_code in (200, 503)

        try:
            wait_until(up, "the app")
        except RuntimeError as exc:
            raise AssertionError(str(exc)) from None
        return proc, base

    def worker(self, env: dict[str, str], threads: int = 2) -> Proc:
        return self.spawn(
            "worker",
            [
                sys.executable,
                "-m",
                "dramatiq",
                "workers.main",
                "--processes",
                "1",
                "--threads",
                str(threads),
            ],
            env,
        )

    # -- a PostgreSQL we may stop and start --------------------------------------------

    def postgres(self, datadir: Path, port: int) -> PrivatePostgres:
        pg = PrivatePostgres(datadir, port, self.workdir / "postgres.log")
        pg.init()
        pg.start()
        return pg


def _as_postgres_user(argv: list[str]) -> list[str]:
    # initdb and pg_ctl refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *argv]
    return argv


@dataclass
class PrivatePostgres:
    datadir: Path
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        subprocess.run(  # noqa: S603 - our own argv
            _as_postgres_user(list(argv)), check=True, capture_output=True, timeout=120
        )

    def init(self) -> None:
        self.datadir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.datadir, "postgres", "postgres")
            shutil.chown(self.datadir.parent, "postgres", "postgres")
        initdb = str(require_postgres_bindir() / "initdb")
        self._run(initdb, "-D", str(self.datadir), "-U", "postgres", "-A", "trust")

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.datadir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(require_postgres_bindir() / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.log),
            "-o", opts, "-w", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        pg_ctl = str(require_postgres_bindir() / "pg_ctl")
        self._run(pg_ctl, "-D", str(self.datadir), "-m", mode, "-w", "stop")

    def stop_quietly(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
