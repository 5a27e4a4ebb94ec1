"""API bearer tokens: issued once in the clear, stored as digests, revocable."""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING

from imageuploader.accounts.schemas import TokenInfo
from imageuploader.accounts.tables import ApiToken
from imageuploader.clock import utcnow
from imageuploader.errors import NotFound

if TYPE_CHECKING:
    from imageuploader.accounts.cache import AccountCache

# Ids are SERIAL: 32-bit on PostgreSQL (SQLite would take 64); a larger one names no row.
MAX_ROW_ID = 2**31 - 1


def hash_token(raw: str) -> str:
    """Tokens are high-entropy, so a plain SHA-256 digest is a safe lookup key."""
    return hashlib.sha256(raw.encode()).hexdigest()


async def issue_token(user_id: int, name: str = "") -> tuple[str, int]:
    """Create a bearer token; the raw value is returned once and never stored."""
    raw = secrets.token_urlsafe(32)
    token = ApiToken(user=user_id, token_hash=hash_token(raw), name=name)
    await token.save()
    return raw, token.id


async def live_token(digest: str) -> tuple[int, int] | None:
    """(token id, user id) of the unrevoked token with this digest."""
    row = (
        await ApiToken.select(ApiToken.id, ApiToken.user)
        .where((ApiToken.token_hash == digest) & ApiToken.revoked_at.is_null())
        .first()
    )
    return (row["id"], row["user"]) if row else None


async def touch(token_id: int) -> None:
    await ApiToken.update({ApiToken.last_used_at: utcnow()}).where(ApiToken.id == token_id)


async def revoke_all(user_id: int, *, keep: int | None = None) -> None:
    """Revoke every live token of the user, but `keep` (the one a request was made with)."""
    where = (ApiToken.user == user_id) & ApiToken.revoked_at.is_null()
    if keep is not None:
        where &= ApiToken.id != keep
    await ApiToken.update({ApiToken.revoked_at: utcnow()}).where(where)


async def list_tokens(user_id: int) -> list[TokenInfo]:
    rows = await ApiToken.select().where(ApiToken.user == user_id).order_by(ApiToken.id)
    return [
        TokenInfo(
            id=r["id"],
            name=r["name"],
            created_at=r["created_at"],
            last_used_at=r["last_used_at"],
            revoked=r["revoked_at"] is not None,
        )
        for r in rows
    ]


async def revoke_token(user_id: int, token_id: int, *, accounts: AccountCache) -> None:
    """Revoke one of the user's own tokens; someone else's is 'not found'."""
    if not 0 < token_id <= MAX_ROW_ID:
        # An id no row can have; the databases refuse such integers outright (a 500).
        raise NotFound(f"No token with id {token_id}.")
    exists = await ApiToken.exists().where((ApiToken.id == token_id) & (ApiToken.user == user_id))
    if not exists:
        raise NotFound(f"No token with id {token_id}.")
    await ApiToken.update({ApiToken.revoked_at: utcnow()}).where(
        (ApiToken.id == token_id) & ApiToken.revoked_at.is_null()
    )
    await accounts.changed()
