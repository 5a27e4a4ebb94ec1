"""What happens to images that others may react to: every rendition settled, an image deleted.

Published by the image services and workers after the change is committed;
listeners (webhooks) subscribe at the composition root, so `images` never
knows who listens.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ImageReady:
    """Every rendition of the image is ready. `version` differs for each settled state
    (a reprocess gives a new one), so a listener can tell a repeat from a new outcome."""

    image_id: str
    owner: int
    version: str


@dataclass(frozen=True)
class ImageFailed:
    """No rendition is pending any more and at least one failed."""

    image_id: str
    owner: int
    version: str


@dataclass(frozen=True)
class ImageDeleted:
    """The image and its renditions are gone."""

    image_id: str
    owner: int
