"""Image pipeline package: pure libvips code turning uploads into checked, encoded renditions.

No database, storage, HTTP or settings here; callers pass limits in.
"""

from imageuploader.imaging.errors import (
    CorruptImage,
    ImageTooLarge,
    ImagingError,
    ResolutionMismatch,
    ResolutionTooSmall,
    UnsupportedImageType,
)
from imageuploader.imaging.geometry import SizeSpec, Target, target, twins
from imageuploader.imaging.intermediate import (
    Decoded,
    covers,
    decode_intermediate,
    encode_intermediate,
)
from imageuploader.imaging.metadata import strip_metadata
from imageuploader.imaging.pipeline import (
    Rendered,
    decode,
    decode_and_render,
    render,
    render_all,
)
from imageuploader.imaging.placeholder import placeholder
from imageuploader.imaging.probe import ImageInfo, parse_resolution, probe

__all__ = [
    "CorruptImage",
    "Decoded",
    "ImageInfo",
    "ImageTooLarge",
    "ImagingError",
    "Rendered",
    "ResolutionMismatch",
    "ResolutionTooSmall",
    "SizeSpec",
    "Target",
    "UnsupportedImageType",
    "covers",
    "decode",
    "decode_and_render",
    "decode_intermediate",
    "encode_intermediate",
    "parse_resolution",
    "placeholder",
    "probe",
    "render",
    "render_all",
    "strip_metadata",
    "target",
    "twins",
]
