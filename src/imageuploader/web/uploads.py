"""The multipart upload form shared by the JSON API and the upload page."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import UploadFile

from imageuploader.errors import InvalidInput
from imageuploader.web.text import refuse_nul

# How HTML checkboxes ("on") and API clients spell a yes or a no.
YES = frozenset({"1", "true", "on", "yes"})
NO = frozenset({"", "0", "false", "off", "no"})


@dataclass
class UploadForm:
    """multipart/form-data fields of POST /api/images and POST /upload."""

    file: UploadFile
    caption: str = ""
    resolution: str | None = None
    # Keep the original's location and device metadata (default: removed).
    keep_metadata: str | None = None

    def __post_init__(self) -> None:
        # Multipart bodies pass RejectNulMiddleware unread (the file may hold NULs).
        refuse_nul(self.caption, "caption")
        refuse_nul(self.resolution, "resolution")
        refuse_nul(self.keep_metadata, "keep_metadata")

    @property
    def keeps_metadata(self) -> bool:
        value = (self.keep_metadata or "").strip().lower()
        if value in YES:
            return True
        if value in NO:
            return False
        raise InvalidInput("keep_metadata: expected true or false.")

    async def read_file(self) -> bytes:
        """The file's bytes; its spooled temporary file is closed either way."""
        try:
            return await self.file.read()
        finally:
            await self.file.close()
