"""The reporting use case: parse → resolve the region → check rights → check the plan → store.

Handlers give it the text after `/lapor` and where the message came from; it answers with a
`Receipt` (the stored or updated incident), a `Batch` of them (a message of several reports), a
`Held` (a figure that went down, waiting for its reporter's Benar or Batal) or a `Refused` (why, as
a domain value that `bot.texts.incidents.refusal_text` says in Indonesian). Nothing is stored when
it refuses. The same update or message processed twice gives the same receipt; the same report
sent again within `REPEAT_WINDOW` is answered with the first one's receipt.

A message of several reports stores its first under its own message id and report k (k ≥ 1)
under `storage.incidents.part_message_id` (negative, unique per part), with the update id on the
last one only: the same ids whether the report opens an incident or is kept in
`incident_reports` as a later report (or a held one) of an open one, so one message is stored once
by either table's UNIQUE keys.

Every answer that says a report was stored (or held, or repeated) goes through the outbox, so
storing never waits for Telegram and a receipt that cannot be sent now is retried until it is:
the common one — a single report that opens an incident — is written by the schema with the
report (trigger `incidents_receipt`, migration 0013); the others are queued here as soon as the
message's reports are stored (`receipt_rows`), under a key a replay of the same update repeats.
A report is the same one only when the same bot received the same message with the same content
(`rt.bot_id`, migration 0014).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain import access
from bot.domain.access import Action, Reason
from bot.domain.models import Incident, Level, NewAttachment, NewIncident, Region, User
from bot.domain.parsing import parse_message
from bot.domain.privacy import nik_region_mismatches
from bot.domain.regions import normalize_code
from bot.domain.reporting import (
    STATEFUL,
    URGENT_SEVERITIES,
    DataReport,
    ErrorCode,
    HitungReport,
    IncidentNotFound,
    InsidenReport,
    LaporError,
    LogistikReport,
    NeedsKecamatan,
    ParsedLapor,
    Refusal,
    RekapReport,
    Report,
    Severity,
    TargetAmbiguous,
    TargetOutOfScope,
    TargetUnknown,
    check_against_plan,
    derive_severity,
    is_complete,
    went_down,
)
from bot.services import incidents as lifecycle
from bot.services.runtime import Runtime
from storage import groups as group_store
from storage import incidents as incident_store
from storage import outbox as outbox_store
from storage import regions as region_store
from storage.outbox import OutboxRow

#: kinds whose figures are cumulative per kecamatan, so they must name one
PER_KECAMATAN = STATEFUL
#: The same report from the same reporter within this time is one report (an officer unsure it
#: went through sends it again): no second incident, no second post.
REPEAT_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Receipt:
    incident: Incident
    path: tuple[Region, ...]
    duplicate: bool = False
    nik_warnings: tuple[str, ...] = field(default=())
    #: the receipt (and any notification) was queued in the outbox: the sender has work
    notified: bool = False
    updated: int | None = None  # the report updated this open incident; its number among its reports
    closed: bool = False  # the report completed the figures: the incident was closed automatically
    plan: int | None = None  # the kebutuhan / number of TPS the report was read against (imported)
    repeat_minutes: int | None = None  # sent again within REPEAT_WINDOW: minutes since the first
    #: its receipt was queued by the schema with the report (trigger `incidents_receipt`)
    queued: bool = False


@dataclass(frozen=True, slots=True)
class Held:
    """A report whose figure is below the current one: kept as `report_id`, not counted until its
    reporter presses Benar (or Batal)."""

    report_id: int
    report: Report
    current: Report
    path: tuple[Region, ...]
    #: the open incident it would update (None: none is open)
    incident_id: int | None = None
    #: the current figures as stored (`storage.incidents.StateContext.current`), for the receipt
    current_figures: dict = field(default_factory=dict)
    reporter_id: int | None = None


@dataclass(frozen=True, slots=True)
class Batch:
    """The answers to a message that carried several reports, in the order of the message: a
    receipt each, or the question of a figure that went down."""

    receipts: tuple[Receipt | Held, ...]

    @property
    def notified(self) -> bool:
        return True  # its receipt was queued in the outbox

    @property
    def reporter_id(self) -> int | None:
        first = next((r for r in self.receipts if isinstance(r, Receipt)), None)
        return first.incident.reporter_id if first is not None else None


@dataclass(frozen=True, slots=True)
class Refused:
    why: Refusal
    line: int | None = None  # the /lapor line it concerns, in a message of several


@dataclass(frozen=True, slots=True)
class Source:
    """Where a report came from: for idempotency and for the message's own time."""

    chat_id: int
    message_id: int
    update_id: int | None
    sent_at: datetime
    #: how the receipt answers: as a reply to the report's message (groups), in the chat (private,
    #: False), or by editing a message of the bot: `message_id` (the guided flow's confirmation),
    #: or `edit_message_id` (the answer that offered a corrected report)
    quote: bool = False
    edit: bool = False
    edit_message_id: int | None = None

    @property
    def key(self) -> str:
        """The outbox key of this source's receipt: a replay of the same update finds it queued
        (the same key as the schema's `incidents_receipt` trigger writes, migration 0013)."""
        return f"{self.chat_id}:{self.message_id}:{'' if self.update_id is None else self.update_id}"

    @property
    def edited(self) -> int | None:
        """The bot's message the receipt is edited into, if it is edited into one."""
        if self.edit_message_id is not None:
            return self.edit_message_id
        return self.message_id if self.edit else None


#: the figures of a cumulative report a receipt restates (an incident updated in place later shows others)
RECEIPT_FIGURES = ("received", "planned", "damaged", "tps_done", "tps_total", "sirekap", "desa_done", "desa_total")


def _figures_of(incident: Incident | NewIncident) -> dict:
    if incident.kind not in STATEFUL:
        return {}
    return {"figures": {name: getattr(incident, name) for name in RECEIPT_FIGURES}}


def _receipt_detail(receipt: Receipt) -> dict:
    detail: dict = _figures_of(receipt.incident)
    if receipt.duplicate:
        detail["duplicate"] = True
    if receipt.repeat_minutes is not None:
        detail["repeat"] = receipt.repeat_minutes
    if receipt.updated is not None:
        detail["updated"] = receipt.updated
    if receipt.closed:
        detail["closed"] = True
    return detail


def _held_detail(held: Held) -> dict:
    return {"held": held.report_id, "current": held.current_figures}


def receipt_rows(source: Source, answer: Receipt | Batch | Held) -> tuple[int | None, list[OutboxRow]]:
    """The outbox rows that answer a message whose reports were stored (or held, or repeated), and
    the incident they belong to: one receipt (one message for a message of several reports), then
    each figure that went down asked in a message of its own with Benar / Batal — unless it is the
    only answer, then the receipt is that question. Keyed on the message and its first report, so
    a replay of the same update queues nothing twice."""
    parts: tuple[Receipt | Held, ...] = answer.receipts if isinstance(answer, Batch) else (answer,)
    first = parts[0]
    anchor = f"{first.incident.id}" if isinstance(first, Receipt) else f"t{first.report_id}"
    incident_id = next((p.incident.id for p in parts if isinstance(p, Receipt)), None)
    if incident_id is None and isinstance(first, Held):
        incident_id = first.incident_id
    edited = source.edited
    flags: list[str] = []
    if isinstance(answer, Batch):
        detail: dict = {
            "parts": [
                {"incident": p.incident.id, **_receipt_detail(p)} if isinstance(p, Receipt) else _held_detail(p)
                for p in parts
            ]
        }
    elif isinstance(answer, Held):
        detail = _held_detail(answer)
    else:
        detail = _receipt_detail(answer)
        if answer.duplicate:
            flags.append("duplikat")
    rows = [_receipt_row(source, anchor, detail, flags)]
    if isinstance(answer, Batch):
        for held in (p for p in parts if isinstance(p, Held)):
            rows.append(
                OutboxRow(
                    purpose="tanda_terima",
                    chat_id=source.chat_id,
                    dedupe_key=f"turun:{held.report_id}:{source.key}",
                    # asked below the receipt: a reply to the report in a group, else a message
                    message_id=source.message_id if source.quote and edited is None else None,
                    detail=json.dumps(_held_detail(held), separators=(",", ":")),
                )
            )
    return incident_id, rows


def _receipt_row(source: Source, anchor: str, detail: dict, flags: list[str]) -> OutboxRow:
    """The outbox row of the answer to `source` whose first report is `anchor` (an incident id, or
    `t<report>` for a held figure): the same key as the schema's trigger for the same report."""
    edited = source.edited
    return OutboxRow(
        purpose="tanda_terima",
        chat_id=source.chat_id,
        dedupe_key=f"tanda_terima:{anchor}:{source.key}",
        message_id=edited if edited is not None else (source.message_id if source.quote else None),
        note=" ".join(["ubah", *flags] if edited is not None else flags),
        detail=json.dumps(detail, separators=(",", ":")),
    )


async def _answered(rt: Runtime, source: Source, answer: Receipt | Batch | Held) -> Receipt | Batch | Held:
    """Queue the answer to a stored message in the outbox (unless the schema queued it with the
    report: a single report that opened an incident)."""
    if isinstance(answer, Receipt) and answer.queued:
        return answer
    incident_id, rows = receipt_rows(source, answer)
    await outbox_store.queue(rt.db, incident_id, rows, rt.clock())
    return answer


async def resolve_target(rt: Runtime, actor: User, target: str | None, kind: str | None = None) -> Region | Refused:
    """The region a report (of `kind`) is for: the reporter's own, or `@code` / `@name` inside
    their scope. A refusal names the target, and gives the right form with an example."""
    if target is None:
        region = await region_store.get(rt.db, actor.region_code)
        return region if region else Refused(Reason.SCOPE)
    code = normalize_code(target)
    if code is not None:
        region = await region_store.get(rt.db, code)
        if region is None:
            return Refused(TargetUnknown(target, kind, await _example_code(rt, actor)))
        return region  # its scope is checked with the rule table (`check`)
    name = target.replace("_", " ")
    exact = await region_store.exact_matches(rt.db, name, within=actor.region_code)
    candidates = exact or [m.region for m in await region_store.search(rt.db, name, within=actor.region_code, limit=6)]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        paths = [await region_store.path(rt.db, r.code) for r in candidates[:5]]
        return Refused(TargetAmbiguous(target, tuple(paths)))
    elsewhere = await region_store.exact_matches(rt.db, name)
    if elsewhere:
        return await _out_of_scope(rt, actor, target, elsewhere[0] if len(elsewhere) == 1 else None, kind)
    return Refused(TargetUnknown(target, kind, await _example_code(rt, actor)))


async def region_for(rt: Runtime, actor: User, target: str | None, kind: str) -> Region | Refused:
    """The region a report of `kind` is for (own, or `@target`), with the reporter's right to
    report there and a kecamatan for cumulative figures: the guided flow's region step and every
    report use this one check."""
    region = await resolve_target(rt, actor, target, kind)
    if isinstance(region, Refused):
        return region
    decision = access.decide(actor, Action.LAPOR, region.code)
    if not decision:
        if decision.reason is Reason.SCOPE and target is not None:
            return await _out_of_scope(rt, actor, target, region, kind)
        return Refused(decision.reason)
    if kind in PER_KECAMATAN and region.level is not Level.KECAMATAN:
        return Refused(NeedsKecamatan(kind, region))
    return region


async def _example_code(rt: Runtime, actor: User) -> str:
    """A region the actor may report for, for examples: a kecamatan under their own region."""
    region = await region_store.get(rt.db, actor.region_code)
    while region is not None and region.level is not Level.KECAMATAN:
        children = await region_store.children(rt.db, region.code)
        if not children:
            break
        region = children[0]
    return region.code if region is not None else actor.region_code


async def _out_of_scope(rt: Runtime, actor: User, target: str, region: Region | None, kind: str | None) -> Refused:
    path = await region_store.path(rt.db, region.code) if region is not None else ()
    home = await region_store.path(rt.db, actor.region_code)
    return Refused(TargetOutOfScope(target, path, home, kind, await _example_code(rt, actor)))


def _figures(report: Report) -> dict:
    match report:
        case LogistikReport():
            return {
                "item": report.item,
                "received": report.received,
                "planned": report.planned,
                "damaged": report.damaged,
            }
        case DataReport():
            return {"item": report.problem, "data_count": report.count}
        case HitungReport():
            return {"tps_done": report.tps_done, "tps_total": report.tps_total, "sirekap": report.sirekap}
        case RekapReport():
            return {"item": report.jenis, "desa_done": report.desa_done, "desa_total": report.desa_total}
    return {}


def _text_of(report: Report) -> str:
    match report:
        case LogistikReport() | DataReport():
            return report.note
        case InsidenReport():
            return report.description
    return ""


async def submit_text(rt: Runtime, actor: User, args: str, source: Source) -> Receipt | Batch | Held | Refused:
    """A message of one or more `/lapor …` lines (the text after the first command).

    Every report of the message is checked before any is stored: one bad line refuses the whole
    message, naming the line. A repeat of a stored message (the same update or message) gets its
    receipts: storing it again is refused by the UNIQUE keys, and a refusal first makes sure it
    is not a repeat — so the common case, a new report, costs no separate look-up."""
    parsed = parse_message(args)
    if isinstance(parsed, LaporError):
        return await _redelivered(rt, source) or Refused(parsed)
    several = len(parsed) > 1
    checked: list[Checked] = []
    for number, line in enumerate(parsed, start=1):
        for report in line.reports:
            one = await check(rt, actor, line.target, report)
            if isinstance(one, Refused):
                return await _redelivered(rt, source) or _on_line(one, number if several else None)
            checked.append(one)
    return await _answered(rt, source, await _store_all(rt, actor, checked, source))


async def _store_all(rt: Runtime, actor: User, checked: list[Checked], source: Source) -> Receipt | Batch | Held:
    """Store the checked reports of one message in its order. The last carries the update id, so
    the update counts as processed only once every report of it is stored (after a crash in
    between, the redelivered update stores the rest; the stored ones are caught by their keys).
    A cumulative report after the first is read again against the state the reports before it
    left (`kotak 700` then `kotak 900` in one message update one incident)."""
    last = len(checked) - 1
    answers: list[Receipt | Held] = []
    for part, one in enumerate(checked):
        if part > 0 and one.context is not None:
            one = dataclasses.replace(one, context=await _context(rt, one.report, one.region.code))
        answers.append(await _store_part(rt, actor, one, source, part, part == last, alone=last == 0))
    return answers[0] if len(answers) == 1 else Batch(tuple(answers))


def _on_line(refused: Refused, line: int | None) -> Refused:
    if line is None:
        return refused
    if isinstance(refused.why, LaporError):
        return Refused(dataclasses.replace(refused.why, line=line))
    return Refused(refused.why, line)


async def _redelivered(rt: Runtime, source: Source) -> Receipt | Batch | None:
    """The receipts of a message this bot already stored (the same update delivered again),
    queued again under the same key: nothing new if they were queued before (the common case),
    and the receipt after all if the bot stopped between storing and queueing it."""
    parts = await incident_store.parts_of(rt.db, rt.bot_id, source.chat_id, source.message_id)
    if len(parts) > 1:
        batch = Batch(tuple([await _receipt_of(rt, part) for part in parts]))
        await _answered(rt, source, batch)
        return batch
    duplicate = await _duplicate(rt, source)
    if duplicate is not None:
        await _answered(rt, source, duplicate)
    return duplicate


async def _duplicate(rt: Runtime, source: Source) -> Receipt | None:
    existing = await incident_store.find_duplicate(
        rt.db, bot_id=rt.bot_id, chat_id=source.chat_id, message_id=source.message_id
    )
    if existing is None:
        return None
    return await _receipt_of(rt, existing)


async def _receipt_of(rt: Runtime, existing: Incident) -> Receipt:
    return Receipt(
        existing,
        await region_store.path(rt.db, existing.region_code),
        duplicate=True,
        nik_warnings=tuple(nik_region_mismatches(existing.description, existing.region_code)),
        notified=True,
    )


async def submit_parsed(
    rt: Runtime, actor: User, parsed: ParsedLapor, source: Source
) -> Receipt | Batch | Held | Refused:
    """Reports already parsed (the guided flow's answers): all checked, then all stored."""
    duplicate = await _redelivered(rt, source)
    if duplicate is not None:
        return duplicate
    checked: list[Checked] = []
    for report in parsed.reports:
        one = await check(rt, actor, parsed.target, report)
        if isinstance(one, Refused):
            return one
        checked.append(one)
    return await _answered(rt, source, await _store_all(rt, actor, checked, source))


@dataclass(frozen=True, slots=True)
class Checked:
    """A report that passed every check, with what storing it needs: where it is for, the plan in
    force (logistics without a plan of its own), the severity derived."""

    report: Report
    region: Region
    path: tuple[Region, ...]
    plan: int | None
    severity: Severity
    #: cumulative kinds: the kecamatan's current figures and open incident, read with the plan
    context: incident_store.StateContext | None = None

    @property
    def shown(self) -> Report:
        """The report as the receipt will restate it (the imported kebutuhan or number of TPS in force)."""
        if isinstance(self.report, LogistikReport) and self.plan is not None:
            return dataclasses.replace(self.report, planned=self.plan)
        if isinstance(self.report, HitungReport) and self.plan is not None:
            return dataclasses.replace(self.report, tps_total=self.plan)
        return self.report


def past_deadline(rt: Runtime) -> bool:
    """Whether logistics are due now: from H minus LOGISTICS_DEADLINE_DAYS (local date)."""
    return lifecycle.logistics_due_now(rt)


async def check(rt: Runtime, actor: User, target: str | None, report: Report) -> Checked | Refused:
    """Every rule a report must pass before it is stored: the region (own, or `@target` in scope),
    the reporter's right there, a kecamatan for cumulative figures, the figures against the
    imported kebutuhan or number of TPS. The guided flow shows the result before "Kirim"; storing
    checks again."""
    region = await region_for(rt, actor, target, report.kind.value)
    if isinstance(region, Refused):
        return region
    context = await _context(rt, report, region.code) if report.kind.value in STATEFUL else None
    plan = context.plan if context is not None else None
    if isinstance(report, HitungReport):
        if plan is None and report.tps_total is None:
            return Refused(LaporError(ErrorCode.MISSING_TPS_TOTAL, str(report.tps_done), report.kind))
        bound = plan if plan is not None else report.tps_total
        if bound is not None and report.tps_done > bound:
            return Refused(LaporError(ErrorCode.TPS_OVER_BASELINE, str(report.tps_done), report.kind, bound=bound))
    error = check_against_plan(report, plan)
    if error is not None:
        return Refused(error)
    severity = derive_severity(report, plan, past_deadline=past_deadline(rt))
    return Checked(report, region, await region_store.path(rt.db, region.code), plan, severity, context)


async def _context(rt: Runtime, report: Report, region_code: str) -> incident_store.StateContext:
    """The state a cumulative report is read against: its kecamatan (× item or jenis)."""
    key = report.item if isinstance(report, LogistikReport) else getattr(report, "jenis", None)
    return await incident_store.state_context(rt.db, report.kind.value, region_code, key)


def _new_incident(
    rt: Runtime, checked: Checked, actor: User, source: Source, now: datetime, part: int, last: bool, alone: bool
) -> NewIncident:
    report = checked.shown
    figures = _figures(report)
    # the receipt: written by the schema with a lone report that opens an incident (edited into the
    # guided flow's confirmation: 'ubah'); any other is queued with the message's (`_answered`)
    complete = report.kind.value in STATEFUL and is_complete(report, checked.plan)
    payload: dict = {}
    if not alone or complete or source.edit_message_id is not None:
        payload["tanda_terima"] = "sendiri"
    elif source.edit:
        payload["tanda_terima"] = "ubah"
    if isinstance(checked.report, LogistikReport):
        # where the kebutuhan came from, for the receipt and history
        typed = checked.report.planned
        payload["kebutuhan_dari"] = "impor" if checked.plan is not None else ("laporan" if typed is not None else None)
    return NewIncident(
        kind=report.kind.value,
        severity=checked.severity.value,
        region_code=checked.region.code,
        reporter_id=actor.telegram_id,
        description=_text_of(report),
        payload=payload,
        source_chat_id=source.chat_id,
        source_message_id=incident_store.part_message_id(source.message_id, part),
        update_id=source.update_id if last else None,
        bot_id=rt.bot_id,
        reported_at=source.sent_at,
        received_at=now,
        **figures,
    )


def _current_report(kind: str, state: dict | None, item: str | None) -> Report | None:
    if state is None:
        return None
    if kind == "logistik" and item is not None:
        return LogistikReport(item, state["received"], state["planned"], state["damaged"])
    if kind == "hitung":
        return HitungReport(state["tps_done"], state["tps_total"], state["sirekap"])
    if kind == "rekap" and item is not None:
        return RekapReport(item, state["desa_done"], state["desa_total"])
    return None


async def _store_part(
    rt: Runtime, actor: User, checked: Checked, source: Source, part: int, last: bool, *, alone: bool
) -> Receipt | Held:
    """Store one checked report as report `part` of its message — unless the same reporter sent
    the same report (kind, region, figures) within REPEAT_WINDOW: then the first one's receipt. A
    cumulative figure below the current one is held for its reporter's Benar or Batal; any other
    cumulative report updates its kecamatan's open incident, or opens one."""
    now = rt.clock()
    new = _new_incident(rt, checked, actor, source, now, part, last, alone)
    answer_to = source if alone else None  # a lone report's receipt is queued with it
    # an uraian or keterangan says what and where: the same figures with other words are news
    worded = isinstance(checked.report, InsidenReport | DataReport)
    first = await incident_store.same_recent(
        rt.db, new, now - REPEAT_WINDOW, with_text=worded, with_severity=isinstance(checked.report, InsidenReport)
    )
    if first is not None:
        if (first.bot_id, first.source_chat_id, first.source_message_id) == (
            new.bot_id,
            new.source_chat_id,
            new.source_message_id,
        ):
            return await _receipt_of(rt, first.incident)  # this very message, delivered again
        minutes = max(int((now - first.received_at).total_seconds() // 60), 0)
        return dataclasses.replace(await _receipt_of(rt, first.incident), repeat_minutes=minutes)
    if checked.context is not None:
        current = _current_report(new.kind, checked.context.current, new.item)
        if current is not None and went_down(checked.shown, current):
            try:
                held = await incident_store.hold_report(rt.db, new, checked.context.open_id)
            except incident_store.AlreadyStored:  # asked before: the same question again
                same = await incident_store.report_of_message(
                    rt.db, bot_id=new.bot_id, chat_id=new.source_chat_id, message_id=new.source_message_id
                )
                if same is None:
                    raise
                held = same
            figures = dict(checked.context.current or {})
            return Held(held, checked.shown, current, checked.path, checked.context.open_id, figures, actor.telegram_id)
    try:
        try:
            return await _store(rt, checked, new, held_id=None, answer_to=answer_to)
        except incident_store.StateChanged:  # a colleague's report opened it a moment ago
            context = await _context(rt, checked.report, checked.region.code)
            return await _store(
                rt, dataclasses.replace(checked, context=context), new, held_id=None, answer_to=answer_to
            )
    except incident_store.AlreadyStored:  # the same update or message, delivered twice at once
        found = await incident_store.find_duplicate(
            rt.db, bot_id=new.bot_id, chat_id=new.source_chat_id, message_id=new.source_message_id
        )
        if found is None:
            raise
        return await _receipt_of(rt, found)


async def _store(
    rt: Runtime, checked: Checked, new: NewIncident, *, held_id: int | None, answer_to: Source | None
) -> Receipt:
    """Store a checked report: a stateful one updates its kecamatan's open incident in place (and
    closes it when complete), or opens one; any other kind is a new incident."""
    complete = new.kind in STATEFUL and is_complete(checked.shown, checked.plan)
    nik = tuple(nik_region_mismatches(new.description, new.region_code))
    context = checked.context
    if context is not None and context.open_id is not None and context.open_severity is not None:
        return await _update(
            rt,
            checked,
            new,
            context.open_id,
            context.open_severity,
            held_id=held_id,
            complete=complete,
            nik=nik,
            answer_to=answer_to,
        )
    notify = [] if complete else await lifecycle.route_new(rt, new.region_code, new.severity)
    incident, created = await incident_store.create(rt.db, new, notify)
    if not created:  # the same update or message was stored before: its receipt, as it was
        return await _receipt_of(rt, incident)
    if held_id is not None:
        await incident_store.decide_held(rt.db, held_id, "batal", rt.clock())  # replaced by the row just made
    closed = False
    if complete:
        done = await incident_store.close_complete(rt.db, incident.id, at=rt.clock(), note="1")
        incident, closed = (done or incident), done is not None
    queued = new.payload.get("tanda_terima") != "sendiri"  # the schema queued its receipt with it
    return Receipt(
        incident, checked.path, nik_warnings=nik, notified=True, closed=closed, plan=checked.plan, queued=queued
    )


async def _update(
    rt: Runtime,
    checked: Checked,
    new: NewIncident,
    open_id: int,
    open_severity: str,
    *,
    held_id: int | None,
    complete: bool,
    nik: tuple[str, ...],
    answer_to: Source | None,
) -> Receipt:
    """A later report of an open incident: figures in place, its group cards edited; posted first
    when it becomes urgent now (the deadline came, or damage); closed when complete. The receipt
    of a lone report (`answer_to`) is queued in the same transaction."""
    first_post = (
        []
        if complete or open_severity in URGENT_SEVERITIES
        else await lifecycle.route_new(rt, new.region_code, new.severity)
    )

    def notify(posts: list[dict], event_id: int, number: int) -> list:
        rows = lifecycle.edit_rows(posts, event_id)
        if complete:
            rows += lifecycle.resolution_rows(posts, "")
        receipt = []
        if answer_to is not None:
            detail = {"updated": number, "closed": True} if complete else {"updated": number}
            receipt = [_receipt_row(answer_to, str(open_id), _figures_of(new) | detail, [])]
        return receipt + rows + ([] if posts else first_post)

    applied = await incident_store.apply_report(
        rt.db,
        open_id,
        new,
        held_id=held_id,
        severity=new.severity,
        close=complete,
        at=rt.clock(),
        notify=notify,
    )
    if applied is None:  # closed meanwhile: the report opens a new one
        return await _store(rt, dataclasses.replace(checked, context=None), new, held_id=held_id, answer_to=answer_to)
    incident, number = applied
    return Receipt(
        incident,
        checked.path,
        nik_warnings=nik,
        notified=True,
        updated=number,
        closed=complete,
        plan=checked.plan,
        queued=answer_to is not None,
    )


async def confirm_held(
    rt: Runtime, actor: User, report_id: int, confirmed: bool, source: Source
) -> Receipt | Refused | None:
    """The reporter's answer to a report whose figure went down: Benar stores it, Batal drops it.
    None when it was answered before (or is not theirs to answer). The receipt of a confirmed
    figure goes through the outbox, edited into the question (`source`: the question's message)."""
    held = await incident_store.held_report(rt.db, report_id)
    if held is None:
        return None
    new, state = held
    if state != "menunggu" or new.reporter_id != actor.telegram_id:
        return None
    if not confirmed:
        await incident_store.decide_held(rt.db, report_id, "batal", rt.clock())
        return None
    region = await region_store.get(rt.db, new.region_code)
    if region is None:
        return Refused(Reason.SCOPE)
    report = _report_from(new)
    checked = await check(rt, actor, region.code, report)
    if isinstance(checked, Refused):
        return checked
    fresh = dataclasses.replace(
        new, severity=checked.severity.value, payload={**new.payload, "tanda_terima": "sendiri"}
    )
    answer = await _store(rt, checked, fresh, held_id=report_id, answer_to=source)
    await _answered(rt, source, answer)  # unless queued with it
    return answer


async def held_question(rt: Runtime, report_id: int, current: dict) -> Held | None:
    """A held figure as its question restates it (the outbox sends it with Benar / Batal):
    `current` the figures it went below, as they were when it was held."""
    held = await incident_store.held_report(rt.db, report_id)
    if held is None:
        return None
    new, _ = held
    now = _current_report(new.kind, current, new.item)
    report = _report_from(new)
    path = await region_store.path(rt.db, new.region_code)
    return Held(report_id, report, now or report, path, None, current, new.reporter_id)


def _report_from(new: NewIncident) -> Report:
    if new.kind == "logistik" and new.item is not None and new.received is not None:
        return LogistikReport(new.item, new.received, new.planned, new.damaged or 0, new.description)
    if new.kind == "hitung" and new.tps_done is not None:
        return HitungReport(new.tps_done, new.tps_total, new.sirekap)
    if new.kind == "rekap" and new.item is not None and new.desa_done is not None and new.desa_total is not None:
        return RekapReport(new.item, new.desa_done, new.desa_total)
    raise ValueError(f"not a held report: {new.kind}")


def report_of(incident: Incident) -> Report:
    """The report an incident was made from, to restate it with the same words as the receipt."""
    # the figures a kind needs are never NULL for it (CHECK constraints of `incidents`)
    i = incident
    if i.kind == "logistik" and i.item is not None and i.received is not None:
        return LogistikReport(i.item, i.received, i.planned, i.damaged or 0, i.description)
    if i.kind == "data" and i.item is not None and i.data_count is not None:
        return DataReport(i.item, i.data_count, i.description)
    if i.kind == "hitung" and i.tps_done is not None and i.tps_total is not None:
        return HitungReport(i.tps_done, i.tps_total, i.sirekap)
    if i.kind == "rekap" and i.item is not None and i.desa_done is not None and i.desa_total is not None:
        return RekapReport(i.item, i.desa_done, i.desa_total)
    return InsidenReport(Severity(i.severity), i.description)


# --- where reports are taken, and attachments --------------------------------------------------


async def home_region(rt: Runtime, actor: User) -> Region | None:
    return await region_store.get(rt.db, actor.region_code)


async def takes_reports(rt: Runtime, chat_id: int, private: bool) -> bool:
    """Reports are taken in private chats and in registered coordination groups."""
    return private or await group_store.by_chat(rt.db, chat_id) is not None


@dataclass(frozen=True, slots=True)
class Attached:
    incident_id: int
    kind: str
    new: bool  # False: this message was attached before (a repeat)


async def attach(rt: Runtime, actor: User, incident_id: int, attachment: NewAttachment) -> Attached | Refused:
    """Attach to an incident its reporter, or someone who may comment on it, sent something for."""
    incident = await incident_store.get(rt.db, incident_id)
    if incident is None:
        return Refused(IncidentNotFound(incident_id))
    decision = access.decide(actor, Action.CATATAN, incident.region_code, owner_id=incident.reporter_id)
    if not decision:
        return Refused(decision.reason)
    new = await incident_store.add_attachment(
        rt.db, incident_id=incident_id, added_by=actor.telegram_id, at=rt.clock(), **dataclasses.asdict(attachment)
    )
    return Attached(incident_id, attachment.kind, new)


async def incident_of_bot_message(rt: Runtime, chat_id: int, message_id: int, receipt_id: int | None) -> int | None:
    """The incident a message of the bot speaks of: a group post (remembered when posted), or a
    receipt (it names its incident, so no row is written for every receipt): `receipt_id` is the
    number the message's text names as a receipt, read by `bot.texts.incidents.receipt_incident_id`."""
    incident_id = await incident_store.incident_for_message(rt.db, chat_id, message_id)
    return incident_id if incident_id is not None else receipt_id


async def incident_of_message(rt: Runtime, chat_id: int, message_id: int) -> int | None:
    """The incident a user's message made, if it made one."""
    existing = await incident_store.find_duplicate(rt.db, bot_id=rt.bot_id, chat_id=chat_id, message_id=message_id)
    return existing.id if existing is not None else None


async def latest_incidents(rt: Runtime, actor: User, limit: int) -> list[Incident]:
    """The actor's own newest reports, to attach a file to one of them."""
    return await incident_store.latest_by_reporter(rt.db, actor.telegram_id, limit)
