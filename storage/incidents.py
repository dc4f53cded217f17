"""Incident SQL: creation with its audit event, lookups, history, attachments, current state.

Every function that changes an incident writes its `incident_events` row in the same
transaction; there is no other way to change an incident in this module.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime

from bot.domain.clock import from_db, to_db
from bot.domain.models import Attachment, Incident, IncidentEvent, NewIncident, Status
from bot.domain.reporting import STATEFUL
from storage import audit, outbox
from storage.db import Conn, Database, Tx
from storage.outbox import OutboxRow

#: one INFO line per report stored and per lifecycle change committed (ids, kinds and statuses only:
#: never the free text, which may hold a NIK)
log = logging.getLogger("bot.incidents")

#: statuses with nothing left to handle: resolved, or rejected (a wrong report, out of every figure)
CLOSED_STATUSES = ("selesai", "ditolak")

_COLUMNS = (
    "id, kind, severity, status, region_code, reporter_id, item, received, planned, damaged, data_count,"
    " tps_done, tps_total, sirekap, desa_done, desa_total, description, payload, source_chat_id, source_message_id,"
    " reported_at, received_at, handling_region, escalations, assignee_id, taken_at, resolved_at, awaiting_since,"
    " last_reported_at"
)


def _incident(row) -> Incident:
    return Incident(
        id=row["id"],
        kind=row["kind"],
        severity=row["severity"],
        status=Status(row["status"]),
        region_code=row["region_code"],
        reporter_id=row["reporter_id"],
        item=row["item"],
        received=row["received"],
        planned=row["planned"],
        damaged=row["damaged"],
        data_count=row["data_count"],
        tps_done=row["tps_done"],
        tps_total=row["tps_total"],
        sirekap=row["sirekap"],
        desa_done=row["desa_done"],
        desa_total=row["desa_total"],
        description=row["description"],
        payload=json.loads(row["payload"]),
        source_chat_id=row["source_chat_id"],
        source_message_id=row["source_message_id"],
        reported_at=from_db(row["reported_at"]),
        received_at=from_db(row["received_at"]),
        handling_region=row["handling_region"],
        escalations=row["escalations"],
        assignee_id=row["assignee_id"],
        taken_at=from_db(row["taken_at"]),
        resolved_at=from_db(row["resolved_at"]),
        awaiting_since=from_db(row["awaiting_since"]),
        last_reported_at=from_db(row["last_reported_at"]),
    )


async def get(db: Database, incident_id: int) -> Incident | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM incidents WHERE id = ?", (incident_id,))
    return _incident(row) if row else None


async def find_duplicate(db: Database, *, bot_id: int, chat_id: int, message_id: int) -> Incident | None:
    """The incident this bot already made or updated from this message, if any (reports stored
    before migration 0014 have bot 0 and never match: another bot's message ids are not this one's)."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM incidents WHERE bot_id = ? AND source_chat_id = ? AND source_message_id = ?"
        " ORDER BY id LIMIT 1",
        (bot_id, chat_id, message_id),
    )
    if row is None:
        row = await db.fetchone(
            f"SELECT {_COLUMNS} FROM incidents WHERE id = (SELECT incident_id FROM incident_reports"
            " WHERE bot_id = ? AND source_chat_id = ? AND source_message_id = ? ORDER BY id LIMIT 1)",
            (bot_id, chat_id, message_id),
        )
    return _incident(row) if row else None


#: A message that carries several reports stores its first under its own message id and report
#: `k` (k ≥ 1) under `part_message_id(message_id, k)`: negative, so no Telegram message has it, and
#: unique per part, so the UNIQUE key (bot_id, source_chat_id, source_message_id, content_key)
#: still makes a repeated delivery store nothing twice. At most `PART_STRIDE - 1` further reports per message.
PART_STRIDE = 100


def part_message_id(message_id: int, part: int) -> int:
    """The `source_message_id` of report `part` (0-based) of message `message_id`."""
    if not 0 <= part < PART_STRIDE:
        raise ValueError(f"a message carries at most {PART_STRIDE} reports, not part {part}")
    return message_id if part == 0 else -(message_id * PART_STRIDE + part)


async def parts_of(db: Database, bot_id: int, chat_id: int, message_id: int) -> list[Incident]:
    """Every incident this bot made or updated (a stateful report kept in `incident_reports`) from
    one message, in the order of its reports; one incident once, at its first part."""
    low, high = -(message_id * PART_STRIDE + PART_STRIDE - 1), -(message_id * PART_STRIDE + 1)
    rows = await db.fetchall(
        "SELECT source_message_id AS part, id AS incident_id FROM incidents WHERE bot_id = :bot"
        " AND source_chat_id = :chat AND (source_message_id = :mid OR source_message_id BETWEEN :low AND :high)"
        " UNION SELECT source_message_id, incident_id FROM incident_reports WHERE bot_id = :bot"
        " AND source_chat_id = :chat AND incident_id IS NOT NULL"
        " AND (source_message_id = :mid OR source_message_id BETWEEN :low AND :high)",
        {"bot": bot_id, "chat": chat_id, "mid": message_id, "low": low, "high": high},
    )
    ordered = sorted(rows, key=lambda r: 0 if r["part"] == message_id else -r["part"])
    found: list[Incident] = []
    for row in ordered:
        if any(i.id == row["incident_id"] for i in found):
            continue
        incident = await get(db, row["incident_id"])
        if incident is not None:
            found.append(incident)
    return found


#: Figures compared to tell a repeated report from a new one (description: the uraian of an
#: insiden, the keterangan of a data problem, which says where).
SAME_REPORT_COLUMNS = (
    "item",
    "received",
    "planned",
    "damaged",
    "data_count",
    "tps_done",
    "tps_total",
    "sirekap",
    "desa_done",
    "desa_total",
)


@dataclass(frozen=True, slots=True)
class EarlierReport:
    """A report found again: the incident it made or updated, its own source and time."""

    incident: Incident
    source_chat_id: int
    source_message_id: int
    received_at: datetime
    bot_id: int = 0


async def same_recent(
    db: Database, new: NewIncident, since: datetime, *, with_text: bool, with_severity: bool
) -> EarlierReport | None:
    """The first report since `since` by the same reporter, of the same kind and region, with the
    same figures (and, when asked, the same description and severity) as `new`, if any (a rejected
    one is no repeat: sending it again is how the right report comes in). A stateful kind's reports
    are kept in `incident_reports` (a later report updates the incident in place), the others are
    the incidents themselves; a report waiting for confirmation or cancelled is no repeat."""
    stateful = new.kind in STATEFUL
    columns = [c for c in SAME_REPORT_COLUMNS if c != "data_count" or not stateful]
    figures = " AND ".join(f"{column} IS ?" for column in columns)
    args: list = [new.reporter_id, new.kind, new.region_code, to_db(since)]
    args += [getattr(new, column) for column in columns]
    if stateful:
        sql = (
            "SELECT incident_id AS id, source_chat_id, source_message_id, received_at, bot_id FROM incident_reports"
            " WHERE reporter_id = ? AND kind = ? AND region_code = ? AND received_at >= ?"
            f" AND state = 'berlaku' AND incident_id IS NOT NULL AND {figures}"
            " AND (SELECT status FROM incidents WHERE id = incident_id) <> 'ditolak'"
        )
    else:
        sql = (
            "SELECT id, source_chat_id, source_message_id, received_at, bot_id FROM incidents"
            f" WHERE reporter_id = ? AND kind = ? AND region_code = ? AND received_at >= ? AND {figures}"
            " AND status <> 'ditolak'"
        )
    if with_text:
        sql += " AND description = ?"
        args.append(new.description)
    if with_severity and not stateful:
        sql += " AND severity = ?"
        args.append(new.severity)
    row = await db.fetchone(sql + " ORDER BY id LIMIT 1", tuple(args))
    if row is None:
        return None
    incident = await get(db, row["id"])
    if incident is None:
        return None
    received_at = from_db(row["received_at"])
    assert received_at is not None  # NOT NULL in both tables
    return EarlierReport(incident, row["source_chat_id"], row["source_message_id"], received_at, row["bot_id"])


async def latest_by_reporter(db: Database, reporter_id: int, limit: int) -> list[Incident]:
    """The `limit` incidents the reporter reported on last (opened, or updated in place by a later
    report of theirs), newest first."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM incidents JOIN (SELECT incident_id, max(id) AS last FROM incident_events"
        " WHERE actor_id = ? AND action IN ('lapor', 'laporan') GROUP BY incident_id) e ON e.incident_id = id"
        " ORDER BY e.last DESC LIMIT ?",
        (reporter_id, limit),
    )
    return [_incident(row) for row in rows]


async def create(db: Database, new: NewIncident, notify: Sequence[OutboxRow] = ()) -> tuple[Incident, bool]:
    """Insert the incident with its notifications, atomically.

    The schema writes the 'lapor' event and the processed update with the row (migration 0006),
    so without notifications this is one statement; with them, one transaction.
    Returns (incident, created). When the same bot stored the same message with the same content
    before — also when a concurrent delivery wins the race — the UNIQUE key refuses the second row
    and the first incident is returned with created=False.
    """
    values = {f.name: getattr(new, f.name) for f in fields(new)}  # shallow: asdict would deep-copy
    values["payload"] = json.dumps(values["payload"], ensure_ascii=False)
    values["reported_at"] = to_db(new.reported_at)
    values["received_at"] = to_db(new.received_at)
    values["handling_region"] = new.region_code
    values["awaiting_since"] = values["received_at"]
    values["last_reported_at"] = values["reported_at"]
    columns = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    insert = f"INSERT INTO incidents ({columns}) VALUES ({marks}) RETURNING {_COLUMNS}"
    stateful = new.kind in STATEFUL
    try:
        if notify or stateful:

            async def body(conn: Tx) -> sqlite3.Row:
                [row] = await conn.execute_fetchall(insert, values)
                if stateful:
                    await _add_report(conn, new, row["id"], "berlaku")
                await outbox.add(conn, row["id"], list(notify), new.received_at)
                return row

            row = await db.atomic(body)
        else:
            [row] = await db.write(insert, values)
    except sqlite3.IntegrityError:
        existing = await find_duplicate(
            db, bot_id=new.bot_id, chat_id=new.source_chat_id, message_id=new.source_message_id
        )
        if existing is None and stateful:
            raise StateChanged(new.kind, new.region_code, new.item) from None  # one was opened meanwhile
        if existing is None or (not stateful and any(getattr(existing, f) != getattr(new, f) for f in _CONTENT)):
            raise
        return existing, False
    incident = _incident(row)
    log.info(
        "report stored: incident %d, %s %s, region %s, reporter %d",
        incident.id,
        new.kind,
        new.severity,
        new.region_code,
        new.reporter_id,
        extra={"incident_id": incident.id, "update_id": new.update_id, "chat_id": new.source_chat_id},
    )
    return incident, True


#: what a report says, as stored: with its bot and source message, the identity of a report
#: (`content_key` of migration 0014)
_CONTENT = (
    "kind",
    "region_code",
    "reporter_id",
    "item",
    "received",
    "planned",
    "damaged",
    "data_count",
    "tps_done",
    "tps_total",
    "sirekap",
    "desa_done",
    "desa_total",
    "description",
)


_REPORT_FIGURES = (
    "item",
    "received",
    "planned",
    "damaged",
    "tps_done",
    "tps_total",
    "sirekap",
    "desa_done",
    "desa_total",
)


async def _add_report(conn: Conn, new: NewIncident, incident_id: int | None, state: str) -> int:
    """Keep one report of a stateful incident (the first, a later one, or one waiting to be confirmed)."""
    values = {name: getattr(new, name) for name in _REPORT_FIGURES}
    values |= {
        "incident_id": incident_id,
        "kind": new.kind,
        "region_code": new.region_code,
        "description": new.description,
        "reporter_id": new.reporter_id,
        "bot_id": new.bot_id,
        "source_chat_id": new.source_chat_id,
        "source_message_id": new.source_message_id,
        "update_id": new.update_id,
        "reported_at": to_db(new.reported_at),
        "received_at": to_db(new.received_at),
        "state": state,
        "decided_at": None if state == "menunggu" else to_db(new.received_at),
    }
    columns = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    cur = await conn.execute(f"INSERT INTO incident_reports ({columns}) VALUES ({marks})", values)
    assert cur.lastrowid is not None  # an INSERT always sets it
    return cur.lastrowid


async def open_stateful(db: Database, kind: str, region_code: str, item: str | None) -> Incident | None:
    """The open incident of a kecamatan × item (logistik), kecamatan (hitung) or kecamatan × jenis
    (rekap): at most one (a partial UNIQUE index of migration 0007)."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM incidents WHERE kind = ? AND region_code = ? AND coalesce(item, '') = ?"
        " AND status IN ('baru', 'ditangani')",
        (kind, region_code, item or ""),
    )
    return _incident(row) if row else None


@dataclass(frozen=True, slots=True)
class StateContext:
    """What a cumulative report is checked and stored against, read in one round trip: the
    imported kebutuhan (logistik) or number of TPS (hitung), the current figures of the kecamatan
    (× item / jenis), and its open incident."""

    plan: int | None
    current: dict | None
    open_id: int | None
    open_severity: str | None


#: per kind: the imported baseline, the state table, its figures and its key
_STATE_SQL = {
    "logistik": (
        "(SELECT quantity FROM logistics_plan WHERE region_code = :region AND item = :item)",
        "logistics_state WHERE region_code = :region AND item = :item",
        ("received", "planned", "damaged"),
    ),
    "hitung": (
        "(SELECT tps_count FROM tps_baseline WHERE region_code = :region)",
        "counting_state WHERE region_code = :region",
        ("tps_done", "tps_total", "sirekap"),
    ),
    "rekap": ("NULL", "recap_state WHERE region_code = :region AND jenis = :item", ("desa_done", "desa_total")),
}


async def state_context(db: Database, kind: str, region_code: str, item: str | None) -> StateContext:
    """The `StateContext` of a kecamatan for a report of `kind` (logistik, hitung, rekap)."""
    plan_sql, state_from, columns = _STATE_SQL[kind]
    row = await db.fetchone(
        f"""SELECT {plan_sql} AS plan,
                   (SELECT json_array({", ".join(columns)}) FROM {state_from}) AS current,
                   o.id AS open_id, o.severity AS open_severity
              FROM (SELECT 1) LEFT JOIN incidents o
                ON o.kind = :kind AND o.region_code = :region AND coalesce(o.item, '') = :key
               AND o.status IN ('baru', 'ditangani')""",
        {"kind": kind, "region": region_code, "item": item, "key": item or ""},
    )
    assert row is not None  # a LEFT JOIN from one row always has its row
    current = dict(zip(columns, json.loads(row["current"]), strict=True)) if row["current"] else None
    return StateContext(row["plan"], current, row["open_id"], row["open_severity"])


class StateChanged(Exception):
    """Another report opened the kecamatan's incident (of this item) while this one was checked:
    read the state again and update it."""


class AlreadyStored(Exception):
    """This update or message was stored before (the UNIQUE keys of `incident_reports` said so)."""


async def hold_report(db: Database, new: NewIncident, incident_id: int | None) -> int:
    """A report whose figure went down, kept until its reporter confirms or cancels it; its number.
    `AlreadyStored` when the same update or message was kept before."""

    async def body(conn: Tx) -> int:
        return await _add_report(conn, new, incident_id, "menunggu")

    try:
        return await db.atomic(body)
    except sqlite3.IntegrityError as exc:
        raise AlreadyStored from exc


async def report_of_message(db: Database, *, bot_id: int, chat_id: int, message_id: int) -> int | None:
    """The kept report this bot made from this message, if any."""
    row = await db.fetchone(
        "SELECT id FROM incident_reports WHERE bot_id = ? AND source_chat_id = ? AND source_message_id = ?"
        " ORDER BY id LIMIT 1",
        (bot_id, chat_id, message_id),
    )
    return row["id"] if row else None


async def held_report(db: Database, report_id: int) -> tuple[NewIncident, str] | None:
    """A kept report as it was sent, and its state ('menunggu', 'berlaku', 'batal')."""
    row = await db.fetchone("SELECT * FROM incident_reports WHERE id = ?", (report_id,))
    if row is None:
        return None
    new = NewIncident(
        kind=row["kind"],
        severity="rendah",
        region_code=row["region_code"],
        reporter_id=row["reporter_id"],
        description=row["description"],
        payload={},
        source_chat_id=row["source_chat_id"],
        source_message_id=row["source_message_id"],
        update_id=row["update_id"],
        bot_id=row["bot_id"],
        reported_at=from_db(row["reported_at"]),
        received_at=from_db(row["received_at"]),
        **{name: row[name] for name in _REPORT_FIGURES},
    )
    return new, row["state"]


async def decide_held(db: Database, report_id: int, state: str, at: datetime) -> bool:
    """Mark a waiting report cancelled ('batal'); False if it was decided before."""
    rows = await db.write(
        "UPDATE incident_reports SET state = ?, decided_at = ? WHERE id = ? AND state = 'menunggu' RETURNING id",
        (state, to_db(at), report_id),
    )
    return bool(rows)


async def apply_report(
    db: Database,
    incident_id: int,
    new: NewIncident,
    *,
    held_id: int | None,
    severity: str,
    close: bool,
    at: datetime,
    notify: Callable[[list[dict], int, int], list[OutboxRow]],
) -> tuple[Incident, int] | None:
    """A later report of an open stateful incident: its figures, severity and latest report time
    updated in place, the report kept (or a held one confirmed), a 'laporan' event, and — when
    `close` — the automatic closing with its 'selesai_otomatis' event (naming the report's number
    among the incident's reports); `notify(posts,
    event_id, number)` gives the notifications (the receipt of the report included) (card edits, a first posting). One transaction. Returns the
    new state and the report's number among the incident's reports, or None if the incident was
    closed meanwhile; `AlreadyStored` when this update or message updated it before."""
    try:
        return await _apply_report(
            db, incident_id, new, held_id=held_id, severity=severity, close=close, at=at, notify=notify
        )
    except sqlite3.IntegrityError as exc:
        if held_id is None:
            raise AlreadyStored from exc  # the same update or message, stored before
        raise


async def _apply_report(
    db: Database,
    incident_id: int,
    new: NewIncident,
    *,
    held_id: int | None,
    severity: str,
    close: bool,
    at: datetime,
    notify: Callable[[list[dict], int, int], list[OutboxRow]],
) -> tuple[Incident, int] | None:
    figures = {name: getattr(new, name) for name in _REPORT_FIGURES if name != "item"}

    async def body(conn: Tx) -> tuple[int, sqlite3.Row] | None:
        cur = await conn.execute("SELECT status, handling_region FROM incidents WHERE id = ?", (incident_id,))
        row = await cur.fetchone()
        if row is None or row["status"] in CLOSED_STATUSES:
            return None
        if held_id is None:
            report_id = await _add_report(conn, new, incident_id, "berlaku")
        else:
            report_id = held_id
            await conn.execute(
                "UPDATE incident_reports SET state = 'berlaku', decided_at = ?, incident_id = ? WHERE id = ?",
                (to_db(at), incident_id, held_id),
            )
        cur = await conn.execute(
            "SELECT count(*) FROM incident_reports WHERE incident_id = ? AND state = 'berlaku' AND id <= ?",
            (incident_id, report_id),
        )
        counted = await cur.fetchone()
        number = counted[0] if counted else 1
        changes = figures | {"severity": severity, "last_reported_at": to_db(new.reported_at)}
        if new.description:
            changes["description"] = new.description
        assignments = ", ".join(f"{column} = :{column}" for column in changes)
        await conn.execute(f"UPDATE incidents SET {assignments} WHERE id = :id", changes | {"id": incident_id})
        event_id = await _event(
            conn,
            incident_id,
            at=at,
            actor_id=new.reporter_id,
            action="laporan",
            from_status=row["status"],
            to_status=row["status"],
            region_code=row["handling_region"],
            note=str(number),
        )
        if close:
            await conn.execute(
                "UPDATE incidents SET status = 'selesai', resolved_at = ?, awaiting_since = NULL WHERE id = ?",
                (to_db(at), incident_id),
            )
            event_id = await _event(
                conn,
                incident_id,
                at=at,
                actor_id=None,
                action="selesai_otomatis",
                from_status=row["status"],
                to_status="selesai",
                region_code=row["handling_region"],
                note=str(number),
            )
        cur = await conn.execute(_POSTS_SQL, (incident_id,))
        await outbox.add(conn, incident_id, notify([dict(r) for r in await cur.fetchall()], event_id, number), at)
        [updated] = await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM incidents WHERE id = ?", (incident_id,))
        return number, updated

    done = await db.atomic(body)
    if done is None:
        return None
    number, updated = done
    return _incident(updated), number


async def close_complete(db: Database, incident_id: int, *, at: datetime, note: str) -> Incident | None:
    """Close a stateful incident whose first report was already complete ('selesai_otomatis')."""

    async def body(conn: Tx) -> bool:
        cur = await conn.execute("SELECT status, handling_region FROM incidents WHERE id = ?", (incident_id,))
        row = await cur.fetchone()
        if row is None or row["status"] in CLOSED_STATUSES:
            return False
        await conn.execute(
            "UPDATE incidents SET status = 'selesai', resolved_at = ?, awaiting_since = NULL WHERE id = ?",
            (to_db(at), incident_id),
        )
        await _event(
            conn,
            incident_id,
            at=at,
            actor_id=None,
            action="selesai_otomatis",
            from_status=row["status"],
            to_status="selesai",
            region_code=row["handling_region"],
            note=note,
        )
        return True

    if not await db.atomic(body):
        return None
    return await get(db, incident_id)


#: columns a lifecycle change may set
CHANGEABLE = frozenset(
    {"status", "handling_region", "escalations", "assignee_id", "taken_at", "resolved_at", "awaiting_since", "severity"}
)


async def tracked_shortfalls(db: Database, limit: int = 200) -> list[Incident]:
    """Open logistics incidents still tracked (prioritas sedang: a shortfall before the deadline).

    Found through the open incidents of prioritas sedang (`incidents_awaiting`), the kind checked
    on each (`+kind`): sought by kind, SQLite walked every logistics incident ever reported, 3 s a
    minute nationally on the database's one thread (the escalation job asks every minute)."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM incidents WHERE status IN ('baru', 'ditangani') AND severity = 'sedang'"
        " AND +kind = 'logistik' ORDER BY received_at, id LIMIT ?",
        (limit,),
    )
    return [_incident(row) for row in rows]


async def apply_change(
    db: Database,
    incident_id: int,
    *,
    expect_status: tuple[str, ...],
    expect_handling: str | None,
    changes: dict,
    actor_id: int | None,
    action: str,
    at: datetime,
    note: str = "",
    notify: Sequence[OutboxRow] = (),
    notify_posts: Callable[[list[dict], int], list[OutboxRow]] | None = None,
    audited: dict | None = None,
) -> Incident | None:
    """Change an incident only if it is still as the caller saw it (status, handling region):
    the update, its incident event and its notifications in one transaction. Returns the new
    state, or None when the incident moved on meanwhile (nothing written). With `audited` (its
    detail), the change is also written to the audit trail. `StateChanged` when reopening it would
    make a second open incident of its kecamatan × item (another was opened meanwhile).

    `notify_posts(posts, event_id)` turns the incident's group posts (chat, message, region, oldest
    first) and the new event's id into more notifications (edits, notices); the posts are
    read inside the transaction, so a post remembered just before the change is edited, and one
    remembered after it finds the new event."""
    bad = set(changes) - CHANGEABLE
    if bad:
        raise ValueError(f"not changeable: {sorted(bad)}")
    values = {k: to_db(v) if isinstance(v, datetime) else v for k, v in changes.items()}

    async def body(conn: Tx) -> tuple[str, str, sqlite3.Row] | None:
        cur = await conn.execute(
            "SELECT status, handling_region, kind, region_code, item FROM incidents WHERE id = ?", (incident_id,)
        )
        row = await cur.fetchone()
        if row is None or row["status"] not in expect_status:
            return None
        if expect_handling is not None and row["handling_region"] != expect_handling:
            return None
        if values:
            assignments = ", ".join(f"{column} = :{column}" for column in values)
            try:
                await conn.execute(f"UPDATE incidents SET {assignments} WHERE id = :id", values | {"id": incident_id})
            except sqlite3.IntegrityError as exc:  # the one-open-per-kecamatan index (reopening)
                raise StateChanged(row["kind"], row["region_code"], row["item"]) from exc
        to_status = values.get("status", row["status"])
        event_id = await _event(
            conn,
            incident_id,
            at=at,
            actor_id=actor_id,
            action=action,
            from_status=row["status"],
            to_status=to_status,
            region_code=values.get("handling_region", row["handling_region"]),
            note=note,
        )
        rows = list(notify)
        if notify_posts is not None:
            cur = await conn.execute(_POSTS_SQL, (incident_id,))
            rows += notify_posts([dict(r) for r in await cur.fetchall()], event_id)
        await outbox.add(conn, incident_id, rows, at)
        if audited is not None:
            detail = {"from": row["status"], "to": to_status} | audited
            await audit.record(conn, at=at, actor_id=actor_id, action=action, target=f"#{incident_id}", detail=detail)
        [updated] = await conn.execute_fetchall(f"SELECT {_COLUMNS} FROM incidents WHERE id = ?", (incident_id,))
        return row["status"], to_status, updated

    done = await db.atomic(body)
    if done is None:
        return None
    from_status, to_status, updated = done
    log.info(
        "incident %d: %s (%s -> %s) by %s",
        incident_id,
        action,
        from_status,
        to_status,
        actor_id if actor_id is not None else "the bot",
        extra={"incident_id": incident_id},
    )
    return _incident(updated)


async def due_for_escalation(
    db: Database, *, severity: str, waiting_since_before: datetime, limit: int = 100
) -> list[Incident]:
    """Untaken incidents of a severity that have waited at their level since before a moment."""
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM incidents WHERE status = 'baru' AND severity = ? AND awaiting_since <= ?"
        " ORDER BY awaiting_since, id LIMIT ?",
        (severity, to_db(waiting_since_before), limit),
    )
    return [_incident(row) for row in rows]


@dataclass(frozen=True, slots=True)
class TakenWaiting:
    """A taken tinggi/kritis incident with its last update (any event but a reminder) and whether
    it was reminded, and flagged on its cards, since."""

    incident: Incident
    last_event_id: int
    last_update: datetime
    reminded: bool
    flagged: bool


async def taken_without_update(db: Database, *, since_before: datetime, limit: int = 200) -> list[TakenWaiting]:
    """Taken tinggi/kritis incidents whose last update (an event that is not 'pengingat' or
    'belum_diperbarui') was at or before `since_before` and that are not flagged yet (every step
    is done for a flagged one until its next update), longest waiting first.

    Left out in SQL, not after: with more than `limit` taken incidents waiting in the country, the
    flagged ones would fill every run's `limit` and the others never be chased. Each incident's
    last update is found once (materialized): a run reads 9,000 taken incidents in 0.05 s, not 0.6 s
    a minute on the database's one thread."""
    rows = await db.fetchall(
        f"""WITH t AS MATERIALIZED (
                SELECT i.id AS incident_id,
                       (SELECT max(e.id) FROM incident_events e WHERE e.incident_id = i.id
                           AND e.action NOT IN ('pengingat', 'belum_diperbarui')) AS last_id
                  FROM incidents i
                 WHERE i.status = 'ditangani' AND i.severity IN ('tinggi', 'kritis')),
                 w AS MATERIALIZED (
                SELECT t.incident_id, t.last_id, u.at AS last_at,
                       EXISTS (SELECT 1 FROM incident_events r WHERE r.incident_id = t.incident_id
                                  AND r.id > t.last_id AND r.action = 'pengingat') AS reminded,
                       EXISTS (SELECT 1 FROM incident_events r WHERE r.incident_id = t.incident_id
                                  AND r.id > t.last_id AND r.action = 'belum_diperbarui') AS flagged
                  FROM t JOIN incident_events u ON u.id = t.last_id
                 WHERE u.at <= ?)
            SELECT {", ".join(f"i.{c.strip()}" for c in _COLUMNS.split(","))}, w.last_id, w.last_at,
                   w.reminded, w.flagged
              FROM w JOIN incidents i ON i.id = w.incident_id
             WHERE NOT w.flagged
             ORDER BY w.last_at, i.id LIMIT ?""",
        (to_db(since_before), limit),
    )
    waiting = []
    for row in rows:
        at = from_db(row["last_at"])
        assert at is not None  # NOT NULL
        waiting.append(TakenWaiting(_incident(row), row["last_id"], at, bool(row["reminded"]), bool(row["flagged"])))
    return waiting


_POSTS_SQL = (
    "SELECT chat_id, message_id, region_code, thread_id FROM incident_messages"
    " WHERE incident_id = ? AND purpose = 'notifikasi' ORDER BY created_at, message_id"
)


#: routine progress reports, as `bot.services.digest.is_progress` defines them (kept equal by a test)
PROGRESS_SQL = "(kind IN ('hitung', 'rekap') OR (kind = 'logistik' AND severity = 'rendah'))"


async def list_in_scope(
    db: Database,
    *,
    scope: str,
    reporter_id: int | None,
    kind: str | None,
    open_only: bool,
    offset: int,
    limit: int,
    without_progress: bool = False,
) -> tuple[list[Incident], int]:
    """Incidents of a subtree, newest first, one page, and how many there are in all;
    `without_progress` leaves out the routine progress reports."""
    where, params = _scope("region_code", scope)
    clauses = [where]
    if reporter_id is not None:
        clauses.append("reporter_id = ?")
        params += (reporter_id,)
    if kind is not None:
        clauses.append("kind = ?")
        params += (kind,)
    if open_only:
        clauses.append("status IN ('baru', 'ditangani')")
    if without_progress:
        clauses.append(f"NOT {PROGRESS_SQL}")
    sql_where = " AND ".join(clauses)
    total = await db.fetchvalue(f"SELECT count(*) FROM incidents WHERE {sql_where}", params)
    rows = await db.fetchall(
        f"SELECT {_COLUMNS} FROM incidents WHERE {sql_where} ORDER BY id DESC LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    return [_incident(row) for row in rows], total


async def _event(
    conn: Conn,
    incident_id: int,
    *,
    at: datetime,
    actor_id: int | None,
    action: str,
    from_status: str | None,
    to_status: str | None,
    region_code: str | None,
    note: str = "",
) -> int:
    cur = await conn.execute(
        "INSERT INTO incident_events (incident_id, at, actor_id, action, from_status, to_status, region_code, note)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (incident_id, to_db(at), actor_id, action, from_status, to_status, region_code, note),
    )
    assert cur.lastrowid is not None  # an INSERT always sets it
    return cur.lastrowid


async def events(db: Database, incident_id: int) -> list[IncidentEvent]:
    rows = await db.fetchall(
        "SELECT e.id, e.incident_id, e.at, e.actor_id, u.full_name, e.action, e.from_status, e.to_status,"
        " e.region_code, e.note FROM incident_events e LEFT JOIN users u ON u.telegram_id = e.actor_id"
        " WHERE e.incident_id = ? ORDER BY e.id",
        (incident_id,),
    )
    return [
        IncidentEvent(
            r["id"],
            r["incident_id"],
            from_db(r["at"]),
            r["actor_id"],
            r["full_name"],
            r["action"],
            r["from_status"],
            r["to_status"],
            r["region_code"],
            r["note"],
        )
        for r in rows
    ]


async def remember_message(
    db: Database,
    *,
    chat_id: int,
    message_id: int,
    incident_id: int,
    purpose: str,
    at: datetime,
    region_code: str | None = None,
    thread_id: int | None = None,
) -> None:
    await db.write(
        "INSERT OR IGNORE INTO incident_messages (chat_id, message_id, incident_id, purpose, region_code,"
        " thread_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (chat_id, message_id, incident_id, purpose, region_code, thread_id, to_db(at)),
    )


async def incident_for_message(db: Database, chat_id: int, message_id: int) -> int | None:
    row = await db.fetchone(
        "SELECT incident_id FROM incident_messages WHERE chat_id = ? AND message_id = ?", (chat_id, message_id)
    )
    return row["incident_id"] if row else None


async def add_attachment(
    db: Database,
    *,
    incident_id: int,
    kind: str,
    chat_id: int,
    message_id: int,
    added_by: int,
    at: datetime,
    file_id: str | None = None,
    file_unique_id: str | None = None,
    file_name: str | None = None,
    mime_type: str | None = None,
    file_size: int | None = None,
    width: int | None = None,
    height: int | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> bool:
    """Attach a file or location, with its 'lampiran' event; False if this message was attached before."""

    async def body(conn: Tx) -> None:
        await conn.execute(
            "INSERT INTO attachments (incident_id, kind, file_id, file_unique_id, file_name, mime_type, file_size,"
            " width, height, latitude, longitude, chat_id, message_id, added_by, added_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                incident_id,
                kind,
                file_id,
                file_unique_id,
                file_name,
                mime_type,
                file_size,
                width,
                height,
                latitude,
                longitude,
                chat_id,
                message_id,
                added_by,
                to_db(at),
            ),
        )
        cur = await conn.execute("SELECT status, region_code FROM incidents WHERE id = ?", (incident_id,))
        row = await cur.fetchone()
        if row is None:  # the attachment's foreign key has just found the incident
            raise LookupError(f"incident {incident_id} vanished")
        await _event(
            conn,
            incident_id,
            at=at,
            actor_id=added_by,
            action="lampiran",
            from_status=row["status"],
            to_status=row["status"],
            region_code=row["region_code"],
            note=kind,
        )

    try:
        await db.atomic(body)
    except sqlite3.IntegrityError:
        return False
    return True


async def attachments(db: Database, incident_id: int) -> list[Attachment]:
    rows = await db.fetchall(
        "SELECT id, incident_id, kind, file_id, file_unique_id, file_name, mime_type, file_size, width, height,"
        " latitude, longitude, added_by, added_at FROM attachments WHERE incident_id = ? ORDER BY id",
        (incident_id,),
    )
    return [
        Attachment(
            r["id"],
            r["incident_id"],
            r["kind"],
            r["file_id"],
            r["file_unique_id"],
            r["file_name"],
            r["mime_type"],
            r["file_size"],
            r["width"],
            r["height"],
            r["latitude"],
            r["longitude"],
            r["added_by"],
            from_db(r["added_at"]),
        )
        for r in rows
    ]


async def plan_for(db: Database, region_code: str, item: str) -> int | None:
    """The imported plan of one item for one region (kecamatan)."""
    row = await db.fetchone(
        "SELECT quantity FROM logistics_plan WHERE region_code = ? AND item = ?", (region_code, item)
    )
    return row["quantity"] if row else None


def _scope(column: str, scope: str) -> tuple[str, tuple]:
    if scope == "ID":
        return "1", ()
    return f"({column} = ? OR {column} LIKE ?)", (scope, scope + ".%")


async def export_rows(db: Database, *, scope: str, since: datetime) -> list[dict]:
    """Incidents of a subtree received since a moment, with region and reporter names, oldest first."""
    where, params = _scope("i.region_code", scope)
    rows = await db.fetchall(
        f"""SELECT i.id, i.kind, i.severity, i.status, i.region_code, r.name AS region_name,
                   u.full_name AS reporter_name, i.reported_at, i.received_at, i.item, i.received, i.planned,
                   i.damaged, i.data_count, i.tps_done, i.tps_total, i.sirekap, i.escalations, i.taken_at,
                   i.resolved_at, i.description
              FROM incidents i JOIN regions r ON r.code = i.region_code
              LEFT JOIN users u ON u.telegram_id = i.reporter_id
             WHERE {where} AND i.received_at >= ? ORDER BY i.id""",
        (*params, to_db(since)),
    )
    return [dict(row) for row in rows]
