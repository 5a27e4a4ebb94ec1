"""Domain errors of the image pipeline, each carrying the HTTP status the web layer maps it to."""

from __future__ import annotations

from typing import ClassVar


class ImagingError(Exception):
    """Base of every error the imaging package raises on purpose.

    `message` is written for the person who uploaded the file; `code` is a
    stable machine-readable slug for JSON clients; `status_code` is the HTTP
    status the web layer should answer with.
    """

    status_code: ClassVar[int] = 422
    code: ClassVar[str] = "imaging_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedImageType(ImagingError):
    """The bytes are not one of the accepted image formats."""

    status_code = 415
    code = "unsupported_image_type"


class ImageTooLarge(ImagingError):
    """The header announces more pixels than allowed."""

    status_code = 422
    code = "image_too_large"


class CorruptImage(ImagingError):
    """The file claims to be an image but cannot be decoded completely."""

    status_code = 422
    code = "corrupt_image"


class ResolutionMismatch(ImagingError):
    """The resolution declared by the uploader differs from the real one."""

    status_code = 422
    code = "resolution_mismatch"


class ResolutionTooSmall(ImagingError):
    """The image is smaller than the configured minimum resolution."""

    status_code = 422
    code = "resolution_too_small"
