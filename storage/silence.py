"""Counting silence SQL: kecamatan without a counting report for a while, the reminders they got,
and the logistics items a kecamatan has never reported.

"Counting complete" is the kecamatan's latest penghitungan report covering its number of TPS (the
imported baseline, else the total the report gave). Times are the stored UTC ISO-8601 text.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from bot.domain.clock import to_db
from storage import outbox as outbox_store
from storage.db import Database, Tx
from storage.digests import subtree
from storage.outbox import PrivateRow

_SILENT = """
      FROM regions r
      LEFT JOIN counting_state c ON c.region_code = r.code
      LEFT JOIN tps_baseline b ON b.region_code = r.code
     WHERE r.level = 'kecamatan' AND {where} AND substr(r.code, 1, 2) IN ({provinces})
       AND (c.reported_at IS NULL OR c.reported_at <= ?)
       AND (c.region_code IS NULL OR c.tps_done < coalesce(b.tps_count, c.tps_total))"""


def _silent(code: str, provinces: Collection[str]) -> tuple[str, tuple]:
    where, params = subtree("r.code", code)
    marks = ", ".join("?" for _ in provinces)
    return _SILENT.format(where=where, provinces=marks), (*params, *provinces)


async def silent_counting(
    db: Database, code: str, provinces: Collection[str], cutoff: datetime, limit: int
) -> tuple[int, list[dict]]:
    """Kecamatan of `code`'s subtree, in `provinces`, whose counting is not complete and whose
    last counting report is not after `cutoff` (or who never sent one): how many, and the first
    `limit` (never reported first, then the longest silent, then by code)."""
    if not provinces:
        return 0, []
    body, params = _silent(code, provinces)
    count = await db.fetchvalue(f"SELECT count(*) {body}", (*params, to_db(cutoff)))
    rows = await db.fetchall(
        f"""SELECT r.code AS region_code, r.name AS name,
                   coalesce((SELECT p.name FROM regions p WHERE p.code = r.parent_code), '') AS parent_name,
                   c.reported_at AS last_report_at
              {body}
             ORDER BY c.reported_at IS NOT NULL, c.reported_at, r.code LIMIT ?""",
        (*params, to_db(cutoff), limit),
    )
    return int(count or 0), [dict(r) for r in rows]


async def silent_for_reminders(db: Database, code: str, provinces: Collection[str], cutoff: datetime) -> list[dict]:
    """Every silent kecamatan as in `silent_counting`, with what deciding a reminder needs: its
    counting figures (running: started and not complete) and when it was last reminded."""
    if not provinces:
        return []
    body, params = _silent(code, provinces)
    rows = await db.fetchall(
        f"""SELECT r.code AS region_code, r.name AS name, c.reported_at AS last_report_at,
                   c.tps_done AS tps_done, coalesce(b.tps_count, c.tps_total) AS tps_total,
                   (SELECT max(s.reminded_at) FROM silence_reminders s WHERE s.region_code = r.code)
                       AS last_reminded_at
              {body}
             ORDER BY r.code""",
        (*params, to_db(cutoff)),
    )
    return [dict(r) for r in rows]


async def petugas_of(db: Database, kecamatan: str) -> list[int]:
    """The active petugas of a kecamatan (registered at it or at one of its desa)."""
    rows = await db.fetchall(
        "SELECT telegram_id FROM users WHERE revoked_at IS NULL AND role = 'petugas'"
        " AND (region_code = ? OR (region_code > ? AND region_code < ?)) ORDER BY telegram_id",
        (kecamatan, kecamatan + ".", kecamatan + "/"),
    )
    return [r["telegram_id"] for r in rows]


async def remind(
    db: Database, kecamatan: str, users: list[int], *, silent_since: datetime, last_report: str, at: datetime
) -> None:
    """Record the reminder of a kecamatan and queue one private message to each of its petugas,
    in one transaction (a restart finds the record and does not remind again this period)."""
    stamp = to_db(at)

    async def body(conn: Tx) -> None:
        await conn.execute(
            "INSERT INTO silence_reminders (region_code, reminded_at, silent_since, recipients) VALUES (?, ?, ?, ?)",
            (kecamatan, stamp, to_db(silent_since), len(users)),
        )
        rows = [
            PrivateRow("pengingat_hitung", uid, f"pengingat_hitung:{kecamatan}:{stamp}:{uid}", kecamatan, last_report)
            for uid in users
        ]
        await outbox_store.add_private(conn, rows, at)

    await db.atomic(body)


async def reminders(db: Database, kecamatan: str) -> list[dict]:
    rows = await db.fetchall(
        "SELECT reminded_at, silent_since, recipients FROM silence_reminders WHERE region_code = ? ORDER BY reminded_at",
        (kecamatan,),
    )
    return [dict(r) for r in rows]


async def last_counting_report(db: Database, kecamatan: str) -> str | None:
    """The stored time of the kecamatan's latest counting report, if any."""
    row = await db.fetchone("SELECT reported_at FROM counting_state WHERE region_code = ?", (kecamatan,))
    return str(row["reported_at"]) if row is not None else None


async def never_reported_items(db: Database, code: str, limit: int) -> list[dict]:
    """Per logistics item with a kebutuhan in `code`'s subtree: the kecamatan with a kebutuhan for
    it that never reported it (how many, and the first `limit` names by code)."""
    where, params = subtree("p.region_code", code)
    rows = await db.fetchall(
        f"""SELECT item, count(*) AS n,
                   group_concat(CASE WHEN rank <= ? THEN name END, '\x1f') AS names
              FROM (SELECT p.item AS item, r.name AS name,
                           row_number() OVER (PARTITION BY p.item ORDER BY p.region_code) AS rank
                      FROM logistics_plan p
                      JOIN regions r ON r.code = p.region_code
                      LEFT JOIN logistics_state s ON s.region_code = p.region_code AND s.item = p.item
                     WHERE {where} AND p.quantity > 0 AND s.region_code IS NULL)
             GROUP BY item""",
        (limit, *params),
    )
    return [{"item": r["item"], "n": r["n"], "names": [n for n in (r["names"] or "").split("\x1f") if n]} for r in rows]
