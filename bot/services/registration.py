"""Invites, registration and revocation: who joins with which role and region.

An invite is a random url-safe code of 192 bits, shown once as a deep link
`https://t.me/<bot>?start=<code>`, stored only as its SHA-256 hash, single use, valid 7 days.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.domain import access
from bot.domain.access import Action, Decision
from bot.domain.models import Region, Role, User
from bot.domain.regions import is_within, normalize_code
from bot.services import audit
from bot.services.runtime import Runtime
from storage import regions as region_store
from storage import users as user_store
from storage.users import Redeemed, RedeemOutcome

__all__ = ["RedeemOutcome", "Redeemed"]  # what `redeem` answers, for the handlers

INVITE_TTL = timedelta(days=7)
INVITE_CODE_BYTES = 24  # 192 bits; token_urlsafe gives 32 characters, within /start's 64
DEEP_LINK_CODE_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def looks_like_code(text: str) -> bool:
    return 16 <= len(text) <= 64 and all(ch in DEEP_LINK_CODE_CHARS for ch in text)


def deep_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


@dataclass(frozen=True, slots=True)
class InviteCreated:
    code: str
    link: str
    role: Role
    region: Region
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class InviteRefused:
    reason: str  # "bad_role", "bad_region", or an access.Reason value
    detail: str = ""


async def create_invite(
    rt: Runtime, actor: User | None, role_text: str, region_text: str
) -> InviteCreated | InviteRefused:
    """Mint an invite. `actor` None is the operator on the command line (trusted, any role)."""
    role = Role.parse(role_text)
    if role is None:
        return InviteRefused("bad_role", role_text)
    code_norm = normalize_code(region_text)
    region = await region_store.get(rt.db, code_norm) if code_norm else None
    if region is None:
        return InviteRefused("bad_region", region_text)
    if actor is not None:
        decision: Decision = access.decide(actor, Action.UNDANG, region.code, target_role=role)
        if not decision:
            await audit.refused(rt, actor.telegram_id, f"undang {role.value}", region.code, decision.reason.value)
            return InviteRefused(decision.reason.value, region.code)
    elif not is_within(region.code, rt.root):
        return InviteRefused("bad_region", region_text)
    code = secrets.token_urlsafe(INVITE_CODE_BYTES)
    now = rt.clock()
    expires = now + INVITE_TTL
    await user_store.create_invite(
        rt.db,
        code_hash=hash_code(code),
        role=role,
        region_code=region.code,
        created_by=actor.telegram_id if actor else None,
        created_at=now,
        expires_at=expires,
    )
    return InviteCreated(code, deep_link(rt.bot_username or "BOT_USERNAME", code), role, region, expires)


async def redeem(rt: Runtime, code: str, telegram_id: int, full_name: str, username: str | None) -> Redeemed:
    """Register `telegram_id` with an invite; one invite registers one person, whoever is first
    (two racing for it: the second is refused, and the refusal audited)."""
    result = await user_store.redeem_invite(
        rt.db,
        code_hash=hash_code(code),
        telegram_id=telegram_id,
        full_name=full_name or str(telegram_id),
        username=username,
        now=rt.clock(),
    )
    if result.outcome in (RedeemOutcome.USED, RedeemOutcome.EXPIRED, RedeemOutcome.UNKNOWN):
        target = f"undangan {result.invite.role.value} {result.invite.region_code}" if result.invite else "undangan"
        await audit.refused(rt, telegram_id, "registrasi", target, result.outcome.value)
    return result


@dataclass(frozen=True, slots=True)
class RevokeResult:
    ok: bool
    reason: str = ""
    target: User | None = None


async def revoke(rt: Runtime, actor: User | None, target_id: int) -> RevokeResult:
    """Revoke a user in the actor's scope, of a role the actor could invite; never oneself."""
    target = await user_store.get(rt.db, target_id)
    if target is None or not target.active:
        return RevokeResult(False, "unknown_user")
    if actor is not None:
        if actor.telegram_id == target_id:
            return RevokeResult(False, "self", target)
        decision = access.decide(actor, Action.CABUT, target.region_code, target_role=target.role)
        if not decision:
            return RevokeResult(False, decision.reason.value, target)
    if target_id in rt.settings.BOT_ADMIN_IDS:
        return RevokeResult(False, "bootstrap_admin", target)
    await user_store.revoke(rt.db, telegram_id=target_id, by=actor.telegram_id if actor else None, now=rt.clock())
    return RevokeResult(True, "", target)


async def user(rt: Runtime, telegram_id: int) -> User | None:
    """The user with this Telegram id, active or revoked; None for a stranger."""
    return await user_store.get(rt.db, telegram_id)


async def identify(rt: Runtime, telegram_id: int, full_name: str, username: str | None) -> User | None:
    """The sender of an update, as `user`; an active user's stored name and username follow what
    Telegram says now (a revoked user's are left as they were)."""
    found = await user_store.get(rt.db, telegram_id)
    if found is None or not found.active:
        return found
    if found.full_name != full_name or found.username != username:
        await user_store.update_profile(rt.db, telegram_id, full_name, username)
        found = replace(found, full_name=full_name, username=username)
    return found


async def users_with_own_menu(rt: Runtime) -> list[User]:
    """Active users whose role opens more commands than a petugas's (their menu is set per chat)."""
    return await user_store.active_above(rt.db, Role.PETUGAS)
