"""Digest SQL: aggregates over a region's subtree, read from the state tables and window indexes.

Every query here is bounded by the size of the region table (≤ 7,277 kecamatan × 8 items) or by
the incidents of one 24-hour window; none ranks or counts all reports. The tables of migration
0003, kept by triggers, hold what would otherwise need a pass over every incident:
`logistics_state` / `counting_state` (the latest report per region and item), `region_activity`
(the newest report per region), `incident_tally` (counts by status, kind and severity per region
and ancestor) and `incident_escalations` (escalation events with the incident's region, kind and
severity).

A subtree is one range of dotted codes: `51.03` covers `51.03` itself and every code starting with
`51.03.` (`'51.03' <= code < '51.03/'`, as `/` follows `.`), so a B-tree serves it; `ID` is
everything. Logistics and counting are summed over kecamatan (the level reports and baselines are
kept at); a child region is the kecamatan code's prefix of the child level's length.

Times are passed and returned as the stored UTC ISO-8601 text; durations as microseconds.
"""

from __future__ import annotations

from bot.domain.reporting import URGENT_SEVERITIES
from storage.db import Database

NATIONAL = "ID"

#: length of the dotted code of the digest's child regions, by the digest region's level
CHILD_CODE_LENGTH = {"nasional": 2, "provinsi": 5, "kabkota": 8, "kecamatan": 8}

#: later than every stored time (they are UTC ISO-8601 text)
END_OF_TIME = "9999-12-31T23:59:59.999999+00:00"

OPEN_STATUSES = ("baru", "ditangani")

# Microseconds between two stored times ("YYYY-MM-DDTHH:MM:SS.ffffff+00:00"), exact to the
# millisecond: SQLite's own parser keeps milliseconds, and `julianday` is its cheapest form (one
# parse per time; rounding the difference to whole ms removes the float's error, a few µs). A
# median shown in minutes loses nothing; the national digest reads 200,000 of them a day, and
# strftime plus the text's six digits took 40 % longer.
_MICROS_BETWEEN = "(CAST(round((julianday({later}) - julianday({earlier})) * 86400000.0) AS INTEGER) * 1000)"


def _micros_between(later: str, earlier: str) -> str:
    return _MICROS_BETWEEN.format(later=later, earlier=earlier)


def subtree(column: str, code: str, *, seek: bool = True) -> tuple[str, tuple]:
    """SQL condition (and its parameters) for `column` lying in `code`'s subtree.

    `seek=False` writes `+column`, which keeps SQLite from walking the subtree's range of a
    region index when another term (a time range) selects far fewer rows.
    """
    if code == NATIONAL:
        return "1", ()
    column = column if seek else f"+{column}"
    return f"({column} >= ? AND {column} < ?)", (code, code + "/")


def in_subtree(column: str, code: str) -> tuple[str, tuple]:
    """Like `subtree`, as a list of region codes (`column IN (…)`): SQLite then seeks an index that
    starts with `column` once per region, so a second column (a time) narrows each seek."""
    if code == NATIONAL:
        return "1", ()
    return f"{column} IN (SELECT code FROM regions WHERE code >= ? AND code < ?)", (code, code + "/")


async def logistics_by_child(db: Database, code: str, child_length: int) -> list[dict]:
    """Per child region and item, aggregated per kecamatan first:

    - `received`: Σ latest received over every kecamatan;
    - `planned`: Σ plan over the kecamatan that have one;
    - `covered`: Σ min(received, plan) over the kecamatan that have a plan — what counts towards
      completeness, so a surplus in one kecamatan never hides another that received nothing;
    - `surplus`: Σ (received − plan) where a kecamatan received more than its plan;
    - `unplanned`: Σ received in kecamatan without any plan for that item;
    - `damaged`: Σ latest damaged.

    received = covered + surplus + unplanned. Per kecamatan and item the state is the latest
    report; the plan is the imported one if that kecamatan and item has one, else the plan written
    in the latest report (none: the kecamatan is unplanned for that item). A pair is present if it
    has a plan or a report.
    """
    s_where, s_params = subtree("s.region_code", code)
    p_where, p_params = subtree("p.region_code", code)
    rows = await db.fetchall(
        f"""WITH cur(region_code, item, received, planned, damaged) AS (
                SELECT s.region_code, s.item, s.received, coalesce(p.quantity, s.planned), s.damaged
                  FROM logistics_state s
                  LEFT JOIN logistics_plan p ON p.region_code = s.region_code AND p.item = s.item
                 WHERE {s_where}
                UNION ALL
                SELECT p.region_code, p.item, 0, p.quantity, 0
                  FROM logistics_plan p
                 WHERE {p_where} AND NOT EXISTS (
                       SELECT 1 FROM logistics_state s WHERE s.region_code = p.region_code AND s.item = p.item)
            )
            SELECT substr(cur.region_code, 1, ?) AS child, cur.item AS item,
                   sum(cur.received) AS received,
                   coalesce(sum(cur.planned), 0) AS planned,
                   coalesce(sum(CASE WHEN cur.planned IS NOT NULL
                                     THEN min(cur.received, cur.planned) END), 0) AS covered,
                   coalesce(sum(CASE WHEN cur.planned IS NOT NULL AND cur.received > cur.planned
                                     THEN cur.received - cur.planned END), 0) AS surplus,
                   coalesce(sum(CASE WHEN cur.planned IS NULL THEN cur.received END), 0) AS unplanned,
                   sum(cur.damaged) AS damaged
              FROM cur JOIN regions r ON r.code = cur.region_code AND r.level = 'kecamatan'
             GROUP BY child, cur.item
             ORDER BY child, cur.item""",
        (*s_params, *p_params, child_length),
    )
    return [dict(r) for r in rows]


async def readiness_by_child(db: Database, code: str, child_length: int) -> list[dict]:
    """Per child region: kecamatan with a kebutuhan for some item (`planned`), and those whose every
    item with a kebutuhan is complete — received ≥ kebutuhan and nothing damaged (`ready`). The
    kebutuhan is the imported plan, else the one written in the latest report."""
    s_where, s_params = subtree("s.region_code", code)
    p_where, p_params = subtree("p.region_code", code)
    rows = await db.fetchall(
        f"""WITH cur(region_code, complete) AS (
                SELECT s.region_code,
                       s.received >= coalesce(p.quantity, s.planned) AND s.damaged = 0
                  FROM logistics_state s
                  LEFT JOIN logistics_plan p ON p.region_code = s.region_code AND p.item = s.item
                 WHERE {s_where} AND coalesce(p.quantity, s.planned) IS NOT NULL
                UNION ALL
                SELECT p.region_code, p.quantity = 0
                  FROM logistics_plan p
                 WHERE {p_where} AND NOT EXISTS (
                       SELECT 1 FROM logistics_state s WHERE s.region_code = p.region_code AND s.item = p.item)
            ),
            per_kecamatan AS (
                SELECT cur.region_code, min(cur.complete) AS ready
                  FROM cur JOIN regions r ON r.code = cur.region_code AND r.level = 'kecamatan'
                 GROUP BY cur.region_code
            )
            SELECT substr(region_code, 1, ?) AS child, count(*) AS planned, sum(ready) AS ready
              FROM per_kecamatan GROUP BY child ORDER BY child""",
        (*s_params, *p_params, child_length),
    )
    return [dict(r) for r in rows]


async def recap_by_jenis(db: Database, code: str) -> list[dict]:
    """Rekapitulasi kecamatan per jenis pemilihan over the subtree: Σ desa done and desa of the
    kecamatan that reported, how many reported, how many finished."""
    where, params = subtree("region_code", code)
    rows = await db.fetchall(
        f"""SELECT jenis, sum(desa_done) AS desa_done, sum(desa_total) AS desa_total,
                   count(*) AS kecamatan_reporting, sum(desa_done >= desa_total) AS kecamatan_done
              FROM recap_state WHERE {where} GROUP BY jenis""",
        params,
    )
    return [dict(r) for r in rows]


async def counting_by_child(db: Database, code: str, child_length: int) -> list[dict]:
    """Per child region: Σ current tps_done and sirekap per kecamatan (each at most the kecamatan's
    number of TPS), Σ TPS (baseline, else the latest reported total), kecamatan with a penghitungan
    report, those that reported Sirekap, kecamatan in all."""
    where, params = subtree("r.code", code)
    rows = await db.fetchall(
        f"""SELECT substr(r.code, 1, ?) AS child,
                   coalesce(sum(min(c.tps_done, coalesce(b.tps_count, c.tps_total))), 0) AS tps_done,
                   coalesce(sum(coalesce(b.tps_count, c.tps_total)), 0) AS tps_total,
                   coalesce(sum(min(c.sirekap, coalesce(b.tps_count, c.tps_total))), 0) AS sirekap,
                   count(c.region_code) AS kecamatan_reporting,
                   count(*) AS kecamatan_total,
                   count(c.sirekap) AS kecamatan_sirekap
              FROM regions r
              LEFT JOIN counting_state c ON c.region_code = r.code
              LEFT JOIN tps_baseline b ON b.region_code = r.code
             WHERE r.level = 'kecamatan' AND {where}
             GROUP BY child
             ORDER BY child""",
        (child_length, *params),
    )
    return [dict(r) for r in rows]


async def silent_kecamatan(db: Database, code: str, since: str, limit: int) -> tuple[int, int, list[dict]]:
    """Kecamatan of the subtree without any report after `since`: (how many, kecamatan in all,
    the first `limit` of them — never reported first, then the longest silent, then by code)."""
    where, params = subtree("r.code", code)
    counts = await db.fetchone(
        f"""SELECT count(*) AS total,
                   coalesce(sum(a.last_report_at IS NULL OR a.last_report_at <= ?), 0) AS silent
              FROM regions r LEFT JOIN region_activity a ON a.region_code = r.code
             WHERE r.level = 'kecamatan' AND {where}""",
        (since, *params),
    )
    rows = await db.fetchall(
        f"""SELECT r.code AS region_code, r.name AS name, coalesce(p.name, '') AS parent_name,
                   a.last_report_at AS last_report_at
              FROM regions r
              LEFT JOIN region_activity a ON a.region_code = r.code
              LEFT JOIN regions p ON p.code = r.parent_code
             WHERE r.level = 'kecamatan' AND {where}
               AND (a.last_report_at IS NULL OR a.last_report_at <= ?)
             ORDER BY a.last_report_at IS NOT NULL, a.last_report_at, r.code
             LIMIT ?""",
        (*params, since, limit),
    )
    if counts is None:  # an aggregate without GROUP BY always has its row
        raise LookupError("silent_kecamatan: no count row")
    return counts["silent"], counts["total"], [dict(r) for r in rows]


async def received_counts(db: Database, code: str, start: str, end: str) -> list[dict]:
    """Incidents received in (start, end], by kind and severity (rejected reports left out)."""
    where, params = in_subtree("region_code", code)
    rows = await db.fetchall(
        f"""SELECT kind, severity, count(*) AS n FROM incidents
             WHERE received_at > ? AND received_at <= ? AND status <> 'ditolak' AND {where}
             GROUP BY kind, severity""",
        (start, end, *params),
    )
    return [dict(r) for r in rows]


async def resolved_counts(db: Database, code: str, start: str, end: str) -> list[dict]:
    """Incidents resolved ('selesai') or rejected ('ditolak') in (start, end], by status, kind and
    severity (a rejected incident's `resolved_at` is when it was rejected): one walk of the
    window's index, which carries the status (migration 0017). `+status` keeps SQLite from
    seeking the status instead — nationally most incidents are 'selesai'."""
    where, params = subtree("region_code", code, seek=False)
    rows = await db.fetchall(
        f"""SELECT status, kind, severity, count(*) AS n FROM incidents
             WHERE resolved_at > ? AND resolved_at <= ? AND +status IN ('selesai', 'ditolak') AND {where}
             GROUP BY status, kind, severity""",
        (start, end, *params),
    )
    return [dict(r) for r in rows]


async def escalated_counts(db: Database, code: str, start: str, end: str) -> list[dict]:
    """Incidents escalated (by hand or automatically) in (start, end], each counted once, by kind
    and severity (from `incident_escalations`, kept by a trigger on `incident_events`); rejected
    incidents left out."""
    where, params = subtree("region_code", code)
    rows = await db.fetchall(
        f"""SELECT kind, severity, count(DISTINCT incident_id) AS n FROM incident_escalations
             WHERE at > ? AND at <= ? AND {where}
               AND incident_id NOT IN (SELECT id FROM incidents WHERE status = 'ditolak')
             GROUP BY kind, severity""",
        (start, end, *params),
    )
    return [dict(r) for r in rows]


async def status_counts(db: Database, code: str) -> list[dict]:
    """All incidents of the subtree by status, kind and severity (from `incident_tally`)."""
    rows = await db.fetchall("SELECT status, kind, severity, n FROM incident_tally WHERE scope = ? AND n > 0", (code,))
    return [dict(r) for r in rows]


async def open_received_after(db: Database, code: str, moment: str) -> list[dict]:
    """Open incidents of the subtree received after `moment` (none, for a digest of now), by kind
    and severity: what the tally counts as open but was not open yet at `moment`."""
    where, params = subtree("region_code", code, seek=False)
    # a two-sided range: with only `received_at > ?` SQLite (no statistics) would rather walk a
    # whole index in GROUP BY order
    rows = await db.fetchall(
        f"""SELECT kind, severity, count(*) AS n FROM incidents
             WHERE received_at > ? AND received_at <= ? AND +status IN ('baru', 'ditangani') AND {where}
             GROUP BY kind, severity""",
        (moment, END_OF_TIME, *params),
    )
    return [dict(r) for r in rows]


async def oldest_open(db: Database, code: str, until: str, limit: int) -> list[dict]:
    """Open (baru, ditangani) tinggi/kritis incidents received at or before `until`: the urgent
    list, kritis first, then tinggi, oldest first.

    The ids come from indexes alone: nationally each (status, severity) pair is read in
    `received_at` order from `incidents_open` and only its first `limit` rows are kept; a subtree
    reads its regions' entries of the partial index `incidents_open_urgent`.
    """
    if code == NATIONAL:
        candidates = " UNION ALL ".join(
            f"""SELECT * FROM (SELECT id, received_at, severity FROM incidents
             WHERE status = '{status}' AND severity = '{severity}' AND received_at <= :until
             ORDER BY received_at, id LIMIT :limit)"""
            for status in OPEN_STATUSES
            for severity in URGENT_SEVERITIES
        )
        ids_sql = f"""SELECT id FROM ({candidates})
                       ORDER BY severity = 'kritis' DESC, received_at, id LIMIT :limit"""
        params: dict = {"until": until, "limit": limit}
    else:
        # the status and severity terms are written exactly as in the partial index's WHERE;
        # without INDEXED BY, SQLite (no statistics) prefers incidents_open and walks every open
        # urgent incident of the country
        ids_sql = """SELECT id FROM incidents INDEXED BY incidents_open_urgent
                      WHERE status IN ('baru', 'ditangani') AND severity IN ('tinggi', 'kritis')
                        AND region_code IN (SELECT code FROM regions WHERE code >= :low AND code < :high)
                        AND received_at <= :until
                      ORDER BY severity = 'kritis' DESC, received_at, id LIMIT :limit"""
        params = {"until": until, "limit": limit, "low": code, "high": code + "/"}
    rows = await db.fetchall(
        f"""SELECT i.id, i.kind, i.severity, i.status, i.region_code, r.name AS region_name,
                   i.received_at, i.description
              FROM incidents i JOIN regions r ON r.code = i.region_code
             WHERE i.id IN (SELECT id FROM ({ids_sql}))
             ORDER BY i.severity = 'kritis' DESC, i.received_at, i.id""",
        params,
    )
    return [dict(r) for r in rows]


async def _median(db: Database, durations_sql: str, params: tuple) -> float | None:
    """Median of a one-column query (`us`): the middle value, or the mean of the two middles."""
    row = await db.fetchone(
        f"""WITH d(us) AS MATERIALIZED ({durations_sql}),
                 n(c) AS (SELECT count(*) FROM d)
            SELECT avg(us) AS median FROM (
                SELECT us FROM d ORDER BY us
                 LIMIT 2 - (SELECT c FROM n) % 2 OFFSET ((SELECT c FROM n) - 1) / 2)""",
        params,
    )
    return None if row is None or row["median"] is None else float(row["median"])


async def median_time_to_take(db: Database, code: str, start: str, end: str) -> float | None:
    """Median of taken_at − received_at (µs) over incidents taken in (start, end], rejected ones
    left out."""
    where, params = subtree("region_code", code, seek=False)
    return await _median(
        db,
        f"SELECT {_micros_between('taken_at', 'received_at')} FROM incidents"
        f" WHERE taken_at > ? AND taken_at <= ? AND +status <> 'ditolak' AND {where}",
        (start, end, *params),
    )


async def median_time_to_resolve(db: Database, code: str, start: str, end: str) -> float | None:
    """Median of resolved_at − received_at (µs) over incidents resolved in (start, end] (a
    rejection is no resolution)."""
    where, params = subtree("region_code", code, seek=False)
    return await _median(
        db,
        f"SELECT {_micros_between('resolved_at', 'received_at')} FROM incidents"
        f" WHERE resolved_at > ? AND resolved_at <= ? AND +status = 'selesai' AND {where}",
        (start, end, *params),
    )
