"""Notification outbox SQL: rows are written with the change they announce, sent by a worker."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from bot.domain.clock import from_db, to_db
from storage.db import Database


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A notification to send. `dedupe_key` may contain `{id}` for the incident id."""

    purpose: str  # posting, selesai, pelapor, edit, tanda_terima (a report's receipt)
    chat_id: int
    dedupe_key: str
    thread_id: int | None = None
    message_id: int | None = None
    region_code: str | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    purpose: str
    incident_id: int
    chat_id: int
    thread_id: int | None
    message_id: int | None
    region_code: str | None
    note: str
    attempts: int
    created_at: datetime
    #: delivery class (migration 0011): 1 urgent, 2 receipt, 3 other notification, 4 broadcast
    priority: int = 3
    #: who reported the incident (a receipt goes to them: several waiting make one message)
    reporter_id: int | None = None


async def add(conn: aiosqlite.Connection, incident_id: int, rows: list[OutboxRow], at: datetime) -> None:
    """Queue notifications inside the caller's transaction; a repeated dedupe key is ignored."""
    if not rows:
        return
    await conn.executemany(
        "INSERT OR IGNORE INTO outbox (dedupe_key, purpose, incident_id, chat_id, thread_id, message_id,"
        " region_code, note, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                row.dedupe_key.format(id=incident_id),
                row.purpose,
                incident_id,
                row.chat_id,
                row.thread_id,
                row.message_id,
                row.region_code,
                row.note,
                to_db(at),
                to_db(at),
            )
            for row in rows
        ],
    )


async def queue(db: Database, incident_id: int, rows: list[OutboxRow], at: datetime) -> None:
    """Queue notifications in a transaction of their own (a repeated dedupe key is ignored)."""
    async with db.transaction() as conn:
        await add(conn, incident_id, rows, at)


async def due(
    db: Database,
    now: datetime,
    limit: int = 200,
    skip_chats: Collection[int] = (),
    chat_id: int | None = None,
) -> list[Pending]:
    """Rows to send now (not sent, not given up, due by `now`), by class (urgent first, then
    receipts, other notifications, broadcasts) and, within a class, oldest first; none for the
    chats in `skip_chats` (being sent to already); only those of `chat_id` if given."""
    skip = list(skip_chats)
    rows = await db.fetchall(
        "SELECT o.id, o.purpose, o.incident_id, o.chat_id, o.thread_id, o.message_id, o.region_code, o.note,"
        " o.attempts, o.created_at, o.priority, i.reporter_id FROM outbox o"
        " LEFT JOIN incidents i ON i.id = o.incident_id"
        " WHERE o.sent_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= ?"
        + (f" AND o.chat_id NOT IN ({', '.join('?' for _ in skip)})" if skip else "")
        + (" AND o.chat_id = ?" if chat_id is not None else "")
        + " ORDER BY o.priority, o.next_attempt_at, o.id LIMIT ?",
        (to_db(now), *skip, *(() if chat_id is None else (chat_id,)), limit),
    )
    return [
        Pending(
            r["id"],
            r["purpose"],
            r["incident_id"],
            r["chat_id"],
            r["thread_id"],
            r["message_id"],
            r["region_code"],
            r["note"],
            r["attempts"],
            from_db(r["created_at"]),
            r["priority"],
            r["reporter_id"],
        )
        for r in rows
    ]


async def mark_sent(db: Database, outbox_id: int, *, at: datetime, message_id: int | None) -> None:
    """One statement: deliveries marked at the same moment share a commit (a receipt per report)."""
    await db.write(
        "UPDATE outbox SET sent_at = ?, sent_message_id = ?, attempts = attempts + 1 WHERE id = ?",
        (to_db(at), message_id, outbox_id),
    )


async def mark_sent_together(db: Database, outbox_ids: Sequence[int], *, at: datetime, message_id: int | None) -> None:
    """Rows delivered by one message (receipts coalesced): marked in one statement, all or none."""
    await db.write(
        "UPDATE outbox SET sent_at = ?, sent_message_id = ?, attempts = attempts + 1"
        f" WHERE id IN ({', '.join('?' for _ in outbox_ids)})",
        (to_db(at), message_id, *outbox_ids),
    )


async def mark_retry(db: Database, outbox_id: int, *, error: str, retry_at: datetime) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
            (error[:500], to_db(retry_at), outbox_id),
        )


async def mark_failed(db: Database, outbox_id: int, *, error: str, at: datetime) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, failed_at = ? WHERE id = ?",
            (error[:500], to_db(at), outbox_id),
        )
