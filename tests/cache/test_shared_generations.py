"""Owners' generations shared through DATA_DIR: a bump anywhere is seen on the next read."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from imageuploader.images.cache import SharedGenerations

BUMP = (
    "import sys; from pathlib import Path; "
    "from imageuploader.images.cache import SharedGenerations; "
    "SharedGenerations(Path(sys.argv[1])).bump(int(sys.argv[2]))"
)


def test_a_bump_by_another_instance_is_seen_on_the_next_read(tmp_path: Path) -> None:
    reader, writer = SharedGenerations(tmp_path), SharedGenerations(tmp_path)
    assert reader.get(1) == 0
    assert reader.get(2) == 0
    writer.bump(1)
    assert reader.get(1) == 1
    assert reader.get(2) == 0
    writer.bump(2)
    writer.bump(2)
    assert reader.get(2) == 2
    assert reader.get(1) == 1


def test_a_bump_by_another_process_is_seen_on_the_next_read(tmp_path: Path) -> None:
    reader = SharedGenerations(tmp_path)
    assert reader.get(7) == 0
    subprocess.run([sys.executable, "-c", BUMP, str(tmp_path), "7"], check=True)  # noqa: S603
    assert reader.get(7) == 1
    reader.bump(7)
    assert SharedGenerations(tmp_path).get(7) == 2


def test_concurrent_bumps_are_all_counted(tmp_path: Path) -> None:
    def bump_many() -> None:
        mine = SharedGenerations(tmp_path)
        for _ in range(50):
            mine.bump(3)

    reader = SharedGenerations(tmp_path)
    assert reader.get(3) == 0
    threads = [threading.Thread(target=bump_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert reader.get(3) == 200
