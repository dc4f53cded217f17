"""Broadcast SQL (/siaran): the recipients in a scope, the broadcast with one outbox row per
recipient (one transaction, audited), and its outcome once every row is done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.clock import to_db
from storage import audit
from storage import outbox as outbox_store
from storage.db import Database
from storage.digests import subtree
from storage.outbox import PrivateRow


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a broadcast went: messages delivered, recipients who blocked the bot (or deleted their
    account: Telegram answers 403 for both), other failures, and rows still on their way."""

    broadcast_id: int
    recipients: int
    sent: int
    blocked: int
    failed: int
    pending: int
    sender_chat_id: int


async def recipients(db: Database, scope: str, *, sender_id: int) -> list[int]:
    """The active users whose region lies in `scope` ('ID': everyone), the sender left out."""
    where, params = subtree("region_code", scope)
    rows = await db.fetchall(
        f"SELECT telegram_id FROM users WHERE revoked_at IS NULL AND telegram_id <> ? AND {where} ORDER BY telegram_id",
        (sender_id, *params),
    )
    return [r["telegram_id"] for r in rows]


async def create(
    db: Database, *, sender_id: int, sender_chat_id: int, scope: str, text: str, at: datetime
) -> tuple[int, int]:
    """Store a broadcast and queue its message to every recipient, with its audit row, in one
    transaction; return (broadcast id, number of recipients). With no recipient the broadcast is
    finished at once and its outcome queued to the sender."""
    users = await recipients(db, scope, sender_id=sender_id)
    async with db.transaction() as conn:
        cur = await conn.execute(
            "INSERT INTO broadcasts (sender_id, sender_chat_id, region_code, text, recipients, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (sender_id, sender_chat_id, scope, text, len(users), to_db(at)),
        )
        broadcast_id = cur.lastrowid
        assert broadcast_id is not None  # an INSERT into a rowid table always has one
        rows = [PrivateRow("siaran", uid, f"siaran:{broadcast_id}:{uid}", broadcast_id=broadcast_id) for uid in users]
        await outbox_store.add_private(conn, rows, at)
        await audit.record(
            conn,
            at=at,
            actor_id=sender_id,
            action="siaran",
            target=scope,
            detail={"siaran": broadcast_id, "penerima": len(users), "teks": text},
        )
        if not users:
            await _finish(conn, broadcast_id, sender_chat_id, at)
    return broadcast_id, len(users)


async def _finish(conn, broadcast_id: int, sender_chat_id: int, at: datetime) -> None:
    await conn.execute("UPDATE broadcasts SET finished_at = ? WHERE id = ?", (to_db(at), broadcast_id))
    await outbox_store.add_private(
        conn,
        [PrivateRow("siaran_selesai", sender_chat_id, f"siaran_selesai:{broadcast_id}", broadcast_id=broadcast_id)],
        at,
    )


async def finish_if_done(db: Database, broadcast_id: int, at: datetime) -> bool:
    """Once no recipient's row is on its way any more, mark the broadcast finished and queue its
    outcome to the sender (once: the mark and the row are one transaction). True if it did."""
    async with db.transaction() as conn:
        async with conn.execute(
            """SELECT b.sender_chat_id FROM broadcasts b
                WHERE b.id = ? AND b.finished_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.broadcast_id = b.id AND o.purpose = 'siaran'
                                     AND o.sent_at IS NULL AND o.failed_at IS NULL)""",
            (broadcast_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return False
        await _finish(conn, broadcast_id, row["sender_chat_id"], at)
    return True


async def text_of(db: Database, broadcast_id: int) -> tuple[str, int] | None:
    """The broadcast's text and its sender."""
    row = await db.fetchone("SELECT text, sender_id FROM broadcasts WHERE id = ?", (broadcast_id,))
    return (row["text"], row["sender_id"]) if row else None


async def outcome(db: Database, broadcast_id: int) -> Outcome | None:
    row = await db.fetchone(
        """SELECT b.id, b.recipients, b.sender_chat_id,
                  coalesce(sum(o.sent_at IS NOT NULL), 0) AS sent,
                  coalesce(sum(o.failed_at IS NOT NULL AND o.last_error LIKE 'Forbidden%'), 0) AS blocked,
                  coalesce(sum(o.failed_at IS NOT NULL AND o.last_error NOT LIKE 'Forbidden%'), 0) AS failed,
                  coalesce(sum(o.sent_at IS NULL AND o.failed_at IS NULL), 0) AS pending
             FROM broadcasts b LEFT JOIN outbox o ON o.broadcast_id = b.id AND o.purpose = 'siaran'
            WHERE b.id = ? GROUP BY b.id""",
        (broadcast_id,),
    )
    if row is None:
        return None
    return Outcome(
        row["id"], row["recipients"], row["sent"], row["blocked"], row["failed"], row["pending"], row["sender_chat_id"]
    )
