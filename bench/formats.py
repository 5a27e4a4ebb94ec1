"""Output formats: bytes, encode time and SSIMULACRA2 score per format, the AVIF effort
table, the upload's extra cost (the placeholder) and worker cost with formats on.

`python -m bench.formats [--quick]` (also `python -m bench --only formats`).
Every encode is timed in this process at rendition sizes, on two sets judged
apart: real photographs (bench.photographs), which decide the format targets,
and the synthetic grain photos (bench.photos), the hardest case for WebP and
AVIF. The score compares each decoded output with the exact pixels it was
encoded from (SSIMULACRA2: 90 is visually lossless, 70 high quality, 50
medium). Baselines (JPEG q85, the upload without a placeholder, the JPEG-only
worker) are measured in the same run, interleaved.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import pyvips
from ssimulacra2 import compute_ssimulacra2

from bench import photographs, photos
from bench.rendition_set import plan_specs
from bench.stats import median
from imageuploader import imaging
from imageuploader.imaging import variants
from imageuploader.imaging.pipeline import JPEG_QUALITY, resize

SEEDS = (1, 2, 3)
# Synthetic photos: a card, and the largest Studio box where the bytes go.
SIZES = (
    imaging.SizeSpec("h400", None, 400),
    imaging.SizeSpec("high", 1024, 786),
)
# The photographs are smaller than `high` (renditions are never upscaled): card size.
PHOTO_SIZE = imaging.SizeSpec("h400", None, 400)
EFFORTS = (0, 1, 2, 3, 4)
MAX_PIXELS = 50_000_000
TARGET_SAVING = {"webp": 0.25, "avif": 0.40}
Case = tuple[str, pyvips.Image]


def _png(image: pyvips.Image) -> io.BytesIO:
    return io.BytesIO(image.pngsave_buffer(compression=1))


def score(reference: pyvips.Image, data: bytes) -> float:
    """SSIMULACRA2 of encoded `data` against the pixels it was encoded from."""
    decoded = pyvips.Image.new_from_buffer(data, "").colourspace("srgb")
    return float(compute_ssimulacra2(_png(reference), _png(decoded)))


def _timed(encode: Callable[[], bytes], repeats: int) -> tuple[bytes, float]:
    samples, data = [], b""
    for _ in range(repeats):
        start = time.perf_counter()
        data = encode()
        samples.append(time.perf_counter() - start)
    return data, median(samples)


def _encoders() -> dict[str, Callable[[pyvips.Image], bytes]]:
    return {
        "jpeg": lambda im: im.jpegsave_buffer(Q=JPEG_QUALITY, keep="none", optimize_coding=True),
        "webp": lambda im: variants.encode_as(im, "webp"),
        "avif": lambda im: variants.encode_as(im, "avif"),
    }


def _renditions(name: str, data: bytes, sizes: tuple[imaging.SizeSpec, ...]) -> list[Case]:
    """The rendition pixels every encoder gets, made as the product makes them."""
    decoded = imaging.decode(data, list(sizes), max_pixels=MAX_PIXELS)
    info = decoded.info
    out = []
    for spec in sizes:
        geometry = imaging.target(spec, info.oriented_width, info.oriented_height)
        out.append((f"{name}/{spec.slug}", resize(decoded.image, geometry).copy_memory()))
    return out


def photograph_cases() -> list[Case]:
    """Each real photograph at card size."""
    return [
        case
        for name in photographs.FILES
        for case in _renditions(name, photographs.photograph(name), (PHOTO_SIZE,))
    ]


def synthetic_cases(seeds: tuple[int, ...]) -> list[Case]:
    """Each 2 K synthetic photo at every size in SIZES."""
    return [
        case
        for seed in seeds
        for case in _renditions(
            f"synthetic {seed}", photos.photo_jpeg(*photos.PHOTO_2K, seed=seed), SIZES
        )
    ]


def per_format(cases: list[Case], repeats: int, log: Any) -> dict[str, Any]:
    """Per-format totals over `cases` with each target's verdict, and every case's figures."""
    rows: dict[str, dict[str, list[float]]] = {}
    each: dict[str, dict[str, Any]] = {}
    for name, image in cases:
        log(f"  formats: {name}")
        each[name] = {"size": f"{image.width}x{image.height}"}
        for fmt, encode in _encoders().items():
            data, seconds = _timed(lambda enc=encode, im=image: enc(im), repeats)
            found = score(image, data)
            row = rows.setdefault(fmt, {"bytes": [], "ms": [], "score": []})
            row["bytes"].append(len(data))
            row["ms"].append(seconds * 1000)
            row["score"].append(found)
            each[name][fmt] = {"bytes": len(data), "score": round(found, 2)}
    summary = {
        fmt: {
            "bytes": sum(r["bytes"]),
            "encode_ms": round(sum(r["ms"]), 1),
            "score": round(sum(r["score"]) / len(r["score"]), 2),
        }
        for fmt, r in rows.items()
    }
    jpeg = summary["jpeg"]
    for fmt in ("webp", "avif"):
        s = summary[fmt]
        s["saving"] = round(1 - s["bytes"] / jpeg["bytes"], 3)
        s["target"] = TARGET_SAVING[fmt]
        s["passed"] = s["saving"] >= TARGET_SAVING[fmt] and s["score"] >= jpeg["score"]
    return {"per_format": summary, "cases": each}


def avif_efforts(cases: list[Case], log: Any) -> dict[str, Any]:
    """AVIF at our quality over libaom's fast efforts: what effort buys in bytes and time."""
    out: dict[str, Any] = {}
    for effort in EFFORTS:
        log(f"  avif effort {effort}")
        total, ms, scores = 0, 0.0, []
        for _, image in cases:
            data, seconds = _timed(lambda im=image, e=effort: variants.encode_avif(im, effort=e), 1)
            total += len(data)
            ms += seconds * 1000
            scores.append(score(image, data))
        out[str(effort)] = {
            "bytes": total,
            "encode_ms": round(ms, 1),
            "score": round(sum(scores) / len(scores), 2),
        }
    return out


def upload_cost(repeats: int, log: Any) -> dict[str, Any]:
    """The upload's CPU step on a 12 MP photo for Studio, with and without the placeholder
    (the only work formats add to the request; variants are queued, not made)."""
    data = photos.photo_jpeg(*photos.MP12, seed=1)
    specs = plan_specs("Studio")
    primary = next(s for s in specs if s.slug == "high")
    plain: list[float] = []
    placeholder: list[float] = []
    only: list[float] = []
    for _ in range(repeats):
        log("  upload step")
        start = time.perf_counter()
        decoded, _ = imaging.decode_and_render(data, specs, primary, max_pixels=MAX_PIXELS)
        imaging.encode_intermediate(decoded)
        plain.append(time.perf_counter() - start)
        start = time.perf_counter()
        decoded, _ = imaging.decode_and_render(data, specs, primary, max_pixels=MAX_PIXELS)
        imaging.encode_intermediate(decoded)
        mark = time.perf_counter()
        imaging.placeholder(decoded)
        end = time.perf_counter()
        placeholder.append(end - start)
        only.append(end - mark)
    return {
        "without_ms": round(median(plain) * 1000, 1),
        "with_ms": round(median(placeholder) * 1000, 1),
        "placeholder_ms": round(median(only) * 1000, 2),
    }


def worker_cost(seeds: tuple[int, ...], log: Any) -> dict[str, Any]:
    """One core's worker time per Studio image (2 K photo): the renditions made in the
    background from the intermediate, then the same plus its WebP and AVIF variants."""
    specs = plan_specs("Studio")
    jpeg_s: list[float] = []
    formats_s: list[float] = []
    for seed in seeds:
        log(f"  worker work, photo {seed}")
        data = photos.photo_jpeg(*photos.PHOTO_2K, seed=seed)
        decoded = imaging.decode_intermediate(
            imaging.encode_intermediate(imaging.decode(data, specs, max_pixels=MAX_PIXELS))
        )
        start = time.perf_counter()
        for spec in specs:
            if spec.slug != "high":  # the primary is made in the request
                imaging.render(decoded, spec)
        jpeg_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        for spec in specs:
            for fmt in ("webp", "avif"):
                variants.render_variant(decoded, spec, fmt)
        formats_s.append(time.perf_counter() - start + jpeg_s[-1])
    jpeg, both = median(jpeg_s), median(formats_s)
    return {
        "jpeg_only_s": round(jpeg, 3),
        "with_formats_s": round(both, 3),
        "images_per_min_jpeg_only": round(60 / jpeg, 1),
        "images_per_min_with_formats": round(60 / both, 1),
    }


def measure(quick: bool, log: Any) -> dict[str, Any]:
    seeds = SEEDS[:1] if quick else SEEDS
    repeats = 1 if quick else 3
    real = photograph_cases()
    synthetic = synthetic_cases(seeds)
    return {
        "settings": {
            "jpeg": f"q{JPEG_QUALITY}",
            "webp": f"q{variants.WEBP_QUALITY} effort {variants.WEBP_EFFORT} sharp YUV",
            "avif": f"q{variants.AVIF_QUALITY} effort {variants.AVIF_EFFORT} 4:4:4 "
            f"{variants.AVIF_BITDEPTH}-bit",
        },
        "sets": {
            "photographs": {
                "about": f"{len(real)} photographs (scikit-image) at {PHOTO_SIZE.slug}",
                **per_format(real, repeats, log),
            },
            "synthetic": {
                "about": f"{len(seeds)} synthetic {photos.PHOTO_2K[0]}x{photos.PHOTO_2K[1]} "
                f"photos at {', '.join(s.slug for s in SIZES)}",
                **per_format(synthetic, repeats, log),
            },
        },
        "avif_efforts": avif_efforts(real, log),
        "upload": upload_cost(2 if quick else 5, log),
        "workers": worker_cost(seeds, log),
    }


def _format_rows(per: dict[str, Any]) -> list[str]:
    lines = [
        "| format | bytes | vs JPEG | encode | SSIMULACRA2 | target |",
        "|---|---|---|---|---|---|",
    ]
    for fmt, row in per.items():
        target = "baseline"
        saving = ""
        if fmt != "jpeg":
            saving = f"{-row['saving']:+.0%}"
            verdict = "PASS" if row["passed"] else "FAIL"
            target = f">= {row['target']:.0%} fewer at >= JPEG's score: {verdict}"
        lines.append(
            f"| {fmt} | {row['bytes']:,} | {saving} | {row['encode_ms']:.0f} ms "
            f"| {row['score']:.1f} | {target} |"
        )
    return lines


def _case_rows(cases: dict[str, Any]) -> list[str]:
    lines = [
        "| image | size | JPEG bytes, score | WebP bytes, score | AVIF bytes, score |",
        "|---|---|---|---|---|",
    ]
    for name, row in cases.items():
        jpeg = row["jpeg"]["bytes"]
        cells = [f"{row['jpeg']['bytes']:,}, {row['jpeg']['score']:.1f}"]
        for fmt in ("webp", "avif"):
            got = row[fmt]
            cells.append(f"{got['bytes']:,} ({got['bytes'] / jpeg - 1:+.0%}), {got['score']:.1f}")
        lines.append(f"| {name} | {row['size']} | {' | '.join(cells)} |")
    return lines


def table(found: dict[str, Any]) -> str:
    settings = ", ".join(f"{k} {v}" for k, v in found["settings"].items())
    lines = [f"Formats: {settings}"]
    for part in found["sets"].values():
        lines += ["", f"Formats on {part['about']}", "", *_format_rows(part["per_format"])]
    lines += ["", "Each image:", ""]
    lines += _case_rows({k: v for part in found["sets"].values() for k, v in part["cases"].items()})
    lines += ["", "| AVIF effort | bytes | encode | SSIMULACRA2 |", "|---|---|---|---|"]
    for effort, row in found["avif_efforts"].items():
        lines.append(
            f"| {effort} | {row['bytes']:,} | {row['encode_ms']:.0f} ms | {row['score']:.1f} |"
        )
    up, work = found["upload"], found["workers"]
    lines += [
        "",
        "| upload step, 12 MP, Studio | without placeholder | with | placeholder alone |",
        "|---|---|---|---|",
        f"| median | {up['without_ms']:.0f} ms | {up['with_ms']:.0f} ms "
        f"| {up['placeholder_ms']:.1f} ms |",
        "",
        "| worker, one core, per Studio image (2 K) | JPEG only | with WebP + AVIF |",
        "|---|---|---|",
        f"| time | {work['jpeg_only_s']:.2f} s | {work['with_formats_s']:.2f} s |",
        f"| images per minute | {work['images_per_min_jpeg_only']} "
        f"| {work['images_per_min_with_formats']} |",
    ]
    return "\n".join(lines)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.formats")
    parser.add_argument("--quick", action="store_true", help="one synthetic photo, one repeat")
    args = parser.parse_args(argv)
    found = measure(args.quick, log)
    print(table(found))
    print()
    print(json.dumps(found, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
