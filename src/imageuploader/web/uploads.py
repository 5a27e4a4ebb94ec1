"""The multipart upload form shared by the JSON API and the upload page."""

from __future__ import annotations

from dataclasses import dataclass

from litestar.datastructures import UploadFile


@dataclass
class UploadForm:
    """multipart/form-data fields of POST /api/images and POST /upload."""

    file: UploadFile
    caption: str = ""
    resolution: str | None = None

    async def read_file(self) -> bytes:
        """The file's bytes; its spooled temporary file is closed either way."""
        try:
            return await self.file.read()
        finally:
            await self.file.close()
