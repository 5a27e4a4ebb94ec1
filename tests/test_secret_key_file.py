"""The generated secret key file: never readable by others, one key for concurrent starts."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from imageuploader.settings import Settings

# Each child waits for the same moment, then reads or creates the key and prints it.
# An audit hook looks at the key file on every file operation the child makes: a key
# that is visible while others may read it, or visible but incomplete, is reported.
CHILD = """
import os, sys, time
from pathlib import Path
data_dir, start = Path(sys.argv[1]), float(sys.argv[2])
path = data_dir / "secret_key"
seen = []

def watch(event, args):
    if seen or event not in ("open", "os.chmod", "os.link", "os.rename", "os.replace", "os.remove"):
        return
    try:
        st = os.stat(path)
    except OSError:
        return
    if st.st_mode & 0o077:
        seen.append(f"mode {oct(st.st_mode & 0o777)} after {event}")
    elif st.st_size == 0:
        seen.append(f"empty after {event}")

os.umask(0o022)
from imageuploader.settings import Settings
settings = Settings.from_env({"DATA_DIR": str(data_dir)})
sys.addaudithook(watch)
while time.time() < start:
    pass
key = settings.with_secret().secret_key
print(key, "|".join(seen))
"""


def test_concurrent_processes_agree_on_one_private_key(tmp_path: Path) -> None:
    start = time.time() + 3.0  # after every child has imported the app
    children = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and script
            [sys.executable, "-c", CHILD, str(tmp_path / "data"), str(start)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    outputs = [child.communicate(timeout=60)[0].split(" ", 1) for child in children]
    assert all(child.returncode == 0 for child in children)
    keys = {key for key, _ in outputs}
    exposures = {seen.strip() for _, seen in outputs} - {""}
    assert len(keys) == 1, keys
    assert exposures == set()
    path = tmp_path / "data" / "secret_key"
    assert path.read_text().strip() == keys.pop()
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret_key"]  # no temporary left


def test_concurrent_threads_agree_on_one_key(tmp_path: Path) -> None:
    settings = Settings.from_env({"DATA_DIR": str(tmp_path / "data")})
    barrier = threading.Barrier(12)
    keys: list[str] = []

    def start() -> None:
        barrier.wait()
        keys.append(settings.with_secret().secret_key)

    threads = [threading.Thread(target=start) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 12
    assert len(set(keys)) == 1
    assert len(keys[0]) >= 32


def test_an_existing_key_is_kept(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "secret_key").write_text("k" * 64 + "\n")
    (data / "secret_key").chmod(0o600)
    assert Settings.from_env({"DATA_DIR": str(data)}).with_secret().secret_key == "k" * 64
