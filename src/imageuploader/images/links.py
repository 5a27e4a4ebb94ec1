"""Expiring links: presigned S3 URLs, or app URLs carrying an HMAC-signed token.

A local-storage link is `/s/{token}`; the token names the image, the rendition
and the expiry, signed with SECRET_KEY by itsdangerous, so serving it needs no
database row of its own and any changed character fails the signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
import msgspec
from itsdangerous import BadSignature, URLSafeSerializer

from imageuploader.accounts.users import CurrentUser
from imageuploader.clock import Clock, utcnow
from imageuploader.errors import Forbidden, Gone, InvalidInput
from imageuploader.images import access, keys
from imageuploader.images.locate import Located, locate
from imageuploader.images.media import MediaService
from imageuploader.storage import Storage

MIN_SECONDS = 300
MAX_SECONDS = 30_000
SHARED_PATH = "/s/"
MAX_VERIFIED = 10_000
_SALT = "imageuploader.expiring-link"


class ExpiringLinkIn(msgspec.Struct, forbid_unknown_fields=True):
    """Body of POST /api/images/{id}/expiring-links."""

    seconds: int
    rendition: str = keys.ORIGINAL


class ExpiringLinkOut(msgspec.Struct):
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class SignedTarget:
    """What a valid token grants: one object of one image until `expires_at`."""

    image_id: str
    slug: str
    expires_at: datetime


class LinkService:
    def __init__(
        self,
        storage: Storage,
        secret_key: str,
        media: MediaService,
        clock: Clock = utcnow,
    ) -> None:
        self.storage = storage
        self.media = media
        self.clock = clock
        self._signer = URLSafeSerializer(secret_key, salt=_SALT)
        self._verified: dict[str, SignedTarget] = {}

    async def create(
        self,
        user: CurrentUser,
        image_id: str,
        seconds: int,
        rendition: str = keys.ORIGINAL,
        *,
        base_url: str = "",
    ) -> ExpiringLinkOut:
        """A link to `rendition` of the caller's image that anyone may open until expiry."""
        # bool is an int in Python; a JSON `true` is not a duration.
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            raise InvalidInput("seconds: must be a whole number.")
        if not MIN_SECONDS <= seconds <= MAX_SECONDS:
            raise InvalidInput(
                f"seconds: must be between {MIN_SECONDS} and {MAX_SECONDS} (got {seconds})."
            )
        image, plan = await access.visible_image(user, image_id)
        access.require_sharing(plan)
        found = await locate(image, rendition, plan)
        expires_at = self.clock().replace(microsecond=0) + timedelta(seconds=seconds)
        url = await anyio.to_thread.run_sync(
            lambda: self.storage.presign_get(
                found.location,
                found.key,
                timedelta(seconds=seconds),
                response_content_type=found.content_type,
                response_content_disposition=found.disposition,
            )
        )
        if url is None:
            # The name as asked ("h200" negotiates at each request, "h200.webp" does not).
            name = rendition if "." in rendition else found.slug
            token = self._signer.dumps([found.image_id, name, int(expires_at.timestamp())])
            url = f"{base_url.rstrip('/')}{SHARED_PATH}{token}"
        return ExpiringLinkOut(url=url, expires_at=expires_at)

    def verify(self, token: str) -> SignedTarget:
        """The target of a token; Forbidden if it was altered, Gone if too old."""
        target = self._verified.get(token)
        if target is None:
            target = self._check_signature(token)
            # A genuine token names the same target for good (only its expiry is
            # checked again): opening a link again needs no HMAC. Only genuine
            # tokens are kept, so guesses cannot fill this.
            if len(self._verified) >= MAX_VERIFIED:
                self._verified.clear()
            self._verified[token] = target
        if self.clock() > target.expires_at:
            raise Gone("This link has expired.")
        return target

    def _check_signature(self, token: str) -> SignedTarget:
        try:
            payload = self._signer.loads(token)
            image_id, slug, expires = payload
        except (BadSignature, ValueError, TypeError):
            raise Forbidden("This link is not valid.") from None
        # base64 ignores the spare low bits of a final character, so a changed
        # last character can still decode to the same signature: only the exact
        # token we issued is accepted.
        if self._signer.dumps(payload) != token:
            raise Forbidden("This link is not valid.")
        expires_at = datetime.fromtimestamp(expires, UTC)
        return SignedTarget(image_id=image_id, slug=slug, expires_at=expires_at)

    async def resolve(self, token: str, accept: str | None = None) -> tuple[Located, SignedTarget]:
        """The stored object a token grants, if its image and the owner's plan still allow it.

        A link made for a rendition without a format negotiates on `accept` at
        each request; one made for `h200.webp` always serves that format.
        """
        target = self.verify(token)
        return await self.media.find_shared(target.image_id, target.slug, accept), target
