"""Figure 1: a plan's rendition set from one photo, ours vs the libvips floor vs Pillow.

Each measurement runs in a fresh `bench.child` process; repeats go round-robin
over every (photo, plan, method) cell so that a burst of load from elsewhere
hits all methods alike.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import photos
from bench.stats import median
from imageuploader.accounts.seed import BUILTIN_PLANS, BUILTIN_SIZES
from imageuploader.imaging import SizeSpec, target
from imageuploader.settings import Settings

PLANS = ("Studio", "Enterprise")
METHODS = ("ours", "floor", "pillow")
PHOTOS = {"12mp": photos.MP12, "48mp": photos.MP48}
WARMUP_SIZE = (64, 48)


def plan_specs(plan: str) -> list[SizeSpec]:
    """The seeded plan's sizes as pipeline specs, in the plan's order."""
    slugs = BUILTIN_PLANS[plan][0]
    return [SizeSpec(slug, *BUILTIN_SIZES[slug]) for slug in slugs]  # type: ignore[arg-type]


def job_for(plan: str, width: int, height: int) -> dict[str, Any]:
    """What a child needs: the specs, the primary, and their output sizes for this photo
    (for Pillow)."""
    specs = plan_specs(plan)
    targets = [target(spec, width, height) for spec in specs]
    return {
        "specs": [[s.slug, s.width, s.height, s.fit] for s in specs],
        "primary": BUILTIN_PLANS[plan][1],
        "targets": [[t.scaled_width, t.scaled_height] for t in targets],
        "max_pixels": Settings().max_pixels,
    }


def run_child(method: str, photo: Path, warmup: Path, job: dict[str, Any]) -> dict[str, float]:
    out = subprocess.run(  # noqa: S603 - our own interpreter and argv
        [sys.executable, "-m", "bench.child", method, str(photo), str(warmup), json.dumps(job)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


@dataclass
class Cell:
    photo: str
    plan: str
    method: str
    samples: list[dict[str, float]]

    def summary(self) -> dict[str, float]:
        return {
            "seconds": median([s["seconds"] for s in self.samples]),
            "peak_rss_mib": median([s["peak_rss_mib"] for s in self.samples]),
            "base_rss_mib": median([s["base_rss_mib"] for s in self.samples]),
            "runs": len(self.samples),
        }


def measure(workdir: Path, repeats: int, log: Any = print) -> dict[str, Any]:
    """Medians per photo, plan and method: {"12mp": {"Studio": {"ours": {...}}}}."""
    warmup = photos.photo_file(workdir, *WARMUP_SIZE)
    files = {name: photos.photo_file(workdir, *size) for name, size in PHOTOS.items()}
    cells = [
        Cell(name, plan, method, []) for name in PHOTOS for plan in PLANS for method in METHODS
    ]
    jobs = {(name, plan): job_for(plan, *PHOTOS[name]) for name in PHOTOS for plan in PLANS}
    for round_ in range(repeats):
        log(f"  rendition set: round {round_ + 1}/{repeats}")
        for cell in cells:
            job = jobs[(cell.photo, cell.plan)]
            cell.samples.append(run_child(cell.method, files[cell.photo], warmup, job))
    result: dict[str, Any] = {}
    for cell in cells:
        result.setdefault(cell.photo, {}).setdefault(cell.plan, {})[cell.method] = cell.summary()
    for name, path in files.items():
        result[name]["photo"] = {"size": list(PHOTOS[name]), "bytes": path.stat().st_size}
    return result
