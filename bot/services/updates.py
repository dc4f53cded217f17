"""The update journal as the intake (`bot.telegram.intake`) uses it: what the bot has received,
what it has processed, and what a restart must process again."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from bot.services.runtime import Runtime
from storage import updates as journal
from storage.updates import Journaled

__all__ = ["Journaled", "digest", "forget_old", "mark_done", "pending", "pending_count", "record"]

#: processed updates are kept this long: Telegram redelivers an unconfirmed update for 24 hours,
#: and a redelivered update must be recognised as one already taken
KEEP_DONE = timedelta(hours=48)


def digest(payload: str) -> str:
    """What makes an update the same one besides its id: its content."""
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


async def record(rt: Runtime, bot_id: int, updates: list[tuple[int, str]]) -> list[tuple[int, int]]:
    """Journal `(update_id, payload)` pairs durably; `(seq, update_id)` of those not seen before."""
    return await journal.record(
        rt.db, bot_id, [(update_id, digest(payload), payload) for update_id, payload in updates], rt.clock()
    )


async def mark_done(rt: Runtime, seqs: list[int]) -> None:
    await journal.mark_done(rt.db, seqs, rt.clock())


async def pending(rt: Runtime, bot_id: int, *, after_seq: int = 0) -> list[Journaled]:
    return await journal.pending(rt.db, bot_id, after_seq=after_seq)


async def pending_count(rt: Runtime, bot_id: int) -> int:
    return await journal.count_pending(rt.db, bot_id)


async def forget_old(rt: Runtime) -> int:
    return await journal.prune(rt.db, rt.clock() - KEEP_DONE)
