"""Figures for `/metrics` and `/healthz`, read from the database (so they survive restarts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.clock import from_db
from storage.db import Database


@dataclass(frozen=True, slots=True)
class Figures:
    reports: int
    incidents_by_status: dict[str, int]
    outbox_pending: int
    outbox_oldest: datetime | None
    outbox_failed: int


async def figures(db: Database) -> Figures:
    reports = await db.fetchvalue("SELECT count(*) FROM incident_events WHERE action = 'lapor'")
    by_status = {r[0]: int(r[1]) for r in await db.fetchall("SELECT status, count(*) FROM incidents GROUP BY status")}
    pending = await db.fetchone(
        "SELECT count(*), min(created_at) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL"
    )
    failed = await db.fetchvalue("SELECT count(*) FROM outbox WHERE failed_at IS NOT NULL")
    assert pending is not None, "an aggregate always has a row"
    return Figures(
        int(reports),
        by_status,
        int(pending[0]),
        from_db(pending[1]) if pending[1] else None,
        int(failed),
    )


async def ping(db: Database) -> None:
    """A read that needs the database file: raises if it cannot be read."""
    await db.fetchvalue("SELECT count(*) FROM meta")
