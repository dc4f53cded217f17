"""Baseline SQL: the logistics plan (`logistics_plan`) and the TPS counts (`tps_baseline`).

An import is all-or-nothing: every row is upserted in one transaction together with its audit
row. Importing again replaces the value of each (region, item) / region in the file; regions and
items the file does not mention keep their earlier values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import aiosqlite

from bot.domain.clock import to_db
from storage import audit
from storage.db import Database


class PlanEntry(Protocol):
    """One line of the plan (e.g. `bot.domain.baselines.PlanRow`)."""

    @property
    def region_code(self) -> str: ...
    @property
    def item(self) -> str: ...
    @property
    def quantity(self) -> int: ...


class TpsEntry(Protocol):
    """One line of the TPS baseline (e.g. `bot.domain.baselines.TpsRow`)."""

    @property
    def region_code(self) -> str: ...
    @property
    def tps_count(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Replaced:
    """What an import changed: keys that were new, keys whose earlier value it replaced."""

    added: int
    replaced: int


async def region_levels(db: Database) -> dict[str, str]:
    """Every loaded region code with its level (`bot.domain.models.Level` values)."""
    rows = await db.fetchall("SELECT code, level FROM regions")
    return {row["code"]: row["level"] for row in rows}


async def _existing(conn: aiosqlite.Connection, sql: str) -> set[tuple]:
    async with conn.execute(sql) as cur:
        return {tuple(row) for row in await cur.fetchall()}


async def replace_plan(
    db: Database,
    rows: Sequence[PlanEntry],
    actor_id: int | None,
    at: datetime,
    *,
    detail: dict | None = None,
) -> Replaced:
    """Upsert the plan rows and write the audit row, in one transaction.

    `detail` adds to the audit detail (`{"jenis": "rencana", "baris": n, "baru": …,
    "diganti": …}`), e.g. the file name.
    """
    stamp = to_db(at)
    async with db.transaction() as conn:
        before = await _existing(conn, "SELECT region_code, item FROM logistics_plan")
        added = sum((row.region_code, row.item) not in before for row in rows)
        await conn.executemany(
            "INSERT INTO logistics_plan (region_code, item, quantity, imported_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (region_code, item) DO UPDATE"
            " SET quantity = excluded.quantity, imported_at = excluded.imported_at",
            [(row.region_code, row.item, row.quantity, stamp) for row in rows],
        )
        result = Replaced(added=added, replaced=len(rows) - added)
        await audit.record(
            conn,
            at=at,
            actor_id=actor_id,
            action="impor",
            target="rencana",
            detail={"jenis": "rencana", "baris": len(rows), "baru": result.added, "diganti": result.replaced}
            | (detail or {}),
        )
    return result


async def replace_tps(
    db: Database,
    rows: Sequence[TpsEntry],
    actor_id: int | None,
    at: datetime,
    *,
    detail: dict | None = None,
) -> Replaced:
    """Upsert the TPS counts and write the audit row, in one transaction."""
    stamp = to_db(at)
    async with db.transaction() as conn:
        before = {key[0] for key in await _existing(conn, "SELECT region_code FROM tps_baseline")}
        added = sum(row.region_code not in before for row in rows)
        await conn.executemany(
            "INSERT INTO tps_baseline (region_code, tps_count, imported_at) VALUES (?, ?, ?)"
            " ON CONFLICT (region_code) DO UPDATE"
            " SET tps_count = excluded.tps_count, imported_at = excluded.imported_at",
            [(row.region_code, row.tps_count, stamp) for row in rows],
        )
        result = Replaced(added=added, replaced=len(rows) - added)
        await audit.record(
            conn,
            at=at,
            actor_id=actor_id,
            action="impor",
            target="tps",
            detail={"jenis": "tps", "baris": len(rows), "baru": result.added, "diganti": result.replaced}
            | (detail or {}),
        )
    return result
