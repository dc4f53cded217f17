"""The incident lifecycle: the one service that changes an incident after it was reported.

`baru → ditangani → selesai`, with escalation moving the incident up to the next level's
coordination group (and back to `baru` there, waiting to be taken again); a wrong report is
rejected (`ditolak`: out of every figure) and a resolved or rejected one reopened (`baru`).
Commands and buttons both call `perform`; the repeating job calls `auto_escalate` (untaken too
long) and `remind_taken` (taken, but not updated for `REMIND_TAKEN_MIN`). Every change is checked
against the rule table (`bot.domain.access`), written with its incident event and its notifications in
one transaction (`storage.incidents.apply_change`), and refused — changing nothing — when the
incident moved on meanwhile.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from bot.domain import access
from bot.domain.access import Action, Grant, Reason
from bot.domain.digest import is_progress
from bot.domain.follow_up import Step, next_step
from bot.domain.models import Attachment, Incident, IncidentEvent, Region, Role, Status, User
from bot.domain.privacy import mask_niks
from bot.domain.regions import parent_of
from bot.domain.reporting import STATEFUL, URGENT_SEVERITIES, Severity, logistics_due
from bot.services import audit
from bot.services.runtime import Runtime
from storage import groups as group_store
from storage import incidents as incident_store
from storage import regions as region_store
from storage import users as user_store
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
    TOLAK = "tolak"
    BUKA = "buka"


MOVE_ACTION = {
    Move.TANGANI: Action.TANGANI,
    Move.ESKALASI: Action.ESKALASI,
    Move.SELESAI: Action.SELESAI,
    Move.CATATAN: Action.CATATAN,
    Move.TOLAK: Action.TOLAK,
    Move.BUKA: Action.BUKA,
}


class Why(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"
    ALREADY_TAKEN = "already_taken"
    ALREADY_DONE = "already_done"
    AT_TOP = "at_top"
    NOTE_REQUIRED = "note_required"
    NOTE_TOO_LONG = "note_too_long"
    CONFLICT = "conflict"  # it changed while we looked; try again
    ALREADY_REJECTED = "already_rejected"
    REASON_REQUIRED = "reason_required"  # /tolak without alasan
    NOT_CLOSED = "not_closed"  # /buka of an incident that is still open
    STATE_OPEN = "state_open"  # /buka: another incident of its kecamatan × item is open
    PROGRESS = "progress"  # a petugas escalating a routine progress report


@dataclass(frozen=True, slots=True)
class MoveResult:
    ok: bool
    why: str  # Why or an access.Reason value
    incident: Incident | None = None
    to_region: str | None = None  # escalation: the level it moved to
    to_group: bool = True  # escalation: whether a group at that level (or above) received it
    to_group_region: str | None = None  # escalation: the region of the group that received it
    other_id: int | None = None  # STATE_OPEN: the incident open for the same kecamatan × item


async def route_new(rt: Runtime, region_code: str, severity: str) -> list[OutboxRow]:
    """Notifications for a new incident: tinggi and kritis go to the nearest group up the tree."""
    if severity not in URGENT_SEVERITIES:
        return []
    group = await group_store.nearest(rt.db, region_code)
    if group is None:
        return []
    return [
        OutboxRow(
            "posting",
            group.chat_id,
            f"posting:{{id}}:{group.chat_id}:0",
            group.thread_id,
            region_code=group.region_code,
        )
    ]


def edit_rows(posts: list[dict], event_id: int) -> list[OutboxRow]:
    """Edit every group post of the incident to show its state as of event `event_id` (one edit per
    post and event, whoever queues it)."""
    return [
        OutboxRow(
            "edit",
            m["chat_id"],
            f"edit:{{id}}:{m['chat_id']}:{m['message_id']}:e{event_id}",
            m["thread_id"],
            message_id=m["message_id"],
            region_code=m["region_code"],
        )
        for m in posts
    ]


def resolution_rows(posts: list[dict], note: str) -> list[OutboxRow]:
    """The resolution notice for every group the incident was posted to (one per chat)."""
    chats: dict[int, int | None] = {}
    for m in posts:
        chats.setdefault(m["chat_id"], m["thread_id"])
    return [
        OutboxRow("selesai", chat, f"selesai:{{id}}:{chat}", thread, note=note)
        for chat, thread in sorted(chats.items())
    ]


def _refusal(actor: User, incident: Incident, move: Move, note: str) -> str | None:
    """Why `move` cannot be done to `incident` as it is now (the actor's rights already checked)."""
    if move is Move.CATATAN and not note:
        return Why.NOTE_REQUIRED
    if move is Move.TOLAK and not note:
        return Why.REASON_REQUIRED
    if len(note) > NOTE_LIMIT:
        return Why.NOTE_TOO_LONG
    if move is Move.BUKA:
        return None if incident.status.closed else Why.NOT_CLOSED
    if incident.status is Status.DITOLAK and move is not Move.CATATAN:
        return Why.ALREADY_REJECTED
    if incident.status is Status.SELESAI and move not in (Move.CATATAN, Move.TOLAK):
        return Why.ALREADY_DONE
    if move is Move.TANGANI and incident.status is Status.DITANGANI:
        return Why.ALREADY_TAKEN
    if move is Move.ESKALASI and actor.role is Role.PETUGAS and is_progress(incident.kind, incident.severity):
        return Why.PROGRESS  # routine figures, not a problem: nothing for the level above to do
    return None


async def perform(rt: Runtime, actor: User | None, incident_id: int, move: Move, note: str = "") -> MoveResult:
    """Take, escalate, resolve, comment on, reject or reopen an incident, if `actor` may."""
    incident = await incident_store.get(rt.db, incident_id)
    if incident is None:
        return MoveResult(False, Why.NOT_FOUND)
    decision = access.decide(actor, MOVE_ACTION[move], incident.region_code, owner_id=incident.reporter_id)
    if not decision:
        actor_id = actor.telegram_id if actor else None
        await audit.refused(rt, actor_id, move.value, f"insiden {incident_id}", decision.reason.value)
        return MoveResult(False, decision.reason.value, incident)
    assert actor is not None  # decide() refuses a missing user
    note = note.strip()
    refused = _refusal(actor, incident, move, note)
    if refused is not None:
        return MoveResult(False, refused, incident)
    if move is Move.ESKALASI:
        return await _escalate(rt, actor, incident, note, automatic=False)
    if move is Move.BUKA and incident.kind in STATEFUL:
        other = await incident_store.open_stateful(rt.db, incident.kind, incident.region_code, incident.item)
        if other is not None:
            return MoveResult(False, Why.STATE_OPEN, incident, other_id=other.id)
    now = rt.clock()
    changes: dict = {}
    notify: list[OutboxRow] = []
    reporter_told = actor.telegram_id != incident.reporter_id

    def posts_notify(posts: list[dict], event_id: int) -> list[OutboxRow]:
        # every post shows the new state; a resolution is also told to every group it reached, a
        # rejection (or the reopening of one) to the reporter
        rows = edit_rows(posts, event_id)
        if move is Move.SELESAI:
            rows += resolution_rows(posts, note)
        elif move is Move.TOLAK and reporter_told:
            rows.append(OutboxRow("ditolak", incident.reporter_id, f"ditolak:{{id}}:e{event_id}", note=note))
        elif move is Move.BUKA and incident.status is Status.DITOLAK and reporter_told:
            rows.append(OutboxRow("dibuka", incident.reporter_id, f"dibuka:{{id}}:e{event_id}", note=note))
        return rows

    if move is Move.TANGANI:
        changes = {
            "status": Status.DITANGANI.value,
            "assignee_id": actor.telegram_id,
            "taken_at": now,
            "awaiting_since": None,
        }
    elif move is Move.SELESAI:
        changes = {"status": Status.SELESAI.value, "resolved_at": now, "awaiting_since": None}
        if incident.assignee_id is None:
            changes["assignee_id"] = actor.telegram_id
        notify.append(OutboxRow("pelapor", incident.reporter_id, "pelapor:{id}", note=note))
    elif move is Move.TOLAK:
        changes = {"status": Status.DITOLAK.value, "resolved_at": now, "awaiting_since": None}
    elif move is Move.BUKA:
        # waiting to be taken again at the level it was handled at: automatic escalation and the
        # group's buttons apply as to a new one
        changes = {"status": Status.BARU.value, "resolved_at": None, "assignee_id": None, "awaiting_since": now}
    try:
        updated = await incident_store.apply_change(
            rt.db,
            incident.id,
            expect_status=(incident.status.value,),
            expect_handling=incident.handling_region,
            changes=changes,
            actor_id=actor.telegram_id,
            action=move.value,
            at=now,
            note=note,
            notify=notify,
            notify_posts=posts_notify,
            audited={"note": note} if move in (Move.TOLAK, Move.BUKA) else None,
        )
    except incident_store.StateChanged:
        return MoveResult(False, Why.CONFLICT, incident)
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
        notify.append(
            OutboxRow(
                "posting",
                target_group.chat_id,
                f"posting:{{id}}:{target_group.chat_id}:{level_no}",
                target_group.thread_id,
                region_code=target_group.region_code,
                note=note,
            )
        )
    updated = await incident_store.apply_change(
        rt.db,
        incident.id,
        expect_status=(Status.BARU.value, Status.DITANGANI.value),
        expect_handling=incident.handling_region,
        changes={
            "status": Status.BARU.value,
            "handling_region": parent,
            "escalations": level_no,
            "assignee_id": None,
            "awaiting_since": now,
        },
        actor_id=None if automatic or actor is None else actor.telegram_id,
        action="eskalasi_otomatis" if automatic else "eskalasi",
        at=now,
        note=note,
        notify=notify,
        notify_posts=edit_rows,
    )
    if updated is None:
        return MoveResult(False, Why.CONFLICT, incident)
    return MoveResult(
        True,
        Why.OK,
        updated,
        to_region=parent,
        to_group=target_group is not None,
        to_group_region=target_group.region_code if target_group else None,
    )


def logistics_due_now(rt: Runtime) -> bool:
    """Whether logistics must be complete at every PPK by now (LOGISTICS_DEADLINE_DAYS before H)."""
    today = rt.clock().astimezone(rt.settings.tz).date()
    return logistics_due(today, rt.settings.ELECTION_DAY, rt.settings.LOGISTICS_DEADLINE_DAYS)


async def raise_due_shortfalls(rt: Runtime) -> list[Incident]:
    """Once the logistics deadline has come, every shortfall still tracked (sedang) becomes a
    problem: prioritas tinggi, posted to the nearest group and, untaken, escalated like any other.
    Each change is a compare-and-set with a 'prioritas' event, so a restart never repeats one."""
    if not logistics_due_now(rt):
        return []
    now = rt.clock()
    raised = []
    for incident in await incident_store.tracked_shortfalls(rt.db):
        updated = await incident_store.apply_change(
            rt.db,
            incident.id,
            expect_status=(incident.status.value,),
            expect_handling=incident.handling_region,
            changes={"severity": Severity.TINGGI.value, "awaiting_since": now},
            actor_id=None,
            action="prioritas",
            at=now,
            note=Severity.TINGGI.value,
            notify=await route_new(rt, incident.region_code, Severity.TINGGI.value),
            notify_posts=edit_rows,
        )
        if updated is not None:
            raised.append(updated)
    return raised


async def auto_escalate(rt: Runtime, auto_note: AutoNote) -> list[MoveResult]:
    """Escalate every kritis / tinggi incident left untaken too long at its level (after raising
    the shortfalls the logistics deadline made problems).

    The waiting time is measured from `awaiting_since` in the database, and each escalation is a
    compare-and-set on the incident's level, so a restart neither loses nor repeats one.
    """
    await raise_due_shortfalls(rt)
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
                    rt.db,
                    incident.id,
                    expect_status=(Status.BARU.value,),
                    expect_handling=incident.handling_region,
                    changes={"awaiting_since": None},
                    actor_id=None,
                    action="eskalasi_otomatis",
                    at=now,
                    note=auto_note(minutes, True),
                )
            results.append(result)
    return results


async def remind_taken(rt: Runtime) -> list[tuple[Incident, Step]]:
    """Follow taken tinggi/kritis incidents that nobody updated: after `REMIND_TAKEN_MIN` the one
    who took it is reminded privately; at twice that every card of it says "belum ada pembaruan".
    Any update (a /catatan, a report, a status change) starts the clock again.

    Like `auto_escalate`, the state is the incident history itself: each step is an event written
    with its notifications as a compare-and-set, so a restart neither loses nor repeats one."""
    now = rt.clock()
    minutes = rt.settings.REMIND_TAKEN_MIN
    done = []
    for waiting in await incident_store.taken_without_update(rt.db, since_before=now - timedelta(minutes=minutes)):
        incident = waiting.incident
        step = next_step(waiting.last_update, now, minutes, reminded=waiting.reminded, flagged=waiting.flagged)
        if step is None or incident.assignee_id is None:
            continue
        notify = []
        if step is Step.PENGINGAT:
            notify.append(
                OutboxRow(
                    "pengingat",
                    incident.assignee_id,
                    f"pengingat:{{id}}:e{waiting.last_event_id}",
                    note=str(minutes),
                )
            )
        updated = await incident_store.apply_change(
            rt.db,
            incident.id,
            expect_status=(Status.DITANGANI.value,),
            expect_handling=incident.handling_region,
            changes={},
            actor_id=None,
            action=step.value,
            at=now,
            note=str(minutes if step is Step.PENGINGAT else 2 * minutes),
            notify=notify,
            notify_posts=edit_rows if step is Step.BELUM_DIPERBARUI else None,
        )
        if updated is not None:
            done.append((updated, step))
    return done


# --- reading incidents: /status, /insiden, and the names a lifecycle answer shows ------------------


async def region_titles(rt: Runtime, events: list[IncidentEvent]) -> dict[str, str]:
    """The offices escalations went to ("KPU Provinsi Bali"), for the history lines."""
    codes = {e.region_code for e in events if e.action.startswith("eskalasi") and e.region_code}
    found = await region_store.get_many(rt.db, codes)
    return {code: found[code].office if code in found else code for code in codes}


def masked_for_others(incident: Incident, events: list[IncidentEvent]) -> list[IncidentEvent]:
    """The history as shown to anyone: notes written by others than the reporter with NIKs masked
    (a reply is unmasked only in the reporter's own chat, so what others wrote is masked for them too)."""
    return [e if e.actor_id == incident.reporter_id else dataclasses.replace(e, note=mask_niks(e.note)) for e in events]


@dataclass(frozen=True, slots=True)
class IncidentView:
    """One incident as /status shows it."""

    incident: Incident
    path: tuple[Region, ...]
    reporter_name: str
    events: list[IncidentEvent]  # masked for others (`masked_for_others`)
    attachments: list[Attachment]
    region_titles: dict[str, str]


@dataclass(frozen=True, slots=True)
class NotShown:
    why: str  # Why.NOT_FOUND or an access.Reason value


async def view(rt: Runtime, actor: User | None, incident_id: int) -> IncidentView | NotShown:
    """/status: the incident with its history and attachments, if `actor` may see it."""
    incident = await incident_store.get(rt.db, incident_id)
    if incident is None:
        return NotShown(Why.NOT_FOUND)
    decision = access.decide(actor, Action.LIHAT, incident.region_code, owner_id=incident.reporter_id)
    if not decision:
        return NotShown(decision.reason.value)
    assert actor is not None  # decide() refuses a missing user
    reporter = await user_store.get(rt.db, incident.reporter_id)
    events = masked_for_others(incident, await incident_store.events(rt.db, incident.id))
    return IncidentView(
        incident,
        await region_store.path(rt.db, incident.region_code),
        reporter.full_name if reporter else str(incident.reporter_id),
        events,
        await incident_store.attachments(rt.db, incident.id),
        await region_titles(rt, events),
    )


@dataclass(frozen=True, slots=True)
class IncidentPage:
    """One page of /insiden: the incidents with their region's name, and how many there are."""

    items: list[tuple[Incident, str]]
    page: int
    pages: int
    total: int
    without_progress: bool  # open ones of every kind: routine progress reports are left out


async def list_page(
    rt: Runtime, actor: User | None, *, kind: str | None, open_only: bool, page: int, page_size: int
) -> IncidentPage | Reason:
    """/insiden: a page of the incidents in the actor's scope (only their own for a role that
    sees only its own reports), newest first; the refusal's reason if the actor may not list."""
    decision = access.decide(actor, Action.DAFTAR)
    if not decision:
        return decision.reason
    assert actor is not None  # decide() refuses a missing user
    own_only = access.grant_for(actor.role, Action.DAFTAR) is Grant.OWN
    # open ones of every kind are what needs handling: routine progress reports are left out
    without_progress = open_only and kind is None
    items, total = await incident_store.list_in_scope(
        rt.db,
        scope=access.scope_of(actor, Action.DAFTAR),
        reporter_id=actor.telegram_id if own_only else None,
        kind=kind,
        open_only=open_only,
        offset=(page - 1) * page_size,
        limit=page_size,
        without_progress=without_progress,
    )
    regions = await region_store.get_many(rt.db, {incident.region_code for incident in items})
    named = [
        (incident, regions[incident.region_code].name if incident.region_code in regions else incident.region_code)
        for incident in items
    ]
    return IncidentPage(named, page, max(1, -(-total // page_size)), total, without_progress)


@dataclass(frozen=True, slots=True)
class Performed:
    """A lifecycle move with the names its answer shows."""

    result: MoveResult
    assignee_name: str | None  # ALREADY_TAKEN: who has it
    to_title: str | None  # a done escalation: the level whose group received it, else the parent


async def perform_named(rt: Runtime, actor: User | None, incident_id: int, move: Move, note: str = "") -> Performed:
    """`perform`, and the names the answer to the actor shows."""
    result = await perform(rt, actor, incident_id, move, note)
    who = None
    if result.why == Why.ALREADY_TAKEN and result.incident and result.incident.assignee_id:
        assignee = await user_store.get(rt.db, result.incident.assignee_id)
        who = assignee.full_name if assignee else None
    to_title = None
    if result.ok and result.to_region:
        # name the level whose group received it (it may be above the parent), else the parent
        code = result.to_group_region or result.to_region
        region = await region_store.get(rt.db, code)
        to_title = region.office if region else result.to_region
    return Performed(result, who, to_title)
