"""Export SQL beyond the incident rows (`storage.incidents.export_rows`): the history of the
exported incidents, and the current logistics and counting state per kecamatan of a subtree."""

from __future__ import annotations

from datetime import datetime

from bot.domain.clock import to_db
from storage.db import Database
from storage.digests import subtree


async def history_rows(db: Database, *, scope: str, since: datetime) -> list[dict]:
    """Every event of the incidents of a subtree received since a moment (the incidents of
    `export_rows`), with the actor's name, by incident then in order."""
    where, params = subtree("i.region_code", scope)
    rows = await db.fetchall(
        f"""SELECT e.incident_id, e.at, e.action, u.full_name AS actor_name, e.from_status, e.to_status,
                   e.region_code, coalesce(e.note, '') AS note
              FROM incidents i JOIN incident_events e ON e.incident_id = i.id
              LEFT JOIN users u ON u.telegram_id = e.actor_id
             WHERE {where} AND i.received_at >= ? ORDER BY e.incident_id, e.id""",
        (*params, to_db(since)),
    )
    return [dict(row) for row in rows]


async def kecamatan_state(db: Database, *, scope: str) -> list[dict]:
    """The current state of every kecamatan of a subtree that has any: one row per kecamatan and
    logistics item (plan and latest report), then one row per kecamatan for penghitungan (the
    imported number of TPS and the latest report). `part` is "logistik" or "hitung"; figures not
    known are NULL."""
    where, params = subtree("r.code", scope)
    logistics = await db.fetchall(
        f"""SELECT 'logistik' AS part, r.code AS region_code, r.name AS name, coalesce(p.name, '') AS parent_name,
                   k.item AS item, s.received AS received, coalesce(pl.quantity, s.planned) AS planned,
                   s.damaged AS damaged, NULL AS tps_done, NULL AS tps_total, NULL AS sirekap,
                   s.reported_at AS reported_at
              FROM (SELECT region_code, item FROM logistics_plan UNION SELECT region_code, item FROM logistics_state) k
              JOIN regions r ON r.code = k.region_code
              LEFT JOIN regions p ON p.code = r.parent_code
              LEFT JOIN logistics_plan pl ON pl.region_code = k.region_code AND pl.item = k.item
              LEFT JOIN logistics_state s ON s.region_code = k.region_code AND s.item = k.item
             WHERE {where}
             ORDER BY r.code, k.item""",
        params,
    )
    counting = await db.fetchall(
        f"""SELECT 'hitung' AS part, r.code AS region_code, r.name AS name, coalesce(p.name, '') AS parent_name,
                   NULL AS item, NULL AS received, NULL AS planned, NULL AS damaged,
                   c.tps_done AS tps_done, coalesce(b.tps_count, c.tps_total) AS tps_total, c.sirekap AS sirekap,
                   c.reported_at AS reported_at
              FROM (SELECT region_code FROM tps_baseline UNION SELECT region_code FROM counting_state) k
              JOIN regions r ON r.code = k.region_code
              LEFT JOIN regions p ON p.code = r.parent_code
              LEFT JOIN tps_baseline b ON b.region_code = k.region_code
              LEFT JOIN counting_state c ON c.region_code = k.region_code
             WHERE {where}
             ORDER BY r.code""",
        params,
    )
    return [dict(row) for row in logistics] + [dict(row) for row in counting]
