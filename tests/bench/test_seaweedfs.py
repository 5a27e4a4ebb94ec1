"""bench/seaweedfs.py, the launcher the tests' S3 fixtures and the bench share: free
ports, credentials enforced, stop and start again on the same ports and data."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench import seaweedfs as launcher
from bench.seaweedfs import PORT_FLAGS, SeaweedFS
from imageuploader.storage import S3Storage, StorageError, StorageUnavailable
from tests.conftest import start_seaweedfs


def storage(server: SeaweedFS, secret: str | None = None) -> S3Storage:
    return S3Storage(
        server.endpoint,
        server.access_key,
        secret or server.secret_key,
        ["launcher-a"],
        secure=False,
    )


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[SeaweedFS, SeaweedFS]]:
    one = start_seaweedfs(tmp_path / "one")
    try:
        two = start_seaweedfs(tmp_path / "two")
    except BaseException:
        one.close(kill=True)
        raise
    try:
        yield one, two
    finally:
        one.close(kill=True)
        two.close(kill=True)


def test_two_servers_run_side_by_side_on_their_own_ports(
    two_servers: tuple[SeaweedFS, SeaweedFS],
) -> None:
    one, two = two_servers
    assert set(one.ports) == set(two.ports) == set(PORT_FLAGS)
    ports = [*one.ports.values(), *two.ports.values()]
    assert len(set(ports)) == len(ports)
    # The admin server's HTTP port opens a moment after S3 reports healthy.
    early = [p for server in two_servers for f, p in server.ports.items() if f != "admin.port"]
    assert all(listening(port) for port in early)
    for server in two_servers:
        assert httpx.get(f"{server.url}/healthz").status_code == 200
        store = storage(server)
        store.ensure_ready()
        store.put("launcher-a", "k/original", server.endpoint.encode(), "text/plain")
    # Each holds its own objects.
    assert storage(one).get("launcher-a", "k/original") == one.endpoint.encode()
    assert storage(two).get("launcher-a", "k/original") == two.endpoint.encode()


def test_requests_with_the_wrong_secret_are_refused(own_seaweedfs: SeaweedFS) -> None:
    good = storage(own_seaweedfs)
    good.ensure_ready()
    good.put("launcher-a", "k/original", b"x", "image/jpeg")
    assert good.get("launcher-a", "k/original") == b"x"
    with pytest.raises(StorageError, match="SignatureDoesNotMatch"):
        storage(own_seaweedfs, secret="not-" + own_seaweedfs.secret_key).get(
            "launcher-a", "k/original"
        )


@pytest.mark.parametrize("how", ["stop", "kill"])
def test_started_again_on_the_same_ports_with_the_same_data(
    own_seaweedfs: SeaweedFS, how: str
) -> None:
    store = storage(own_seaweedfs)
    store.ensure_ready()
    store.put("launcher-a", "kept/original", b"still here", "image/jpeg")
    ports, pid = dict(own_seaweedfs.ports), own_seaweedfs.pid

    getattr(own_seaweedfs, how)()
    assert not own_seaweedfs.running()
    assert not any(listening(port) for port in ports.values())
    with pytest.raises(StorageUnavailable):
        store.get("launcher-a", "kept/original")
    # weed's sockets in /tmp are named after its ports; none may be left.
    assert not [p for port in ports.values() for p in Path("/tmp").glob(f"seaweedfs-*-{port}.sock")]

    own_seaweedfs.start()
    assert own_seaweedfs.ports == ports
    assert own_seaweedfs.pid != pid
    assert store.get("launcher-a", "kept/original") == b"still here"
    store.put("launcher-a", "new/original", b"writable", "image/jpeg")
    assert store.get("launcher-a", "new/original") == b"writable"


def test_a_taken_port_makes_a_first_start_try_new_ports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_free_ports = launcher.free_ports
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = int(squatter.getsockname()[1])
        handed_out: list[list[int]] = []

        def first_one_taken(count: int) -> list[int]:
            ports = real_free_ports(count)
            if not handed_out:
                ports[PORT_FLAGS.index("master.port")] = taken
            handed_out.append(ports)
            return ports

        monkeypatch.setattr(launcher, "free_ports", first_one_taken)
        server = start_seaweedfs(tmp_path / "retry")
        try:
            assert len(handed_out) == 2
            assert server.ports == dict(zip(PORT_FLAGS, handed_out[1], strict=True))
            assert server.running()
            assert "not available" in server.log.read_text()
        finally:
            server.close(kill=True)


def test_close_removes_a_directory_it_made_and_leaves_no_process() -> None:
    server = start_seaweedfs(None)
    root, process = server.root, server.process
    assert root.is_dir() and process is not None
    server.close()
    assert process.poll() is not None
    assert not root.exists()
    assert not server.running()
