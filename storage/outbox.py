"""Notification outbox SQL: rows are written with the change they announce, sent by a worker."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.clock import from_db, to_db
from storage.db import Conn, Database, Tx


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """A notification to send. `dedupe_key` may contain `{id}` for the incident id."""

    # posting, selesai, pelapor, edit, tanda_terima (a report's receipt): incident rows (a held
    # figure's receipt may have none); private rows: see `add_private`
    purpose: str
    chat_id: int
    dedupe_key: str
    thread_id: int | None = None
    message_id: int | None = None
    region_code: str | None = None
    note: str = ""
    #: a receipt's facts beyond "stored as #N" (JSON object; see `bot.services.reporting.receipt_row`)
    detail: str = "{}"


#: rows that belong to no incident: a counting reminder to a petugas, a broadcast's message to
#: one recipient, and the broadcast's outcome to its sender
PRIVATE_PURPOSES = ("pengingat_hitung", "siaran", "siaran_selesai")
#: rows of a broadcast (for delivery classes: behind answers and alerts)
BROADCAST_PURPOSES = ("siaran", "siaran_selesai")


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    purpose: str
    incident_id: int | None  # None for PRIVATE_PURPOSES and the receipt of a held figure with no incident open
    chat_id: int
    thread_id: int | None
    message_id: int | None
    region_code: str | None
    note: str
    attempts: int
    created_at: datetime
    broadcast_id: int | None = None
    detail: str = "{}"
    #: delivery class (migration 0016): 1 urgent, 2 receipt, 3 other notification, 4 broadcast
    priority: int = 3
    #: who reported the incident (a receipt goes to them: several waiting make one message)
    reporter_id: int | None = None


@dataclass(frozen=True, slots=True)
class PrivateRow:
    """A message to one chat that belongs to no incident (`PRIVATE_PURPOSES`)."""

    purpose: str
    chat_id: int
    dedupe_key: str
    region_code: str | None = None
    note: str = ""
    broadcast_id: int | None = None


async def add_private(conn: Conn, rows: list[PrivateRow], at: datetime) -> None:
    """Queue private messages inside the caller's transaction; a repeated dedupe key is ignored."""
    await conn.executemany(
        "INSERT OR IGNORE INTO outbox (dedupe_key, purpose, chat_id, region_code, note, broadcast_id, created_at,"
        " next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                row.dedupe_key,
                row.purpose,
                row.chat_id,
                row.region_code,
                row.note,
                row.broadcast_id,
                to_db(at),
                to_db(at),
            )
            for row in rows
        ],
    )


async def add(conn: Conn, incident_id: int | None, rows: list[OutboxRow], at: datetime) -> None:
    """Queue notifications inside the caller's transaction; a repeated dedupe key is ignored."""
    if not rows:
        return
    await conn.executemany(
        "INSERT OR IGNORE INTO outbox (dedupe_key, purpose, incident_id, chat_id, thread_id, message_id,"
        " region_code, note, created_at, next_attempt_at, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                row.detail,
            )
            for row in rows
        ],
    )


async def queue(db: Database, incident_id: int | None, rows: list[OutboxRow], at: datetime) -> None:
    """Queue notifications in a transaction of their own (a repeated dedupe key is ignored)."""

    async def body(conn: Tx) -> None:
        await add(conn, incident_id, rows, at)

    await db.atomic(body)


_COLUMNS = (
    "id, purpose, incident_id, chat_id, thread_id, message_id, region_code, note, attempts, created_at,"
    " broadcast_id, detail, priority,"
    " (SELECT reporter_id FROM incidents WHERE incidents.id = outbox.incident_id) AS reporter_id"
)
_DUE = "sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?"
#: by class (urgent first, then receipts, other notifications, broadcasts), within a class oldest first
_ORDER = "ORDER BY priority, next_attempt_at, id"


def _pending(r: sqlite3.Row) -> Pending:
    return Pending(
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
        r["broadcast_id"],
        r["detail"],
        r["priority"],
        r["reporter_id"],
    )


def _filters(skip_chats: Collection[int], chat_id: int | None, ids: Collection[int] | None) -> tuple[str, tuple]:
    skip, wanted = list(skip_chats), list(ids or ())
    sql = (
        (f" AND chat_id NOT IN ({', '.join('?' for _ in skip)})" if skip else "")
        + (" AND chat_id = ?" if chat_id is not None else "")
        + (f" AND id IN ({', '.join('?' for _ in wanted)})" if ids is not None else "")
    )
    return sql, (*skip, *(() if chat_id is None else (chat_id,)), *wanted)


async def due(
    db: Database,
    now: datetime,
    limit: int = 200,
    skip_chats: Collection[int] = (),
    chat_id: int | None = None,
) -> list[Pending]:
    """Rows to send now (not sent, not given up, due by `now`), by class (urgent first, then
    receipts, other notifications, broadcasts) and, within a class, oldest first; none for the
    chats in `skip_chats` (being sent to already); only those of `chat_id` if given. A look, not a
    claim: see `claim` to send them."""
    where, params = _filters(skip_chats, chat_id, None)
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM outbox WHERE {_DUE}{where} {_ORDER} LIMIT ?", (to_db(now), *params, limit)
    )
    return [_pending(r) for r in rows]


async def claim(
    db: Database,
    now: datetime,
    lease_until: datetime,
    limit: int = 20,
    *,
    chat_id: int | None = None,
    ids: Collection[int] | None = None,
) -> list[Pending]:
    """Take up to `limit` due rows for sending (only `chat_id`'s, only those of `ids`, if given),
    in `due`'s order, in one transaction: their next attempt moves to `lease_until`, so no other
    sender (another process on the same database included) sees them as due until the lease runs
    out. Sending ends the lease (`mark_sent`, `mark_retry`, `mark_failed`, `release`); a sender
    that dies leaves the rows to be taken again when it expires. A row another sender took
    meanwhile is not returned."""
    if ids is not None and not ids:
        return []
    where, params = _filters((), chat_id, ids)

    async def body(conn: Tx) -> list[sqlite3.Row]:
        rows = list(
            await conn.execute_fetchall(
                f"SELECT {_COLUMNS} FROM outbox WHERE {_DUE}{where} {_ORDER} LIMIT ?", (to_db(now), *params, limit)
            )
        )
        if rows:
            marks = ", ".join("?" for _ in rows)
            await conn.execute(
                f"UPDATE outbox SET next_attempt_at = ? WHERE id IN ({marks})",
                (to_db(lease_until), *(r["id"] for r in rows)),
            )
        return rows

    return [_pending(r) for r in await db.atomic(body)]


async def release_all(db: Database, now: datetime) -> int:
    """At start (one bot per database: `storage.instance`): every unsent row is due now — the
    leases a killed sender left (they would wait out `LEASE`), and retries scheduled by it (tried
    once more at once). Returns how many rows were waiting."""
    rows = await db.write(
        "UPDATE outbox SET next_attempt_at = ? WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at > ?"
        " RETURNING id",
        (to_db(now), to_db(now)),
    )
    return len(rows)


async def release(db: Database, row_ids: list[int], now: datetime) -> None:
    """End the lease of claimed rows that were not sent (the sender stops): due at `now`."""
    if not row_ids:
        return
    marks = ", ".join("?" for _ in row_ids)
    await db.write(
        f"UPDATE outbox SET next_attempt_at = ? WHERE id IN ({marks}) AND sent_at IS NULL AND failed_at IS NULL",
        (to_db(now), *row_ids),
    )


async def mark_sent(db: Database, outbox_id: int, *, at: datetime, message_id: int | None) -> None:
    """One statement: deliveries marked at the same moment share a commit (a receipt per report,
    a broadcast's rows; `Database.write`)."""
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
    await db.write(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
        (error[:500], to_db(retry_at), outbox_id),
    )


async def mark_failed(db: Database, outbox_id: int, *, error: str, at: datetime) -> None:
    await db.write(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, failed_at = ? WHERE id = ?",
        (error[:500], to_db(at), outbox_id),
    )
