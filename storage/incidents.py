"""Incident SQL: creation with its audit event, lookups, history, attachments, current state.

Every function that changes an incident writes its `incident_events` row in the same
transaction; there is no other way to change an incident in this module.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime

import aiosqlite

from bot.domain.clock import from_db, to_db
from bot.domain.models import Attachment, Incident, IncidentEvent, NewIncident, Status
from storage import outbox
from storage.db import Database
from storage.outbox import OutboxRow

_COLUMNS = (
    "id, kind, severity, status, region_code, reporter_id, item, received, planned, damaged, data_count,"
    " tps_done, tps_total, sirekap, description, payload, source_chat_id, source_message_id, reported_at,"
    " received_at, handling_region, escalations, assignee_id, taken_at, resolved_at, awaiting_since"
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
    )


async def get(db: Database, incident_id: int) -> Incident | None:
    row = await db.fetchone(f"SELECT {_COLUMNS} FROM incidents WHERE id = ?", (incident_id,))
    return _incident(row) if row else None


async def find_duplicate(db: Database, *, bot_id: int, chat_id: int, message_id: int) -> Incident | None:
    """The incident this bot already made from this message, if any (reports stored before
    migration 0009 have bot 0 and never match: another bot's message ids are not this one's)."""
    row = await db.fetchone(
        f"SELECT {_COLUMNS} FROM incidents WHERE bot_id = ? AND source_chat_id = ? AND source_message_id = ?"
        " ORDER BY id LIMIT 1",
        (bot_id, chat_id, message_id),
    )
    return _incident(row) if row else None


#: what a report says, as stored: with its bot and source message, the identity of a report
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
    "description",
)


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
    columns = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    insert = f"INSERT INTO incidents ({columns}) VALUES ({marks}) RETURNING {_COLUMNS}"
    try:
        if notify:
            async with db.transaction() as conn:
                [row] = await conn.execute_fetchall(insert, values)
                await outbox.add(conn, row["id"], list(notify), new.received_at)
        else:
            [row] = await db.write(insert, values)
    except sqlite3.IntegrityError:
        existing = await find_duplicate(
            db, bot_id=new.bot_id, chat_id=new.source_chat_id, message_id=new.source_message_id
        )
        if existing is None or any(getattr(existing, f) != getattr(new, f) for f in _CONTENT):
            raise
        return existing, False
    return _incident(row), True


#: columns a lifecycle change may set
CHANGEABLE = frozenset(
    {"status", "handling_region", "escalations", "assignee_id", "taken_at", "resolved_at", "awaiting_since"}
)


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
) -> Incident | None:
    """Change an incident only if it is still as the caller saw it (status, handling region):
    the update, its incident event and its notifications in one transaction. Returns the new
    state, or None when the incident moved on meanwhile (nothing written).

    `notify_posts(posts, event_id)` turns the incident's group posts (chat, message, region, oldest
    first) and the new event's id into more notifications (edits, notices); the posts are
    read inside the transaction, so a post remembered just before the change is edited, and one
    remembered after it finds the new event."""
    bad = set(changes) - CHANGEABLE
    if bad:
        raise ValueError(f"not changeable: {sorted(bad)}")
    values = {k: to_db(v) if isinstance(v, datetime) else v for k, v in changes.items()}
    async with db.transaction() as conn:
        cur = await conn.execute("SELECT status, handling_region FROM incidents WHERE id = ?", (incident_id,))
        row = await cur.fetchone()
        if row is None or row["status"] not in expect_status:
            return None
        if expect_handling is not None and row["handling_region"] != expect_handling:
            return None
        if values:
            assignments = ", ".join(f"{column} = :{column}" for column in values)
            await conn.execute(f"UPDATE incidents SET {assignments} WHERE id = :id", values | {"id": incident_id})
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
    return await get(db, incident_id)


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


_POSTS_SQL = (
    "SELECT chat_id, message_id, region_code, thread_id FROM incident_messages"
    " WHERE incident_id = ? AND purpose = 'notifikasi' ORDER BY created_at, message_id"
)


#: routine progress reports, as `bot.services.digest.is_progress` defines them (kept equal by a test)
PROGRESS_SQL = "(kind = 'rekap' OR (kind = 'logistik' AND severity = 'rendah'))"


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
        clauses.append("status <> 'selesai'")
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
    conn: aiosqlite.Connection,
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
    try:
        async with db.transaction() as conn:
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
