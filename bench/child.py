"""Entry for `python -m bench.child`: one rendition-set measurement in a fresh process.

    python -m bench.child METHOD PHOTO WARMUP JOB_JSON

prints one JSON line: seconds for the timed run, and the process's peak RSS
before and after it. A fresh process per measurement keeps one method's
memory (and libvips' caches) out of another's figures. Each method imports
only what it needs, and first runs once on a tiny WARMUP photo so that codec
set-up and thread start are not timed.

JOB_JSON: {"specs": [[slug, width, height, fit], ...], "primary": slug,
           "targets": [[width, height], ...] (per spec, for this photo),
           "max_pixels": int}
"""

from __future__ import annotations

import io
import json
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

JPEG_QUALITY = 85  # the pipeline's; every method encodes alike


def peak_rss_mib() -> float:
    """This process's peak resident set so far, in MiB.

    VmHWM, not getrusage: Linux carries ru_maxrss over from the parent across
    fork and exec, so a child of a large parent would report the parent's peak.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: KiB too


def ours(data: bytes, job: dict[str, Any]) -> int:
    """The app's pipeline: the upload's one decode, sized for every spec, with the
    plan's primary encoded on the way (and stored again for any size whose output
    is identical, as the upload does); then one render per other spec from it."""
    from imageuploader import imaging

    specs = [imaging.SizeSpec(*spec) for spec in job["specs"]]
    primary = next(spec for spec in specs if spec.slug == job["primary"])
    decoded, first = imaging.decode_and_render(data, specs, primary, max_pixels=job["max_pixels"])
    info = decoded.info
    same = imaging.twins(specs, primary, info.oriented_width, info.oriented_height)
    rest = [spec for spec in specs if spec is not primary and spec.slug not in same]
    total = len(first.data) * (1 + len(same))
    return total + sum(len(imaging.render(decoded, spec).data) for spec in rest)


def floor(data: bytes, job: dict[str, Any]) -> int:
    """The least any libvips pipeline can do: one decode at the largest shrink-on-load
    factor that still covers the largest rendition, one resize, one encode.

    libvips' own thumbnail_buffer is not this: it leaves a factor of two to its
    final resize and so decodes a 12 MP photo in full for a 1024-pixel target.
    """
    import pyvips

    width, height = max(job["targets"], key=lambda t: t[0] * t[1])
    header = pyvips.Image.new_from_buffer(data, "")
    shrink = next(
        (
            f
            for f in (8, 4, 2)
            if -(-header.width // f) >= width and -(-header.height // f) >= height
        ),
        1,
    )
    image = pyvips.Image.new_from_buffer(data, "", shrink=shrink, access="sequential")
    image = image.thumbnail_image(width, height=height, size="down")
    out: bytes = image.jpegsave_buffer(Q=JPEG_QUALITY, keep="none", optimize_coding=True)
    return len(out)


def pillow(data: bytes, job: dict[str, Any]) -> int:
    """The naive way: Pillow decodes the whole image, LANCZOS per size."""
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    if image.mode != "RGB":
        image = image.convert("RGB")
    total = 0
    for width, height in job["targets"]:
        out = io.BytesIO()
        image.resize((width, height), Image.Resampling.LANCZOS).save(
            out, "JPEG", quality=JPEG_QUALITY, optimize=True
        )
        total += out.tell()
    return total


METHODS: dict[str, Callable[[bytes, dict[str, Any]], int]] = {
    "ours": ours,
    "floor": floor,
    "pillow": pillow,
}


def measure(method: str, photo: bytes, warmup: bytes, job: dict[str, Any]) -> dict[str, float]:
    run = METHODS[method]
    run(warmup, {**job, "targets": [[min(w, 32), min(h, 24)] for w, h in job["targets"]]})
    base = peak_rss_mib()
    start = time.perf_counter()
    size = run(photo, job)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "base_rss_mib": base, "peak_rss_mib": peak_rss_mib(), "bytes": size}


def main(argv: list[str]) -> None:
    method, photo, warmup, job = argv
    result = measure(method, Path(photo).read_bytes(), Path(warmup).read_bytes(), json.loads(job))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
