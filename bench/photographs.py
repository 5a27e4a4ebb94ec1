"""Real photographs for the quality benches: the colour photos that scikit-image's wheel ships.

The synthetic photos (bench.photos) are smooth blobs under per-pixel random
grain: right for decode and resize costs, wrong for judging lossy encoders,
which spend their bits on edges and texture and treat grain as noise. These
five are camera photographs of everyday subjects, read from the installed
scikit-image dev dependency: no download, the same pixels every run. The
other colour images it ships are left out as unlike an upload (a retinal
scan, a deep-sky field, a microscope slide, a logo, a colour wheel) or as the
same scene again (the stereo pair's right view).
"""

from __future__ import annotations

from importlib import resources
from typing import Final

# Our name -> file in skimage/data (all 8-bit sRGB, 451x300 to 741x500 pixels).
FILES: Final[dict[str, str]] = {
    "astronaut": "astronaut.png",
    "chelsea": "chelsea.png",
    "coffee": "coffee.png",
    "rocket": "rocket.jpg",
    "motorcycle": "motorcycle_left.png",
}


def photograph(name: str) -> bytes:
    """The file's bytes, as an upload would bring them."""
    return (resources.files("skimage") / "data" / FILES[name]).read_bytes()
