"""The update journal's SQL (durable intake, `bot.telegram.intake`): record, mark done, replay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.clock import to_db
from storage.db import Database

#: rows per INSERT statement (SQLite allows 32,766 parameters; a getUpdates batch is ≤ 100)
_ROWS_PER_STATEMENT = 500


@dataclass(frozen=True, slots=True)
class Journaled:
    seq: int
    update_id: int
    payload: str


async def record(db: Database, bot_id: int, updates: list[tuple[int, str, str]], at: datetime) -> list[tuple[int, int]]:
    """Store `(update_id, digest, payload)` rows, durable when this returns. Returns `(seq,
    update_id)` of the rows that are new; an update already journaled (Telegram delivering it
    again because the bot died before moving the offset) is not returned."""
    new: list[tuple[int, int]] = []
    when = to_db(at)
    for start in range(0, len(updates), _ROWS_PER_STATEMENT):
        chunk = updates[start : start + _ROWS_PER_STATEMENT]
        values = ", ".join("(?, ?, ?, ?, ?)" for _ in chunk)
        params: list[object] = []
        for update_id, digest, payload in chunk:
            params += [bot_id, update_id, digest, payload, when]
        rows = await db.write(
            "INSERT INTO update_journal (bot_id, update_id, digest, payload, received_at) VALUES "
            f"{values} ON CONFLICT DO NOTHING RETURNING seq, update_id",
            tuple(params),
        )
        new += [(int(r["seq"]), int(r["update_id"])) for r in rows]
    new.sort()
    return new


async def mark_done(db: Database, seqs: list[int], at: datetime) -> None:
    if not seqs:
        return
    marks = ", ".join("?" for _ in seqs)
    await db.write(f"UPDATE update_journal SET done_at = ? WHERE seq IN ({marks})", (to_db(at), *seqs))


async def pending(db: Database, bot_id: int, *, after_seq: int = 0, limit: int = 10_000) -> list[Journaled]:
    """Recorded but not processed updates of `bot_id`, in the order they arrived."""
    rows = await db.fetchall(
        "SELECT seq, update_id, payload FROM update_journal"
        " WHERE bot_id = ? AND done_at IS NULL AND seq > ? ORDER BY seq LIMIT ?",
        (bot_id, after_seq, limit),
    )
    return [Journaled(int(r["seq"]), int(r["update_id"]), str(r["payload"])) for r in rows]


async def count_pending(db: Database, bot_id: int) -> int:
    return int(
        await db.fetchvalue("SELECT count(*) FROM update_journal WHERE bot_id = ? AND done_at IS NULL", (bot_id,))
    )


async def prune(db: Database, done_before: datetime) -> int:
    """Forget processed updates done before `done_before` (Telegram redelivers for 24 hours at most)."""
    rows = await db.write(
        "DELETE FROM update_journal WHERE done_at IS NOT NULL AND done_at < ? RETURNING seq", (to_db(done_before),)
    )
    return len(rows)
