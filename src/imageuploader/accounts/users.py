"""Users: signing in, the current user with their plan, and user administration."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio
import msgspec

from imageuploader.accounts import plans, tokens
from imageuploader.accounts.events import UserPlanChanged
from imageuploader.accounts.schemas import PlanOut, UserIn, UserOut, UserPatch
from imageuploader.accounts.tables import Plan, User
from imageuploader.clock import utcnow
from imageuploader.errors import Conflict, InvalidInput, NotFound
from imageuploader.events import EventBus

if TYPE_CHECKING:
    from imageuploader.accounts.cache import AccountCache


@dataclass(frozen=True)
class CurrentUser:
    """Who is making the request, with the plan that decides what they get."""

    id: int
    username: str
    is_admin: bool
    plan: PlanOut | None
    # A session is honoured only while it carries this epoch (see `end_sessions`).
    epoch: int = 0

    @property
    def sizes(self) -> list[str]:
        return self.plan.sizes if self.plan else []


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
    # BaseUser's last_login is a naive TIMESTAMP column: it holds UTC without the zone.
    await User.update({User.last_login: utcnow().replace(tzinfo=None)}).where(User.id == row["id"])
    return row["id"]


async def load_user(
    user_id: int, catalogue: Mapping[str, PlanOut] | None = None
) -> CurrentUser | None:
    """The active user with this id and their plan (from `catalogue` when given), or None."""
    row = (
        await User.select(
            User.id,
            User.username,
            User.admin,
            User.active,
            User.session_epoch,
            User.plan.name.as_alias("plan_name"),
        )
        .where(User.id == user_id)
        .first()
    )
    if row is None or not row["active"]:
        return None
    name = row["plan_name"]
    if name is None:
        plan = None
    elif catalogue is not None:
        plan = catalogue.get(name)
    else:
        plan = await plans.get_plan(name)
    return CurrentUser(
        id=row["id"],
        username=row["username"],
        is_admin=row["admin"],
        plan=plan,
        epoch=row["session_epoch"],
    )


async def end_sessions(user_id: int, *, keep_token: int | None = None) -> int:
    """End every session and token of the user (but `keep_token`); return the new epoch.

    Sessions live in a store keyed by a random id, so they are not hunted down:
    each carries the epoch it began in, and moving the epoch on orphans them all.
    """
    await User.update({User.session_epoch: User.session_epoch + 1}).where(User.id == user_id)
    await tokens.revoke_all(user_id, keep=keep_token)
    row = await User.select(User.session_epoch).where(User.id == user_id).first()
    return int(row["session_epoch"]) if row else 0


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
    by_name = {p.name: p for p in await plans.list_plans()}
    return [
        UserOut(
            id=r["id"],
            username=r["username"],
            is_admin=r["admin"],
            active=r["active"],
            plan=by_name.get(r["plan_name"]),
            created_at=r["created_at"],
        )
        for r in rows
    ]


async def get_user(username: str) -> UserOut:
    found = await list_users(username)
    if not found:
        raise NotFound(f"No user named {username!r}.")
    return found[0]


async def _plan_id(name: str) -> int:
    row = await Plan.select(Plan.id).where(Plan.name == name).first()
    if row is None:
        raise InvalidInput(f"No plan named {name!r}.")
    return row["id"]


async def _hashed(password: str) -> str:
    try:
        User._validate_password(password)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    return await anyio.to_thread.run_sync(User.hash_password, password)


class UserService:
    """Creating and changing users; a change of plan is published as UserPlanChanged.

    A new password or a deactivation ends every session and token of the user;
    every change reaches the account cache of every process before returning.
    """

    def __init__(self, events: EventBus, accounts: AccountCache) -> None:
        self.events = events
        self.accounts = accounts

    async def create(self, data: UserIn) -> UserOut:
        plan_id = await _plan_id(data.plan)
        if await User.exists().where(User.username == data.username):
            raise Conflict(f"A user named {data.username!r} already exists.")
        user = User(
            username=data.username,
            password=await _hashed(data.password),
            plan=plan_id,
            admin=data.is_admin,
            active=True,
        )
        await user.save()
        return await get_user(data.username)

    async def update(self, username: str, data: UserPatch, *, acting_user_id: int) -> UserOut:
        """Change plan, admin flag, active flag or password."""
        current = await get_user(username)
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
            values[User.password] = await _hashed(data.password)
        if values:
            await User.update(values).where(User.id == current.id)
        if User.password in values or values.get(User.active) is False:
            await end_sessions(current.id)
        if values:
            await self.accounts.changed()
        updated = await get_user(username)
        new_plan = updated.plan.name if updated.plan else None
        old_plan = current.plan.name if current.plan else None
        if new_plan is not None and new_plan != old_plan:
            await self.events.publish(UserPlanChanged(updated.id, new_plan))
        return updated

    async def change_own_password(
        self, user: CurrentUser, current: str, new: str, *, keep_token: int | None = None
    ) -> int:
        """The user's own change: needs the current password; ends every other session and
        token. Returns the new session epoch, for the session the change was made in."""
        row = await User.select(User.password).where(User.id == user.id).first()
        ok = row is not None and await anyio.to_thread.run_sync(
            _check_password, current, row["password"]
        )
        if not ok:
            raise InvalidInput("The current password is wrong.")
        await User.update({User.password: await _hashed(new)}).where(User.id == user.id)
        epoch = await end_sessions(user.id, keep_token=keep_token)
        await self.accounts.changed()
        return epoch

    async def deactivate(self, username: str, *, acting_user_id: int) -> UserOut:
        return await self.update(username, UserPatch(active=False), acting_user_id=acting_user_id)
