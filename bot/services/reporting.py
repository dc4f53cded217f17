"""The reporting use case: parse → resolve the region → check rights → check the plan → store.

Handlers give it the text after `/lapor` and where the message came from; it answers with a
`Receipt` (the stored incident) or a `Refused` (why, as a domain value that
`bot.texts.incidents.refusal_text` says in Indonesian). Nothing
is stored when it refuses. The same update or message processed twice gives the same receipt.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain import access
from bot.domain.access import Action, Reason
from bot.domain.models import Incident, Level, NewAttachment, NewIncident, Region, User
from bot.domain.parsing import parse_lapor
from bot.domain.privacy import nik_region_mismatches
from bot.domain.regions import normalize_code
from bot.domain.reporting import (
    DataReport,
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
)
from bot.services import incidents as lifecycle
from bot.services.runtime import Runtime
from storage import groups as group_store
from storage import incidents as incident_store
from storage import outbox as outbox_store
from storage import regions as region_store
from storage.outbox import OutboxRow

#: kinds whose figures are cumulative per kecamatan, so they must name one
PER_KECAMATAN = {"logistik", "rekap"}


@dataclass(frozen=True, slots=True)
class Receipt:
    incident: Incident
    path: tuple[Region, ...]
    duplicate: bool = False
    nik_warnings: tuple[str, ...] = field(default=())
    #: the receipt (and any notification) was queued in the outbox: the sender has work
    notified: bool = False


@dataclass(frozen=True, slots=True)
class Refused:
    why: Refusal


@dataclass(frozen=True, slots=True)
class Source:
    """Where a report came from: for idempotency and for the message's own time."""

    chat_id: int
    message_id: int
    update_id: int | None
    sent_at: datetime
    #: how the receipt answers: as a reply to the report's message (groups), in the chat (private,
    #: False), or by editing `message_id` (the guided flow's confirmation)
    quote: bool = False
    edit: bool = False

    @property
    def key(self) -> str:
        """The outbox key of this source's receipt: a replay of the same update finds it queued
        (the same key as the schema's `incidents_receipt` trigger writes, migration 0008)."""
        return f"{self.chat_id}:{self.message_id}:{'' if self.update_id is None else self.update_id}"


def receipt_row(source: Source, *, duplicate: bool = False) -> OutboxRow:
    """The receipt of a repeat from `source`, queued in the outbox (`{id}`: the incident's id);
    a new report's receipt is written by the schema with it (trigger `incidents_receipt`)."""
    flags = [flag for flag, on in (("ubah", source.edit), ("duplikat", duplicate)) if on]
    return OutboxRow(
        purpose="tanda_terima",
        chat_id=source.chat_id,
        dedupe_key=f"tanda_terima:{{id}}:{source.key}",
        message_id=source.message_id if source.edit or source.quote else None,
        note=" ".join(flags),
    )


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
        case RekapReport():
            return {"tps_done": report.tps_done, "tps_total": report.tps_total, "sirekap": report.sirekap}
    return {}


def _text_of(report: Report) -> str:
    match report:
        case LogistikReport() | DataReport():
            return report.note
        case InsidenReport():
            return report.description
    return ""


async def submit_text(rt: Runtime, actor: User, args: str, source: Source) -> Receipt | Refused:
    """A one-line `/lapor …` (the text after the command).

    A repeat of a stored report (the same update or message) gets that report's receipt: storing
    it again is refused by the UNIQUE keys, and a refusal first makes sure it is not a repeat —
    so the common case, a new report, costs no separate look-up."""
    parsed = parse_lapor(args)
    result = Refused(parsed) if isinstance(parsed, LaporError) else await _submit(rt, actor, parsed, source)
    if isinstance(result, Refused):
        return await _duplicate(rt, source) or result
    return result


async def _duplicate(rt: Runtime, source: Source) -> Receipt | None:
    existing = await incident_store.find_duplicate(
        rt.db, bot_id=rt.bot_id, chat_id=source.chat_id, message_id=source.message_id
    )
    if existing is None:
        return None
    return await _receipt_of(rt, existing, source)


async def _receipt_of(rt: Runtime, existing: Incident, source: Source) -> Receipt:
    """A repeat of a stored report: its receipt, saying so, queued — unless this very update was
    processed before (a replay after a crash), whose receipt is queued already (same key)."""
    await outbox_store.queue(rt.db, existing.id, [receipt_row(source, duplicate=True)], rt.clock())
    return Receipt(
        existing,
        await region_store.path(rt.db, existing.region_code),
        duplicate=True,
        nik_warnings=tuple(nik_region_mismatches(existing.description, existing.region_code)),
        notified=True,
    )


async def submit_parsed(rt: Runtime, actor: User, parsed: ParsedLapor, source: Source) -> Receipt | Refused:
    """A report already parsed (the guided flow's answers)."""
    duplicate = await _duplicate(rt, source)
    if duplicate is not None:
        return duplicate
    return await _submit(rt, actor, parsed, source)


@dataclass(frozen=True, slots=True)
class Checked:
    """A report that passed every check, with what storing it needs: where it is for, the plan in
    force (logistics without a plan of its own), the severity derived."""

    report: Report
    region: Region
    path: tuple[Region, ...]
    plan: int | None
    severity: Severity

    @property
    def shown(self) -> Report:
        """The report as the receipt will restate it (the imported plan filled in)."""
        if isinstance(self.report, LogistikReport) and self.report.planned is None and self.plan is not None:
            return dataclasses.replace(self.report, planned=self.plan)
        return self.report


async def check(rt: Runtime, actor: User, parsed: ParsedLapor) -> Checked | Refused:
    """Every rule a report must pass before it is stored: the region (own, or `@target` in scope),
    the reporter's right there, a kecamatan for cumulative figures, the figures against the plan.
    The guided flow shows the result before "Kirim"; storing checks again."""
    region = await region_for(rt, actor, parsed.target, parsed.report.kind.value)
    if isinstance(region, Refused):
        return region
    report = parsed.report
    plan = None
    if isinstance(report, LogistikReport) and report.planned is None:
        plan = await incident_store.plan_for(rt.db, region.code, report.item)
    error = check_against_plan(report, plan)
    if error is not None:
        return Refused(error)
    return Checked(report, region, await region_store.path(rt.db, region.code), plan, derive_severity(report, plan))


async def _submit(rt: Runtime, actor: User, parsed: ParsedLapor, source: Source) -> Receipt | Refused:
    """Check and store a report whose source was not seen before."""
    checked = await check(rt, actor, parsed)
    if isinstance(checked, Refused):
        return checked
    report, region, plan, severity = checked.report, checked.region, checked.plan, checked.severity
    text = _text_of(report)
    figures = _figures(report)
    payload: dict = {"tanda_terima": "ubah"} if source.edit else {}  # the flow's confirmation becomes the receipt
    if isinstance(report, LogistikReport):
        # the plan in force when reported, and where it came from, for the receipt and history
        payload["rencana_dari"] = "laporan" if report.planned is not None else ("impor" if plan is not None else None)
        if report.planned is None:
            figures["planned"] = plan
    new = NewIncident(
        kind=report.kind.value,
        severity=severity.value,
        region_code=region.code,
        reporter_id=actor.telegram_id,
        description=text,
        payload=payload,
        source_chat_id=source.chat_id,
        source_message_id=source.message_id,
        update_id=source.update_id,
        bot_id=rt.bot_id,
        reported_at=source.sent_at,
        received_at=rt.clock(),
        **figures,
    )
    # the receipt is queued by the schema with the report, and sent once the report is stored
    notify = await lifecycle.route_new(rt, region.code, severity.value)
    incident, created = await incident_store.create(rt.db, new, notify)
    if not created:  # the same update or message was stored before: its receipt, as it was
        return await _receipt_of(rt, incident, source)
    return Receipt(incident, checked.path, nik_warnings=tuple(nik_region_mismatches(text, region.code)), notified=True)


def report_of(incident: Incident) -> Report:
    """The report an incident was made from, to restate it with the same words as the receipt."""
    # the figures a kind needs are never NULL for it (CHECK constraints of `incidents`)
    i = incident
    if i.kind == "logistik" and i.item is not None and i.received is not None:
        return LogistikReport(i.item, i.received, i.planned, i.damaged or 0, i.description)
    if i.kind == "data" and i.item is not None and i.data_count is not None:
        return DataReport(i.item, i.data_count, i.description)
    if i.kind == "rekap" and i.tps_done is not None and i.tps_total is not None:
        return RekapReport(i.tps_done, i.tps_total, i.sirekap)
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
