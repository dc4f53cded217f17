"""Digest schedule SQL: times per chat, and claiming one occurrence exactly once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.clock import from_db, to_db
from storage import audit
from storage.db import Database


@dataclass(frozen=True, slots=True)
class Schedule:
    chat_id: int
    at_time: str  # "07:00", local time
    region_code: str
    thread_id: int | None
    last_run_at: datetime | None


def _schedule(row) -> Schedule:
    return Schedule(row["chat_id"], row["at_time"], row["region_code"], row["thread_id"], from_db(row["last_run_at"]))


async def for_chat(db: Database, chat_id: int) -> list[Schedule]:
    rows = await db.fetchall(
        "SELECT chat_id, at_time, region_code, thread_id, last_run_at FROM schedules WHERE chat_id = ? ORDER BY at_time",
        (chat_id,),
    )
    return [_schedule(r) for r in rows]


async def all_schedules(db: Database) -> list[Schedule]:
    rows = await db.fetchall(
        "SELECT chat_id, at_time, region_code, thread_id, last_run_at FROM schedules ORDER BY chat_id, at_time"
    )
    return [_schedule(r) for r in rows]


async def replace(
    db: Database, *, chat_id: int, times: list[str], region_code: str, thread_id: int | None, by: int | None,
    at: datetime,
) -> None:
    """Set a chat's digest times (empty: off), keeping when each kept time last ran; audited."""
    async with db.transaction() as conn:
        cur = await conn.execute("SELECT at_time, last_run_at FROM schedules WHERE chat_id = ?", (chat_id,))
        last = {row["at_time"]: row["last_run_at"] for row in await cur.fetchall()}
        await conn.execute("DELETE FROM schedules WHERE chat_id = ?", (chat_id,))
        for time_text in times:
            await conn.execute(
                "INSERT INTO schedules (chat_id, at_time, region_code, thread_id, created_by, created_at, last_run_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (chat_id, time_text, region_code, thread_id, by, to_db(at), last.get(time_text)),
            )
        await audit.record(conn, at=at, actor_id=by, action="jadwal", target=str(chat_id),
                           detail={"times": times, "region": region_code})


async def claim(db: Database, *, chat_id: int, at_time: str, occurrence: datetime) -> bool:
    """Mark the occurrence due at `occurrence` as sent; False if it was claimed already."""
    async with db.transaction() as conn:
        cur = await conn.execute(
            "UPDATE schedules SET last_run_at = ? WHERE chat_id = ? AND at_time = ?"
            " AND (last_run_at IS NULL OR last_run_at < ?)",
            (to_db(occurrence), chat_id, at_time, to_db(occurrence)),
        )
        return cur.rowcount == 1


async def delete_chat(db: Database, chat_id: int) -> None:
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM schedules WHERE chat_id = ?", (chat_id,))
