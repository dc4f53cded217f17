"""Coordination group SQL: one group per region, the nearest group up the tree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.clock import to_db
from bot.domain.regions import ancestors
from storage import audit
from storage.db import Database


@dataclass(frozen=True, slots=True)
class Group:
    chat_id: int
    region_code: str
    thread_id: int | None
    title: str


def _group(row) -> Group:
    return Group(row["chat_id"], row["region_code"], row["thread_id"], row["title"])


@dataclass(frozen=True, slots=True)
class Registered:
    group: Group
    replaced_chat: int | None  # the chat that coordinated this region before, if another
    previous_region: str | None  # the region this chat coordinated before, if another
    replaced_thread: int | None = None  # the topic the replaced chat received posts in


async def register(
    db: Database, *, chat_id: int, region_code: str, thread_id: int | None, title: str, by: int, at: datetime
) -> Registered:
    """Make `chat_id` the group of `region_code` (moving the region from another chat, and this
    chat from another region), audited, in one transaction."""
    async with db.transaction() as conn:
        cur = await conn.execute("SELECT chat_id, thread_id FROM groups WHERE region_code = ?", (region_code,))
        row = await cur.fetchone()
        replaced = row["chat_id"] if row and row["chat_id"] != chat_id else None
        replaced_thread = row["thread_id"] if row and replaced is not None else None
        cur = await conn.execute("SELECT region_code FROM groups WHERE chat_id = ?", (chat_id,))
        row = await cur.fetchone()
        previous_region = row["region_code"] if row and row["region_code"] != region_code else None
        await conn.execute("DELETE FROM groups WHERE region_code = ? OR chat_id = ?", (region_code, chat_id))
        await conn.execute(
            "INSERT INTO groups (chat_id, region_code, thread_id, title, registered_by, registered_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (chat_id, region_code, thread_id, title, by, to_db(at)),
        )
        await audit.record(
            conn,
            at=at,
            actor_id=by,
            action="grup_daftar",
            target=str(chat_id),
            detail={
                "region": region_code,
                "thread_id": thread_id,
                "replaced_chat": replaced,
                "previous_region": previous_region,
            },
        )
    return Registered(Group(chat_id, region_code, thread_id, title), replaced, previous_region, replaced_thread)


async def unregister(db: Database, *, chat_id: int, by: int | None, at: datetime, reason: str) -> Group | None:
    async with db.transaction() as conn:
        cur = await conn.execute(
            "SELECT chat_id, region_code, thread_id, title FROM groups WHERE chat_id = ?", (chat_id,)
        )
        row = await cur.fetchone()
        if row is None:
            return None
        await conn.execute("DELETE FROM groups WHERE chat_id = ?", (chat_id,))
        await audit.record(
            conn,
            at=at,
            actor_id=by,
            action="grup_hapus",
            target=str(chat_id),
            detail={"region": row["region_code"], "reason": reason},
        )
    return _group(row)


async def by_chat(db: Database, chat_id: int) -> Group | None:
    row = await db.fetchone("SELECT chat_id, region_code, thread_id, title FROM groups WHERE chat_id = ?", (chat_id,))
    return _group(row) if row else None


async def nearest(db: Database, region_code: str) -> Group | None:
    """The registered group of the region itself or of its nearest ancestor."""
    codes = ancestors(region_code)
    marks = ",".join("?" * len(codes))
    rows = await db.fetchall(
        f"SELECT chat_id, region_code, thread_id, title FROM groups WHERE region_code IN ({marks})", tuple(codes)
    )
    by_region = {row["region_code"]: _group(row) for row in rows}
    for code in codes:
        if code in by_region:
            return by_region[code]
    return None
