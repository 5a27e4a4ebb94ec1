"""ThumbHash placeholders: a ~25-byte blurred sketch of an image, painted before it loads.

A port of the reference encoder (github.com/evanw/thumbhash, MIT), whose
decoder we serve as static/vendor/thumbhash-*.js; tests compare the bytes
with the reference encoder. The DCT is computed separably (rows, then
columns) on a copy at most `SIDE` pixels across, so it costs a few
milliseconds of Python on the upload path.
"""

from __future__ import annotations

import base64
import math
from typing import Final

from imageuploader.imaging.intermediate import Decoded

SIDE: Final = 32  # the reference accepts up to 100; 32 keeps the Python loop short


def _round(value: float) -> int:
    """JavaScript's Math.round (half up), which the reference uses."""
    return math.floor(value + 0.5)


def _encode_channel(
    channel: list[float], w: int, h: int, nx: int, ny: int
) -> tuple[float, list[float], float]:
    dc, ac, scale = 0.0, [], 0.0
    cos_x = [[math.cos(math.pi / w * cx * (x + 0.5)) for x in range(w)] for cx in range(nx)]
    rows = [channel[y * w : (y + 1) * w] for y in range(h)]
    # Row sums per horizontal frequency: the separable half of the 2-D DCT.
    row_sums = [
        [sum(v * c for v, c in zip(row, cos_x[cx], strict=True)) for row in rows]
        for cx in range(nx)
    ]
    for cy in range(ny):
        cos_y = [math.cos(math.pi / h * cy * (y + 0.5)) for y in range(h)]
        cx = 0
        while cx * ny < nx * (ny - cy):
            f = sum(s * c for s, c in zip(row_sums[cx], cos_y, strict=True)) / (w * h)
            if cx or cy:
                ac.append(f)
                scale = max(scale, abs(f))
            else:
                dc = f
            cx += 1
    if scale:
        ac = [0.5 + 0.5 / scale * f for f in ac]
    return dc, ac, scale


def rgba_to_thumbhash(w: int, h: int, rgba: bytes) -> bytes:
    """The ThumbHash of `w` x `h` RGBA pixels (each side at most 100)."""
    if not (0 < w <= 100 and 0 < h <= 100) or len(rgba) != w * h * 4:
        raise ValueError(f"{w}x{h} RGBA does not fit in 100x100")
    pixels = range(w * h)
    alphas = [rgba[i * 4 + 3] / 255 for i in pixels]
    avg_a = sum(alphas)
    avg = [sum(alphas[i] / 255 * rgba[i * 4 + c] for i in pixels) for c in range(3)]
    if avg_a:
        avg = [v / avg_a for v in avg]
    has_alpha = avg_a < w * h
    l_limit = 5 if has_alpha else 7
    lx = max(1, _round(l_limit * w / max(w, h)))
    ly = max(1, _round(l_limit * h / max(w, h)))
    lum, p, q = [], [], []
    for i in pixels:
        alpha = alphas[i]
        r, g, b = (avg[c] * (1 - alpha) + alpha / 255 * rgba[i * 4 + c] for c in range(3))
        lum.append((r + g + b) / 3)
        p.append((r + g) / 2 - b)
        q.append(r - g)
    l_dc, l_ac, l_scale = _encode_channel(lum, w, h, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = _encode_channel(p, w, h, 3, 3)
    q_dc, q_ac, q_scale = _encode_channel(q, w, h, 3, 3)
    landscape = w > h
    header24 = (
        _round(63 * l_dc)
        | (_round(31.5 + 31.5 * p_dc) << 6)
        | (_round(31.5 + 31.5 * q_dc) << 12)
        | (_round(31 * l_scale) << 18)
        | (int(has_alpha) << 23)
    )
    header16 = (
        (ly if landscape else lx)
        | (_round(63 * p_scale) << 3)
        | (_round(63 * q_scale) << 9)
        | (int(landscape) << 15)
    )
    out = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8]
    channels = [l_ac, p_ac, q_ac]
    if has_alpha:
        a_dc, a_ac, a_scale = _encode_channel(alphas, w, h, 5, 5)
        out.append(_round(15 * a_dc) | (_round(15 * a_scale) << 4))
        channels.append(a_ac)
    start = len(out)
    index = 0
    for ac in channels:
        for f in ac:
            slot = start + (index >> 1)
            if slot == len(out):
                out.append(0)
            out[slot] |= _round(15 * f) << ((index & 1) << 2)
            index += 1
    return bytes(out)


def placeholder(decoded: Decoded) -> str:
    """The ThumbHash of a decoded image, base64-encoded for JSON and HTML attributes."""
    small = decoded.image.thumbnail_image(SIDE, height=SIDE, size="down")
    if not small.hasalpha():
        small = small.bandjoin(255)
    rgba = bytes(small.cast("uchar").write_to_memory())
    return base64.b64encode(rgba_to_thumbhash(small.width, small.height, rgba)).decode()
