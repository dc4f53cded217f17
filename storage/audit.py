"""Audit trail of non-incident changes (registrations, revocations, groups, schedules, imports)."""

from __future__ import annotations

import json
from datetime import datetime

from bot.domain.clock import to_db
from storage.db import Conn, Database


async def record(
    conn: Conn,
    *,
    at: datetime,
    actor_id: int | None,
    action: str,
    target: str = "",
    detail: dict | None = None,
) -> None:
    """Write one audit row; call inside the transaction that makes the change."""
    await conn.execute(
        "INSERT INTO audit_log (at, actor_id, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        (to_db(at), actor_id, action, target, json.dumps(detail or {}, ensure_ascii=False)),
    )


async def refused(
    db: Database, *, at: datetime, actor_id: int | None, attempted: str, target: str, reason: str
) -> None:
    """Audit a refusal (nothing else was written): who tried what, on what, and why not."""
    async with db.transaction() as conn:
        await record(
            conn,
            at=at,
            actor_id=actor_id,
            action="ditolak",
            target=target[:200],
            detail={"aksi": attempted[:200], "alasan": reason},
        )
