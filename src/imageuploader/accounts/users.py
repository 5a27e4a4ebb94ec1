"""Users and API tokens: authentication, the current user, and user admin."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio
import msgspec

from imageuploader.accounts import catalog
from imageuploader.accounts.schemas import PlanOut, TokenInfo, UserIn, UserOut, UserPatch
from imageuploader.accounts.tables import ApiToken, Plan, User
from imageuploader.errors import Conflict, InvalidInput, NotFound


@dataclass(frozen=True)
class CurrentUser:
    """Who is making the request, with the plan that decides what they get."""

    id: int
    username: str
    is_admin: bool
    plan: PlanOut | None

    @property
    def sizes(self) -> list[str]:
        return self.plan.sizes if self.plan else []


MAX_ROW_ID = 2**63 - 1  # the largest BIGINT / SQLite INTEGER


def _now() -> datetime:
    return datetime.now(UTC)


def hash_token(raw: str) -> str:
    """Tokens are high-entropy, so a plain SHA-256 digest is a safe lookup key."""
    return hashlib.sha256(raw.encode()).hexdigest()


def _check_password(password: str, stored: str) -> bool:
    """Verify with BaseUser's own hasher (PBKDF2); CPU-heavy, run in a thread."""
    try:
        _, iterations, salt, _ = User.split_stored_password(stored)
        candidate = User.hash_password(password, salt, int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(candidate, stored)


async def authenticate(username: str, password: str) -> int | None:
    """Return the id of an active user with these credentials, else None."""
    if len(password) > User._max_password_length:
        return None
    row = (
        await User.select(User.id, User.password, User.active)
        .where(User.username == username)
        .first()
    )
    if row is None:
        # Spend the same time as a real check so timing does not reveal names.
        await anyio.to_thread.run_sync(User.hash_password, password)
        return None
    ok = await anyio.to_thread.run_sync(_check_password, password, row["password"])
    if not ok or not row["active"]:
        return None
    await User.update({User.last_login: datetime.now()}).where(User.id == row["id"])
    return row["id"]


async def load_user(user_id: int) -> CurrentUser | None:
    """The active user with this id and their plan, or None."""
    row = (
        await User.select(
            User.id, User.username, User.admin, User.active, User.plan.name.as_alias("plan_name")
        )
        .where(User.id == user_id)
        .first()
    )
    if row is None or not row["active"]:
        return None
    plan = await catalog.get_plan(row["plan_name"]) if row["plan_name"] else None
    return CurrentUser(id=row["id"], username=row["username"], is_admin=row["admin"], plan=plan)


async def issue_token(user_id: int, name: str = "") -> tuple[str, int]:
    """Create a bearer token; the raw value is returned once and never stored."""
    raw = secrets.token_urlsafe(32)
    token = ApiToken(user=user_id, token_hash=hash_token(raw), name=name)
    await token.save()
    return raw, token.id


async def user_for_token(raw: str) -> tuple[CurrentUser, int] | None:
    """The user a live token belongs to, with the token's id."""
    row = (
        await ApiToken.select(ApiToken.id, ApiToken.user)
        .where((ApiToken.token_hash == hash_token(raw)) & ApiToken.revoked_at.is_null())
        .first()
    )
    if row is None:
        return None
    user = await load_user(row["user"])
    if user is None:
        return None
    await ApiToken.update({ApiToken.last_used_at: _now()}).where(ApiToken.id == row["id"])
    return user, row["id"]


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


async def revoke_token(user_id: int, token_id: int) -> None:
    """Revoke one of the user's own tokens; someone else's is 'not found'."""
    if not 0 < token_id <= MAX_ROW_ID:
        # An id no row can have; the databases refuse such integers outright (a 500).
        raise NotFound(f"No token with id {token_id}.")
    exists = await ApiToken.exists().where((ApiToken.id == token_id) & (ApiToken.user == user_id))
    if not exists:
        raise NotFound(f"No token with id {token_id}.")
    await ApiToken.update({ApiToken.revoked_at: _now()}).where(
        (ApiToken.id == token_id) & ApiToken.revoked_at.is_null()
    )


async def _plan_id(name: str) -> int:
    row = await Plan.select(Plan.id).where(Plan.name == name).first()
    if row is None:
        raise InvalidInput(f"No plan named {name!r}.")
    return row["id"]


async def _user_out(username: str) -> UserOut:
    users = await list_users(username)
    if not users:
        raise NotFound(f"No user named {username!r}.")
    return users[0]


async def list_users(username: str | None = None) -> list[UserOut]:
    """Users (or one) with their plans, in a constant number of queries."""
    query = User.select(
        User.id,
        User.username,
        User.admin,
        User.active,
        User.created_at,
        User.plan.name.as_alias("plan_name"),
    ).order_by(User.id)
    if username is not None:
        query = query.where(User.username == username)
    rows = await query
    plans = {p.name: p for p in await catalog.list_plans()}
    return [
        UserOut(
            id=r["id"],
            username=r["username"],
            is_admin=r["admin"],
            active=r["active"],
            plan=plans.get(r["plan_name"]),
            created_at=r["created_at"],
        )
        for r in rows
    ]


async def get_user(username: str) -> UserOut:
    return await _user_out(username)


async def create_user(data: UserIn) -> UserOut:
    plan_id = await _plan_id(data.plan)
    if await User.exists().where(User.username == data.username):
        raise Conflict(f"A user named {data.username!r} already exists.")
    try:
        User._validate_password(data.password)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    password = await anyio.to_thread.run_sync(User.hash_password, data.password)
    user = User(
        username=data.username,
        password=password,
        plan=plan_id,
        admin=data.is_admin,
        active=True,
    )
    await user.save()
    return await _user_out(data.username)


async def update_user(username: str, data: UserPatch, *, acting_user_id: int) -> UserOut:
    """Change plan, admin flag, active flag or password."""
    current = await _user_out(username)
    values: dict = {}
    if data.plan is not msgspec.UNSET:
        values[User.plan] = await _plan_id(data.plan)
    if data.is_admin is not msgspec.UNSET:
        if current.id == acting_user_id and not data.is_admin:
            raise Conflict("You cannot remove your own admin rights.")
        values[User.admin] = data.is_admin
    if data.active is not msgspec.UNSET:
        if current.id == acting_user_id and not data.active:
            raise Conflict("You cannot deactivate yourself.")
        values[User.active] = data.active
    if data.password is not msgspec.UNSET:
        try:
            User._validate_password(data.password)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        values[User.password] = await anyio.to_thread.run_sync(User.hash_password, data.password)
    if values:
        await User.update(values).where(User.id == current.id)
    if values.get(User.active) is False:
        await ApiToken.update({ApiToken.revoked_at: _now()}).where(
            (ApiToken.user == current.id) & ApiToken.revoked_at.is_null()
        )
    return await _user_out(username)


async def deactivate_user(username: str, *, acting_user_id: int) -> UserOut:
    return await update_user(username, UserPatch(active=False), acting_user_id=acting_user_id)
