"""The benchmark's pure helpers on tiny inputs: no timings are asserted (they live in bench/)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pyvips
from piccolo.columns import Varchar
from piccolo.engine.sqlite import SQLiteEngine
from piccolo.table import Table

from bench import child, memory, photos, rendition_set, report, throughput
from bench.queries import QueryCounter, counting, delta, table_of
from bench.stats import median, percentile


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_photos_are_deterministic_and_seeded() -> None:
    first = photos.photo_jpeg(96, 64, seed=3)
    assert digest(photos.photo_jpeg(96, 64, seed=3)) == digest(first)
    assert digest(photos.photo_jpeg(96, 64, seed=4)) != digest(first)
    image = pyvips.Image.new_from_buffer(first, "")
    assert (image.width, image.height, image.bands) == (96, 64, 3)
    assert image.get("vips-loader") == "jpegload_buffer"


def test_photos_have_structure_not_flat_colour() -> None:
    image = photos.photo(120, 80, seed=1)
    assert all(image[band].deviate() > 5 for band in range(3))


def test_tagged_copies_differ_in_bytes_not_pixels() -> None:
    data = photos.photo_jpeg(64, 48)
    one, two = photos.tagged(data, 1), photos.tagged(data, 2)
    assert len({digest(data), digest(one), digest(two)}) == 3
    pixels = {
        bytes(pyvips.Image.new_from_buffer(d, "").write_to_memory()) for d in (data, one, two)
    }
    assert len(pixels) == 1
    with pytest.raises(ValueError, match="JPEG"):
        photos.tagged(b"GIF89a", 1)


def test_median_and_nearest_rank_percentile() -> None:
    samples = [5.0, 1.0, 4.0, 2.0, 3.0]
    assert median(samples) == 3.0
    assert percentile(samples, 95) == 5.0
    assert percentile(samples, 40) == 2.0
    assert percentile(list(map(float, range(1, 21))), 95) == 19.0
    with pytest.raises(ValueError):
        median([])


def test_sql_table_names() -> None:
    assert table_of('SELECT ALL "images"."id" FROM "images" WHERE 1') == "images"
    assert table_of('INSERT INTO "renditions" ("id") VALUES (?)') == "renditions"
    assert table_of('UPDATE "api_tokens" SET "x" = ?') == "api_tokens"
    assert table_of("SELECT 1") == "(raw)"


class Note(Table, tablename="notes"):
    text = Varchar(length=20)


async def test_query_counter_counts_each_statement(tmp_path: Path) -> None:
    engine = SQLiteEngine(path=str(tmp_path / "count.sqlite"))
    Note._meta.db = engine
    await Note.create_table().run()
    with counting(QueryCounter()) as counter:
        before = counter.snapshot()
        await Note.insert(Note(text="a"), Note(text="b")).run()
        rows = await Note.select().where(Note.text == "a").run()
        assert await Note.count().run() == 2
        after = counter.snapshot()
    assert len(rows) == 1
    counted = delta(before, after)
    assert counted["total"] == 3
    assert counted["by_table"] == {"notes": 3}
    await Note.select().run()  # uninstalled on exit: no longer counted
    assert counter.total == after["total"]


def test_plan_specs_follow_the_seeded_catalogue() -> None:
    studio = rendition_set.plan_specs("Studio")
    assert [s.slug for s in studio] == ["very-high", "high", "medium", "low"]
    job = rendition_set.job_for("Studio", 4000, 3000)
    assert job["targets"] == [[1024, 768], [1024, 768], [786, 590], [124, 93]]
    assert job["primary"] == "high"
    assert [s.slug for s in rendition_set.plan_specs("Enterprise")] == ["h200", "h400"]


@pytest.mark.parametrize("method", sorted(child.METHODS))
def test_child_methods_make_every_size_of_a_tiny_photo(method: str) -> None:
    job = rendition_set.job_for("Studio", 400, 300)
    warmup = photos.photo_jpeg(64, 48)
    result = child.measure(method, photos.photo_jpeg(400, 300), warmup, job)
    assert result["bytes"] > 0
    assert result["peak_rss_mib"] >= result["base_rss_mib"] > 0


def _figures(ours: float, floor: float, pillow: float, rss: float) -> dict[str, Any]:
    cell = {
        "ours": {"seconds": ours, "peak_rss_mib": rss},
        "floor": {"seconds": floor, "peak_rss_mib": rss},
        "pillow": {"seconds": pillow, "peak_rss_mib": rss},
    }
    sets = {p: {"Studio": cell, "Enterprise": cell} for p in ("12mp", "48mp")}
    return {"rendition_set": sets, "reads": {"constant": True}}


def test_targets_judge_the_figures() -> None:
    good = {t.name: t.passed for t in report.targets(_figures(0.12, 0.1, 1.0, 100))}
    assert good["12 MP Studio set / floor"] and good["12 MP Studio set: Pillow / ours"]
    assert good["48 MP peak RSS per process (ours)"]
    assert not good["worker renditions/s per core (1 process)"]  # not measured: never a pass
    bad = {t.name: t.passed for t in report.targets(_figures(0.2, 0.1, 0.5, 200))}
    assert not bad["12 MP Studio set / floor"]
    assert not bad["12 MP Studio set: Pillow / ours"]
    assert not bad["48 MP peak RSS per process (ours)"]


def _upload(answer: float, ready: float) -> dict[str, Any]:
    return {
        "uploads": 15,
        "renditions": 4,
        "answer_median_s": answer,
        "answer_p95_s": answer * 1.5,
        "ready_median_s": ready,
        "ready_p95_s": ready * 1.5,
    }


def test_upload_table_sets_s3_beside_local_disk() -> None:
    s3 = {**_upload(0.3, 0.4), "server": "SeaweedFS 4.48 (weed mini)"}
    table = "\n".join(report.upload_table(_upload(0.15, 0.2), 0.1, s3))
    assert "15 uploads, local disk and S3, interleaved" in table
    assert "| local disk | all 4 renditions ready | 200 ms | 300 ms | 2.00x |" in table
    assert (
        "| S3: SeaweedFS 4.48 (weed mini), loopback, 4 buckets | answer (primary ready) "
        "| 300 ms | 450 ms | 3.00x |"
    ) in table

    skipped = "\n".join(report.upload_table(_upload(0.15, 0.2), 0.1, {"skipped": "no weed"}))
    assert "15 uploads, local disk)" in skipped
    assert "| S3 | not measured: no weed |" in skipped
    assert "S3" not in "\n".join(report.upload_table(_upload(0.15, 0.2), 0.1))


def test_worker_runs_are_summarized_by_their_medians() -> None:
    def run(processes: int, rate: float) -> dict[str, Any]:
        return {
            "processes": processes,
            "renditions": 120,
            "seconds": 120 / rate,
            "renditions_per_s": rate,
            "per_core": rate / processes,
            "renditions_per_cpu_s": rate / processes * 1.02,
        }

    one = throughput.summarize([run(1, 40.0), run(1, 52.0), run(1, 45.0)])
    two = throughput.summarize([run(2, 80.0), run(2, 70.0), run(2, 90.0)])
    assert (one["renditions_per_s"], one["runs"]) == (45.0, 3)
    assert (two["renditions_per_s"], two["per_core"]) == (80.0, 40.0)
    assert one["each_renditions_per_s"] == [40.0, 52.0, 45.0]
    figures = {"photo": [2048, 1365], "database": "PostgreSQL", "rounds": 3}
    table = "\n".join(
        report.workers_table({**figures, "one": one, "two": two, "two_vs_one": 80 / 45})
    )
    assert "median of 3 interleaved runs" in table
    assert "| 2 | 120 | 80.0 | 40.0 |" in table
    assert "40.0, 52.0, 45.0" in table and "1.78x" in table


def test_status_counter_reads_counts_and_the_last_ready_time(tmp_path: Path) -> None:
    """The worker figure's clock stops at the last rendition's updated_at (as the app
    stores it on SQLite: naive ISO text in UTC), not at the poll that saw it."""
    path = tmp_path / "status.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE renditions (status TEXT, updated_at TEXT)")
        db.executemany(
            "INSERT INTO renditions VALUES (?, ?)",
            [
                ("ready", "2026-11-23 10:00:01.250000"),
                ("ready", "2026-11-23 10:00:03.500000"),
                ("failed", "2026-11-23 10:00:09"),
                ("pending", "2026-11-23 10:00:00"),
            ],
        )
    counter = throughput.StatusCounter(f"sqlite:///{path}")
    try:
        assert counter() == (1, 1)
        assert counter.last_ready() == datetime(2026, 11, 23, 10, 0, 3, 500000, tzinfo=UTC)
    finally:
        counter.close()


def _memory_run(peak: float, accepted: int = 20) -> dict[str, Any]:
    return {
        "clients": 20,
        "accepted": accepted,
        "statuses": [201],
        "slowest_answer_s": 9.5,
        "idle_rss_mib": 120.0,
        "peak_rss_mib": peak,
    }


def test_peak_rss_reads_this_process() -> None:
    assert memory.peak_rss_mib(os.getpid()) > 10


def test_memory_target_and_table() -> None:
    figures = {"memory": {"photo_mib": 9.1, "bounded": _memory_run(700.0)}}
    figures["memory"]["unbounded"] = _memory_run(2500.0)
    (target,) = [t for t in report.targets(figures) if "peak RSS, 20" in t.name]
    assert target.passed and target.measured == 700.0
    table = "\n".join(report.memory_table(figures["memory"]))
    assert "700 MiB" in table and "2500 MiB" in table and "20/20" in table
    figures["memory"]["bounded"] = _memory_run(700.0, accepted=19)  # a refusal: not measured
    (target,) = [t for t in report.targets(figures) if "peak RSS, 20" in t.name]
    assert not target.passed and target.measured is None
