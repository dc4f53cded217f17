"""User and invite SQL. Redeeming an invite is one transaction: invite used, user written, audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.clock import from_db, to_db
from bot.domain.models import Invite, Role, User
from storage import audit
from storage.db import Database

_USER_COLUMNS = "telegram_id, role, region_code, full_name, username, registered_at, revoked_at"


def _user(row) -> User:
    return User(
        telegram_id=row["telegram_id"],
        role=Role(row["role"]),
        region_code=row["region_code"],
        full_name=row["full_name"],
        username=row["username"],
        registered_at=from_db(row["registered_at"]),
        revoked_at=from_db(row["revoked_at"]),
    )


async def get(db: Database, telegram_id: int) -> User | None:
    row = await db.fetchone(f"SELECT {_USER_COLUMNS} FROM users WHERE telegram_id = ?", (telegram_id,))
    return _user(row) if row else None


async def get_active(db: Database, telegram_id: int) -> User | None:
    user = await get(db, telegram_id)
    return user if user is not None and user.active else None


async def active_above(db: Database, role: Role) -> list[User]:
    """Active users whose role ranks above `role` (the ones whose command menu is their own)."""
    names = [r.value for r in Role if r.rank > role.rank]
    marks = ", ".join("?" for _ in names)
    rows = await db.fetchall(
        f"SELECT {_USER_COLUMNS} FROM users WHERE revoked_at IS NULL AND role IN ({marks}) ORDER BY telegram_id",
        tuple(names),
    )
    return [_user(r) for r in rows]


async def ensure_admins(db: Database, admin_ids: list[int], root: str, now: datetime) -> list[int]:
    """Make every BOT_ADMIN_IDS user an active admin of the root region; return the ids changed."""
    changed = []
    async with db.transaction() as conn:
        for admin_id in admin_ids:
            cur = await conn.execute(
                "SELECT role, region_code, revoked_at FROM users WHERE telegram_id = ?", (admin_id,)
            )
            row = await cur.fetchone()
            if row is not None and row["role"] == "admin" and row["region_code"] == root and row["revoked_at"] is None:
                continue
            await conn.execute(
                """INSERT INTO users (telegram_id, role, region_code, full_name, registered_at)
                   VALUES (?, 'admin', ?, ?, ?)
                   ON CONFLICT (telegram_id) DO UPDATE SET role = 'admin', region_code = excluded.region_code,
                       revoked_at = NULL, revoked_by = NULL""",
                (admin_id, root, f"Admin {admin_id}", to_db(now)),
            )
            await audit.record(
                conn, at=now, actor_id=None, action="bootstrap_admin", target=str(admin_id), detail={"region": root}
            )
            changed.append(admin_id)
    return changed


async def update_profile(db: Database, telegram_id: int, full_name: str, username: str | None) -> None:
    """Keep the name people see current (Telegram names change)."""
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE users SET full_name = ?, username = ? WHERE telegram_id = ? AND (full_name <> ? OR username IS NOT ?)",
            (full_name, username, telegram_id, full_name, username),
        )


async def create_invite(
    db: Database,
    *,
    code_hash: str,
    role: Role,
    region_code: str,
    created_by: int | None,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO invites (code_hash, role, region_code, created_by, created_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (code_hash, role.value, region_code, created_by, to_db(created_at), to_db(expires_at)),
        )
        await audit.record(
            conn,
            at=created_at,
            actor_id=created_by,
            action="undang",
            target=region_code,
            detail={"role": role.value, "expires_at": to_db(expires_at)},
        )


class RedeemOutcome(StrEnum):
    REGISTERED = "registered"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    ALREADY_ACTIVE = "already_active"  # the opener is an active user: nothing changes, the invite stays unused


@dataclass(frozen=True, slots=True)
class Redeemed:
    outcome: RedeemOutcome
    user: User | None = None
    invite: Invite | None = None
    previous: User | None = None


async def redeem_invite(
    db: Database, *, code_hash: str, telegram_id: int, full_name: str, username: str | None, now: datetime
) -> Redeemed:
    """Use an invite once: check and mark it, write the user, audit — all in one transaction.

    An active user is never re-roled by opening a link (a bootstrap admin opening a petugas link
    would be demoted): the invite stays unused. A revoked user registers again."""
    async with db.transaction() as conn:
        cur = await conn.execute(
            "SELECT role, region_code, created_by, created_at, expires_at, used_by, used_at"
            " FROM invites WHERE code_hash = ?",
            (code_hash,),
        )
        row = await cur.fetchone()
        if row is None:
            return Redeemed(RedeemOutcome.UNKNOWN)
        invite = Invite(
            Role(row["role"]),
            row["region_code"],
            row["created_by"],
            from_db(row["created_at"]),
            from_db(row["expires_at"]),
            row["used_by"],
            from_db(row["used_at"]),
        )
        if row["used_by"] is not None:
            return Redeemed(RedeemOutcome.USED, invite=invite)
        if from_db(row["expires_at"]) <= now:
            return Redeemed(RedeemOutcome.EXPIRED, invite=invite)
        cur = await conn.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE telegram_id = ?", (telegram_id,))
        prev_row = await cur.fetchone()
        previous = _user(prev_row) if prev_row else None
        if previous is not None and previous.active:
            return Redeemed(RedeemOutcome.ALREADY_ACTIVE, invite=invite, previous=previous)
        await conn.execute(
            """INSERT INTO users (telegram_id, role, region_code, full_name, username, invited_by, registered_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (telegram_id) DO UPDATE SET role = excluded.role, region_code = excluded.region_code,
                   full_name = excluded.full_name, username = excluded.username, invited_by = excluded.invited_by,
                   registered_at = excluded.registered_at, revoked_at = NULL, revoked_by = NULL""",
            (telegram_id, invite.role.value, invite.region_code, full_name, username, invite.created_by, to_db(now)),
        )
        cur = await conn.execute(
            "UPDATE invites SET used_by = ?, used_at = ? WHERE code_hash = ? AND used_by IS NULL",
            (telegram_id, to_db(now), code_hash),
        )
        if cur.rowcount != 1:  # a concurrent redemption won: never register twice on one code
            raise RuntimeError("invite was redeemed concurrently")
        await audit.record(
            conn,
            at=now,
            actor_id=telegram_id,
            action="registrasi",
            target=str(telegram_id),
            detail={
                "role": invite.role.value,
                "region": invite.region_code,
                "invited_by": invite.created_by,
                "previous_role": previous.role.value if previous else None,
            },
        )
        user = User(telegram_id, invite.role, invite.region_code, full_name, username, now)
    return Redeemed(RedeemOutcome.REGISTERED, user=user, invite=invite, previous=previous)


async def revoke(db: Database, *, telegram_id: int, by: int | None, now: datetime) -> bool:
    """Revoke a user and, in the same transaction, their personal digest schedules (a private
    chat's id is the user's id): a revoked user gets no more digests."""
    async with db.transaction() as conn:
        cur = await conn.execute(
            "UPDATE users SET revoked_at = ?, revoked_by = ? WHERE telegram_id = ? AND revoked_at IS NULL",
            (to_db(now), by, telegram_id),
        )
        if cur.rowcount != 1:
            return False
        cur = await conn.execute("DELETE FROM schedules WHERE chat_id = ?", (telegram_id,))
        detail = {"jadwal_dihapus": cur.rowcount} if cur.rowcount else None
        await audit.record(conn, at=now, actor_id=by, action="cabut", target=str(telegram_id), detail=detail)
    return True
