"""The performance targets judged on the figures, and the Markdown tables `make bench` prints."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bench.stats import ratio

PHOTO_NAMES = {"12mp": "12 MP", "48mp": "48 MP"}
PLAN_SIZES = {"Studio": 4, "Enterprise": 2}


@dataclass(frozen=True)
class Target:
    name: str
    measured: float | None  # None: the figure could not be taken
    limit: float
    at_least: bool  # True: measured must be >= limit; False: <= limit
    unit: str

    @property
    def passed(self) -> bool:
        if self.measured is None:
            return False
        return self.measured >= self.limit if self.at_least else self.measured <= self.limit

    def verdict(self) -> str:
        if self.measured is None:
            return "FAIL (not measured)"
        return "PASS" if self.passed else "FAIL"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "pass": self.passed}


def _cell(figures: dict[str, Any], photo: str, plan: str) -> dict[str, Any]:
    return figures["rendition_set"][photo][plan]


def targets(figures: dict[str, Any]) -> list[Target]:
    found: list[Target] = []
    sets = figures.get("rendition_set")
    if sets:
        for plan in PLAN_SIZES:
            cell = _cell(figures, "12mp", plan)
            ours, floor, pillow = (cell[m]["seconds"] for m in ("ours", "floor", "pillow"))
            found.append(Target(f"12 MP {plan} set / floor", ratio(ours, floor), 1.3, False, "x"))
            found.append(
                Target(f"12 MP {plan} set: Pillow / ours", ratio(pillow, ours), 5, True, "x")
            )
        rss = max(_cell(figures, "48mp", plan)["ours"]["peak_rss_mib"] for plan in PLAN_SIZES)
        found.append(Target("48 MP peak RSS per process (ours)", rss, 150, False, "MiB"))
    upload = figures.get("upload")
    if upload and sets:
        floor = _cell(figures, "12mp", "Studio")["floor"]["seconds"]
        found.append(
            Target(
                "12 MP upload to all ready / floor",
                ratio(upload["ready_median_s"], floor),
                2,
                False,
                "x",
            )
        )
    workers = figures.get("workers")
    if workers and "one" in workers:
        found.append(
            Target(
                "worker renditions/s per core (1 process)",
                workers["one"]["per_core"],
                40,
                True,
                "/s",
            )
        )
        found.append(Target("2 worker processes / 1", workers["two_vs_one"], 1.8, True, "x"))
    else:
        found.append(Target("worker renditions/s per core (1 process)", None, 40, True, "/s"))
        found.append(Target("2 worker processes / 1", None, 1.8, True, "x"))
    reads = figures.get("reads")
    constant = float(reads["constant"]) if reads else None
    found.append(Target("constant query count per list request", constant, 1, True, "bool"))
    for setup in (figures.get("reads_floor") or {}).values():
        for name, read in (setup.get("reads") or {}).items():
            label = f"{name} / floor, {setup['setup'].split(' (')[0].split(',')[0]}"
            found.append(Target(label, read["ratio"], read["target"], True, "x"))
    mem = figures.get("memory")
    if mem:
        bounded = mem["bounded"]
        clients = bounded["clients"]
        name = f"web peak RSS, {clients} concurrent 48 MP uploads"
        peak = bounded["peak_rss_mib"] if bounded["accepted"] == clients else None
        found.append(Target(name, peak, 1024, False, "MiB"))
    return found


def _s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _x(value: float) -> str:
    return f"{value:.2f}x"


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def rendition_table(sets: dict[str, Any], repeats: int) -> list[str]:
    lines = [
        f"Rendition set (median of {repeats} runs, each in a fresh process; peak RSS = VmHWM)",
        "",
        _row(
            "photo",
            "plan",
            "ours",
            "floor",
            "Pillow",
            "ours/floor",
            "Pillow/ours",
            "RSS ours",
            "RSS floor",
            "RSS Pillow",
        ),
        _row(*["---"] * 10),
    ]
    for photo, name in PHOTO_NAMES.items():
        for plan, sizes in PLAN_SIZES.items():
            cell = sets[photo][plan]
            ours, floor, pillow = (cell[m] for m in ("ours", "floor", "pillow"))
            lines.append(
                _row(
                    name,
                    f"{plan} ({sizes})",
                    _s(ours["seconds"]),
                    _s(floor["seconds"]),
                    _s(pillow["seconds"]),
                    _x(ratio(ours["seconds"], floor["seconds"])),
                    _x(ratio(pillow["seconds"], ours["seconds"])),
                    f"{ours['peak_rss_mib']:.0f} MiB",
                    f"{floor['peak_rss_mib']:.0f} MiB",
                    f"{pillow['peak_rss_mib']:.0f} MiB",
                )
            )
    return lines


def _upload_rows(label: str, upload: dict[str, Any], floor: float) -> list[str]:
    return [
        _row(
            label,
            "answer (primary ready)",
            _s(upload["answer_median_s"]),
            _s(upload["answer_p95_s"]),
            _x(ratio(upload["answer_median_s"], floor)),
        ),
        _row(
            label,
            f"all {upload['renditions']} renditions ready",
            _s(upload["ready_median_s"]),
            _s(upload["ready_p95_s"]),
            _x(ratio(upload["ready_median_s"], floor)),
        ),
        *(
            [
                _row(
                    label,
                    "all WebP and AVIF variants made (polled)",
                    _s(upload["formats_median_s"]),
                    _s(upload["formats_p95_s"]),
                    "",
                )
            ]
            if "formats_median_s" in upload
            else []
        ),
    ]


def upload_table(
    upload: dict[str, Any], floor: float, upload_s3: dict[str, Any] | None = None
) -> list[str]:
    measured_s3 = bool(upload_s3) and "skipped" not in upload_s3
    storages = "local disk and S3, interleaved" if measured_s3 else "local disk"
    lines = [
        "Upload to ready (HTTP, embedded default, 12 MP JPEG, Studio, "
        f"{upload['uploads']} uploads, {storages})",
        "",
        _row("storage", "", "median", "p95", "median / floor"),
        _row(*["---"] * 5),
        *_upload_rows("local disk", upload, floor),
    ]
    if upload_s3 and measured_s3:
        label = f"S3: {upload_s3.get('server', 'SeaweedFS')}, loopback, 4 buckets"
        lines.extend(_upload_rows(label, upload_s3, floor))
    elif upload_s3:
        lines.append(_row("S3", f"not measured: {upload_s3['skipped']}", "", "", ""))
    return lines


def workers_table(workers: dict[str, Any]) -> list[str]:
    width, height = workers["photo"]
    rounds = workers.get("rounds", 1)
    lines = [
        f"Worker throughput ({width}x{height} photos, Redis broker, {workers['database']}, "
        f"each process pinned to one core; median of {rounds} interleaved runs each)",
        "",
        _row(
            "processes",
            "renditions per run",
            "renditions/s",
            "per core",
            "per worker CPU-second",
            "each run (renditions/s)",
        ),
        _row(*["---"] * 6),
    ]
    for key in ("one", "two"):
        run = workers[key]
        each = ", ".join(f"{rate:.1f}" for rate in run.get("each_renditions_per_s", []))
        lines.append(
            _row(
                run["processes"],
                f"{run['renditions']:.0f}",
                f"{run['renditions_per_s']:.1f}",
                f"{run['per_core']:.1f}",
                f"{run['renditions_per_cpu_s']:.1f}",
                each,
            )
        )
    lines.append(_row("2 vs 1", "", _x(workers["two_vs_one"]), "", "", ""))
    return lines


def reads_table(reads: dict[str, Any]) -> list[str]:
    per_page = ", ".join(
        f"{p}: {c['warm']['total']} warm / {c['cold']['total']} cold"
        for p, c in reads["queries"].items()
    )
    cache = "yes" if reads["cache_active"] else "no"
    return [
        f"Reads (GET /api/images?per_page={reads['per_page']}, {reads['concurrency']} clients, "
        f"{reads['images']} images)",
        "",
        _row("requests/s", "SQL queries per list request, by per_page", "cache active"),
        _row("---", "---", "---"),
        _row(f"{reads['requests_per_s']:.0f}", per_page, cache),
    ]


def reads_floor_table(found: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for setup in found.values():
        if "skipped" in setup:
            lines += ["Reads vs the bare-framework floor: not measured: " + setup["skipped"], ""]
            continue
        lines += [
            f"Reads vs the bare-framework floor ({setup['setup']}; one process each, uvicorn "
            f"with uvloop and httptools, {setup['connections']} connections, "
            f"{setup['seconds']:g} s per read in {setup.get('rounds', 1)} alternating turns; "
            "the ratio is the median of the turns)",
            "",
            _row(
                "read",
                "status, bytes",
                "ours req/s",
                "ours p50",
                "ours p99",
                "floor req/s",
                "floor p50",
                "floor p99",
                "ours / floor",
            ),
            _row(*["---"] * 9),
        ]
        for name, read in setup["reads"].items():
            ours, floor = read["ours"], read["floor"]
            lines.append(
                _row(
                    name,
                    f"{read['status']}, {read['bytes']} B",
                    f"{ours['requests_per_s']:.0f}",
                    f"{ours['p50_ms']:.2f} ms",
                    f"{ours['p99_ms']:.2f} ms",
                    f"{floor['requests_per_s']:.0f}",
                    f"{floor['p50_ms']:.2f} ms",
                    f"{floor['p99_ms']:.2f} ms",
                    _x(read["ratio"]),
                )
            )
        lines.append("")
    return lines[:-1] if lines and lines[-1] == "" else lines


def memory_table(mem: dict[str, Any]) -> list[str]:
    clients = mem["bounded"]["clients"]
    lines = [
        _row(
            f"{clients} concurrent 48 MP uploads ({mem['photo_mib']} MiB each)",
            "decodes at once",
            "accepted",
            "peak RSS (web)",
            "idle RSS",
            "slowest answer",
        ),
        _row(*["---"] * 6),
    ]
    for label, key, bound in (
        ("bounded (default)", "bounded", "the cores"),
        ("baseline: bound lifted", "unbounded", "unbounded"),
    ):
        run = mem[key]
        lines.append(
            _row(
                label,
                bound,
                f"{run['accepted']}/{run['clients']}",
                f"{run['peak_rss_mib']:.0f} MiB",
                f"{run['idle_rss_mib']:.0f} MiB",
                f"{run['slowest_answer_s']:.1f} s",
            )
        )
    return lines


def targets_table(found: list[Target]) -> list[str]:
    lines = [
        "Targets",
        "",
        _row("target", "measured", "limit", "verdict"),
        _row(*["---"] * 4),
    ]
    for t in found:
        sign = ">=" if t.at_least else "<="
        if t.unit == "bool":
            measured = "n/a" if t.measured is None else ("yes" if t.measured else "no")
            limit = "yes"
        else:
            measured = "n/a" if t.measured is None else f"{t.measured:.2f} {t.unit}"
            limit = f"{sign} {t.limit:g} {t.unit}"
        lines.append(_row(t.name, measured, limit, t.verdict()))
    return lines


def tables(figures: dict[str, Any], found: list[Target]) -> str:
    blocks: list[list[str]] = []
    sets = figures.get("rendition_set")
    if sets:
        blocks.append(rendition_table(sets, figures["options"]["repeats"]))
    if figures.get("upload") and sets:
        floor = sets["12mp"]["Studio"]["floor"]["seconds"]
        blocks.append(upload_table(figures["upload"], floor, figures.get("upload_s3")))
    if figures.get("workers") and "one" in figures["workers"]:
        blocks.append(workers_table(figures["workers"]))
    if figures.get("reads"):
        blocks.append(reads_table(figures["reads"]))
    if figures.get("reads_floor"):
        blocks.append(reads_floor_table(figures["reads_floor"]))
    if figures.get("memory"):
        blocks.append(memory_table(figures["memory"]))
    blocks.append(targets_table(found))
    return "\n\n".join("\n".join(b) for b in blocks)
