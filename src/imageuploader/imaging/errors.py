"""Refusals of the image pipeline, as kinds of the one error hierarchy (`imageuploader.errors`)."""

from __future__ import annotations

from typing import ClassVar

from imageuploader.errors import DomainError, InvalidInput, Unsupported


class ImagingError(DomainError):
    """Base of every error the imaging package raises on purpose.

    `message` (also `detail`) is written for the person who uploaded the file;
    `code` is a stable machine-readable slug for JSON clients.
    """

    code: ClassVar[str] = "imaging_error"

    @property
    def message(self) -> str:
        return self.detail


class UnsupportedImageType(ImagingError, Unsupported):
    """The bytes are not one of the accepted image formats."""

    code = "unsupported_image_type"


class ImageTooLarge(ImagingError, InvalidInput):
    """The header announces more pixels than allowed."""

    code = "image_too_large"


class CorruptImage(ImagingError, InvalidInput):
    """The file claims to be an image but cannot be decoded completely."""

    code = "corrupt_image"


class ResolutionMismatch(ImagingError, InvalidInput):
    """The resolution declared by the uploader differs from the real one."""

    code = "resolution_mismatch"


class ResolutionTooSmall(ImagingError, InvalidInput):
    """The image is smaller than the configured minimum resolution."""

    code = "resolution_too_small"
