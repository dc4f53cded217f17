"""The incident lifecycle: the one service that changes an incident after it was reported.

`baru → ditangani → selesai`, with escalation moving the incident up to the next level's
coordination group (and back to `baru` there, waiting to be taken again). Commands and buttons
both call `perform`; the automatic escalation job calls `auto_escalate`. Every change is checked
against the rule table (`bot.domain.access`), written with its incident event and its notifications in
one transaction (`storage.incidents.apply_change`), and refused — changing nothing — when the
incident moved on meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.domain import access
from bot.domain.access import Action
from bot.domain.models import Incident, Status, User
from bot.domain.regions import parent_of
from bot.domain.reporting import URGENT_SEVERITIES
from bot.services.runtime import Runtime
from storage import groups as group_store
from storage import incidents as incident_store
from storage import regions as region_store
from storage.outbox import OutboxRow

#: longest note of /eskalasi, /selesai, /catatan (characters); cards and notices show less of it
NOTE_LIMIT = 1000
#: the note the bot writes into the history of an incident it escalated itself, as a function
#: `(minutes waited, already at the top)` → sentence; the caller passes the wording
#: (`bot.texts.incidents.auto_escalation_note`)
AutoNote = Callable[[int, bool], str]


class Move(StrEnum):
    TANGANI = "tangani"
    ESKALASI = "eskalasi"
    SELESAI = "selesai"
    CATATAN = "catatan"


MOVE_ACTION = {Move.TANGANI: Action.TANGANI, Move.ESKALASI: Action.ESKALASI, Move.SELESAI: Action.SELESAI,
               Move.CATATAN: Action.CATATAN}


class Why(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"
    ALREADY_TAKEN = "already_taken"
    ALREADY_DONE = "already_done"
    AT_TOP = "at_top"
    NOTE_REQUIRED = "note_required"
    NOTE_TOO_LONG = "note_too_long"
    CONFLICT = "conflict"  # it changed while we looked; try again


@dataclass(frozen=True, slots=True)
class MoveResult:
    ok: bool
    why: str  # Why or an access.Reason value
    incident: Incident | None = None
    to_region: str | None = None  # escalation: the level it moved to
    to_group: bool = True  # escalation: whether a group at that level (or above) received it
    to_group_region: str | None = None  # escalation: the region of the group that received it


async def route_new(rt: Runtime, region_code: str, severity: str) -> list[OutboxRow]:
    """Notifications for a new incident: tinggi and kritis go to the nearest group up the tree."""
    if severity not in URGENT_SEVERITIES:
        return []
    group = await group_store.nearest(rt.db, region_code)
    if group is None:
        return []
    return [OutboxRow("posting", group.chat_id, f"posting:{{id}}:{group.chat_id}:0", group.thread_id,
                      region_code=group.region_code)]


def edit_rows(posts: list[dict], event_id: int) -> list[OutboxRow]:
    """Edit every group post of the incident to show its state as of event `event_id` (one edit per
    post and event, whoever queues it)."""
    return [
        OutboxRow("edit", m["chat_id"], f"edit:{{id}}:{m['chat_id']}:{m['message_id']}:e{event_id}", m["thread_id"],
                  message_id=m["message_id"], region_code=m["region_code"])
        for m in posts
    ]


def resolution_rows(posts: list[dict], note: str) -> list[OutboxRow]:
    """The resolution notice for every group the incident was posted to (one per chat)."""
    chats: dict[int, int | None] = {}
    for m in posts:
        chats.setdefault(m["chat_id"], m["thread_id"])
    return [OutboxRow("selesai", chat, f"selesai:{{id}}:{chat}", thread, note=note)
            for chat, thread in sorted(chats.items())]


async def perform(rt: Runtime, actor: User | None, incident_id: int, move: Move, note: str = "") -> MoveResult:
    """Take, escalate, resolve or comment on an incident, if `actor` may."""
    incident = await incident_store.get(rt.db, incident_id)
    if incident is None:
        return MoveResult(False, Why.NOT_FOUND)
    decision = access.decide(actor, MOVE_ACTION[move], incident.region_code, owner_id=incident.reporter_id)
    if not decision:
        return MoveResult(False, decision.reason.value, incident)
    note = note.strip()
    if move is Move.CATATAN and not note:
        return MoveResult(False, Why.NOTE_REQUIRED, incident)
    if len(note) > NOTE_LIMIT:
        return MoveResult(False, Why.NOTE_TOO_LONG, incident)
    if incident.status is Status.SELESAI and move is not Move.CATATAN:
        return MoveResult(False, Why.ALREADY_DONE, incident)
    if move is Move.TANGANI and incident.status is Status.DITANGANI:
        return MoveResult(False, Why.ALREADY_TAKEN, incident)
    if move is Move.ESKALASI:
        return await _escalate(rt, actor, incident, note, automatic=False)
    now = rt.clock()
    changes: dict = {}
    notify: list[OutboxRow] = []

    def posts_notify(posts: list[dict], event_id: int) -> list[OutboxRow]:
        # every post shows the new state; a resolution is also told to every group it reached
        return edit_rows(posts, event_id) + (resolution_rows(posts, note) if move is Move.SELESAI else [])

    if move is Move.TANGANI:
        changes = {"status": Status.DITANGANI.value, "assignee_id": actor.telegram_id, "taken_at": now,
                   "awaiting_since": None}
    elif move is Move.SELESAI:
        changes = {"status": Status.SELESAI.value, "resolved_at": now, "awaiting_since": None}
        if incident.assignee_id is None:
            changes["assignee_id"] = actor.telegram_id
        notify.append(OutboxRow("pelapor", incident.reporter_id, "pelapor:{id}", note=note))
    updated = await incident_store.apply_change(
        rt.db, incident.id, expect_status=(incident.status.value,), expect_handling=incident.handling_region,
        changes=changes, actor_id=actor.telegram_id, action=move.value, at=now, note=note, notify=notify,
        notify_posts=posts_notify,
    )
    if updated is None:
        return MoveResult(False, Why.CONFLICT, incident)
    return MoveResult(True, Why.OK, updated)


async def _escalate(rt: Runtime, actor: User | None, incident: Incident, note: str, *, automatic: bool) -> MoveResult:
    current_group = await group_store.nearest(rt.db, incident.handling_region)
    level = current_group.region_code if current_group else incident.handling_region
    parent = parent_of(level)
    if parent is None or await region_store.get(rt.db, parent) is None:
        return MoveResult(False, Why.AT_TOP, incident)
    target_group = await group_store.nearest(rt.db, parent)
    now = rt.clock()
    notify: list[OutboxRow] = []
    level_no = incident.escalations + 1
    if target_group is not None:
        notify.append(OutboxRow("posting", target_group.chat_id, f"posting:{{id}}:{target_group.chat_id}:{level_no}",
                                target_group.thread_id, region_code=target_group.region_code, note=note))
    updated = await incident_store.apply_change(
        rt.db, incident.id, expect_status=(Status.BARU.value, Status.DITANGANI.value),
        expect_handling=incident.handling_region,
        changes={"status": Status.BARU.value, "handling_region": parent, "escalations": level_no,
                 "assignee_id": None, "awaiting_since": now},
        actor_id=None if automatic else actor.telegram_id,
        action="eskalasi_otomatis" if automatic else "eskalasi", at=now, note=note, notify=notify,
        notify_posts=edit_rows,
    )
    if updated is None:
        return MoveResult(False, Why.CONFLICT, incident)
    return MoveResult(True, Why.OK, updated, to_region=parent, to_group=target_group is not None,
                      to_group_region=target_group.region_code if target_group else None)


async def auto_escalate(rt: Runtime, auto_note: AutoNote) -> list[MoveResult]:
    """Escalate every kritis / tinggi incident left untaken too long at its level.

    The waiting time is measured from `awaiting_since` in the database, and each escalation is a
    compare-and-set on the incident's level, so a restart neither loses nor repeats one.
    """
    now = rt.clock()
    limits = {"kritis": rt.settings.AUTO_ESCALATE_KRITIS_MIN, "tinggi": rt.settings.AUTO_ESCALATE_TINGGI_MIN}
    results = []
    for severity, minutes in limits.items():
        for incident in await incident_store.due_for_escalation(
            rt.db, severity=severity, waiting_since_before=now - timedelta(minutes=minutes)
        ):
            note = auto_note(minutes, False)
            result = await _escalate(rt, None, incident, note, automatic=True)
            if result.why == Why.AT_TOP:
                # nowhere higher to go: say so in the history and stop measuring, so the job does
                # not try again every minute; the incident still waits to be taken
                await incident_store.apply_change(
                    rt.db, incident.id, expect_status=(Status.BARU.value,),
                    expect_handling=incident.handling_region, changes={"awaiting_since": None},
                    actor_id=None, action="eskalasi_otomatis", at=now, note=auto_note(minutes, True),
                )
            results.append(result)
    return results
