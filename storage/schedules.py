"""Digest schedule SQL: times per chat, and claiming one occurrence exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.clock import from_db, to_db
from storage import audit
from storage.db import Database


@dataclass(frozen=True, slots=True)
class Schedule:
    chat_id: int
    at_time: str  # "07:00", local time
    region_code: str
    thread_id: int | None
    last_run_at: datetime | None
    created_at: datetime | None = None  # when this time was first set for the chat


@dataclass(frozen=True, slots=True)
class Claim:
    """An occurrence marked as sent, and what was marked before (to give it back if sending fails)."""

    chat_id: int
    at_time: str
    occurrence: datetime
    previous: datetime | None


_COLUMNS = "chat_id, at_time, region_code, thread_id, last_run_at, created_at"


def _schedule(row) -> Schedule:
    return Schedule(
        row["chat_id"],
        row["at_time"],
        row["region_code"],
        row["thread_id"],
        from_db(row["last_run_at"]),
        from_db(row["created_at"]),
    )


async def for_chat(db: Database, chat_id: int) -> list[Schedule]:
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM schedules WHERE chat_id = ? ORDER BY at_time", (chat_id,))
    return [_schedule(r) for r in rows]


async def get(db: Database, chat_id: int, at_time: str) -> Schedule | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM schedules WHERE chat_id = ? AND at_time = ?", (chat_id, at_time))
    return _schedule(row) if row else None


async def all_schedules(db: Database) -> list[Schedule]:
    rows = await db.fetchall(f"SELECT {_COLUMNS} FROM schedules ORDER BY chat_id, at_time")
    return [_schedule(r) for r in rows]


async def replace(
    db: Database,
    *,
    chat_id: int,
    times: list[str],
    region_code: str,
    thread_id: int | None,
    by: int | None,
    at: datetime,
) -> None:
    """Set a chat's digest times (empty: off), keeping when each kept time was created and last
    ran (so re-sending the same times neither repeats nor loses today's digest); audited."""
    async with db.transaction() as conn:
        cur = await conn.execute("SELECT at_time, created_at, last_run_at FROM schedules WHERE chat_id = ?", (chat_id,))
        kept = {row["at_time"]: (row["created_at"], row["last_run_at"]) for row in await cur.fetchall()}
        await conn.execute("DELETE FROM schedules WHERE chat_id = ?", (chat_id,))
        for time_text in times:
            created, last_run = kept.get(time_text, (to_db(at), None))
            await conn.execute(
                "INSERT INTO schedules (chat_id, at_time, region_code, thread_id, created_by, created_at, last_run_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (chat_id, time_text, region_code, thread_id, by, created, last_run),
            )
        await audit.record(
            conn,
            at=at,
            actor_id=by,
            action="jadwal",
            target=str(chat_id),
            detail={"times": times, "region": region_code},
        )


async def claim(db: Database, *, chat_id: int, at_time: str, occurrence: datetime) -> Claim | None:
    """Mark the occurrence due at `occurrence` as sent; None if it was claimed already (or the
    schedule is gone)."""
    async with db.transaction() as conn:
        cur = await conn.execute(
            "SELECT last_run_at FROM schedules WHERE chat_id = ? AND at_time = ?", (chat_id, at_time)
        )
        row = await cur.fetchone()
        if row is None:
            return None
        cur = await conn.execute(
            "UPDATE schedules SET last_run_at = ? WHERE chat_id = ? AND at_time = ?"
            " AND (last_run_at IS NULL OR last_run_at < ?)",
            (to_db(occurrence), chat_id, at_time, to_db(occurrence)),
        )
        if cur.rowcount != 1:
            return None
        return Claim(chat_id, at_time, occurrence, from_db(row["last_run_at"]))


async def release(db: Database, claim: Claim) -> bool:
    """Give a claim back after its digest could not be sent (compare-and-set: only if nothing
    claimed a later occurrence meanwhile); False if it was not ours any more."""
    async with db.transaction() as conn:
        cur = await conn.execute(
            "UPDATE schedules SET last_run_at = ? WHERE chat_id = ? AND at_time = ? AND last_run_at = ?",
            (to_db(claim.previous) if claim.previous else None, claim.chat_id, claim.at_time, to_db(claim.occurrence)),
        )
        return cur.rowcount == 1


async def delete_chat(db: Database, chat_id: int) -> None:
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM schedules WHERE chat_id = ?", (chat_id,))
