"""Audit trail of non-incident changes (registrations, revocations, groups, schedules, imports)."""

from __future__ import annotations

import json
from datetime import datetime

import aiosqlite

from bot.domain.clock import to_db
from storage.db import Database


async def record(
    conn: aiosqlite.Connection,
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


async def recent(db: Database, *, action: str | None = None, limit: int = 50) -> list[dict]:
    sql = "SELECT id, at, actor_id, action, target, detail FROM audit_log"
    params: tuple = ()
    if action:
        sql += " WHERE action = ?"
        params = (action,)
    rows = await db.fetchall(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))
    return [dict(row) | {"detail": json.loads(row["detail"])} for row in rows]
