"""The reporting use case: parse → resolve the region → check rights → check the plan → store.

Handlers give it the text after `/lapor` and where the message came from; it answers with a
`Receipt` (the stored incident, restated) or a `Refused` (an Indonesian HTML message). Nothing
is stored when it refuses. The same update or message processed twice gives the same receipt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot import access, lifecycle
from bot.access import Action
from bot.models import Incident, Level, NewIncident, Region, User
from bot.parsing import parse_lapor
from bot.privacy import nik_region_mismatches
from bot.regioncodes import normalize_code
from bot.reports import (
    DataReport,
    InsidenReport,
    LaporError,
    LogistikReport,
    ParsedLapor,
    RekapReport,
    Report,
    Severity,
    check_against_plan,
    derive_severity,
)
from bot.runtime import Runtime
from bot.texts import common as tc
from bot.texts import incidents as ti
from storage import incidents as incident_store
from storage import regions as region_store

#: kinds whose figures are cumulative per kecamatan, so they must name one
PER_KECAMATAN = {"logistik", "rekap"}


@dataclass(frozen=True, slots=True)
class Receipt:
    incident: Incident
    path: tuple[Region, ...]
    duplicate: bool = False
    nik_warnings: tuple[str, ...] = field(default=())
    notified: bool = False  # notifications were queued with it (the outbox has work)


@dataclass(frozen=True, slots=True)
class Refused:
    text: str  # Indonesian, Telegram HTML, user input escaped


@dataclass(frozen=True, slots=True)
class Source:
    """Where a report came from: for idempotency and for the message's own time."""

    chat_id: int
    message_id: int
    update_id: int | None
    sent_at: datetime


async def resolve_target(rt: Runtime, actor: User, target: str | None) -> Region | Refused:
    """The region a report is for: the reporter's own, or `@code` / `@name` inside their scope."""
    if target is None:
        region = await region_store.get(rt.db, actor.region_code)
        return region if region else Refused(tc.refusal("scope"))
    code = normalize_code(target)
    if code is not None:
        region = await region_store.get(rt.db, code)
        return region if region is not None else Refused(ti.target_unknown(target))
    name = target.replace("_", " ")
    exact = await region_store.exact_matches(rt.db, name, within=actor.region_code)
    candidates = exact or [m.region for m in await region_store.search(rt.db, name, within=actor.region_code, limit=6)]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        paths = [await region_store.path(rt.db, r.code) for r in candidates[:5]]
        return Refused(ti.target_ambiguous(target, paths))
    if await region_store.exact_matches(rt.db, name):
        return Refused(tc.refusal("scope"))
    return Refused(ti.target_unknown(target))


def _figures(report: Report) -> dict:
    match report:
        case LogistikReport():
            return {"item": report.item, "received": report.received, "planned": report.planned,
                    "damaged": report.damaged}
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
    result = Refused(parsed.render()) if isinstance(parsed, LaporError) else await _submit(rt, actor, parsed, source)
    if isinstance(result, Refused):
        return await _duplicate(rt, source) or result
    return result


async def _duplicate(rt: Runtime, source: Source) -> Receipt | None:
    existing = await incident_store.find_duplicate(
        rt.db, update_id=source.update_id, chat_id=source.chat_id, message_id=source.message_id
    )
    if existing is None:
        return None
    return await _receipt_of(rt, existing)


async def _receipt_of(rt: Runtime, existing: Incident) -> Receipt:
    return Receipt(existing, await region_store.path(rt.db, existing.region_code), duplicate=True,
                   nik_warnings=tuple(nik_region_mismatches(existing.description, existing.region_code)))


async def submit_parsed(rt: Runtime, actor: User, parsed: ParsedLapor, source: Source) -> Receipt | Refused:
    """A report already parsed (the guided flow's answers)."""
    duplicate = await _duplicate(rt, source)
    if duplicate is not None:
        return duplicate
    return await _submit(rt, actor, parsed, source)


async def _submit(rt: Runtime, actor: User, parsed: ParsedLapor, source: Source) -> Receipt | Refused:
    """Check and store a report whose source was not seen before."""
    region = await resolve_target(rt, actor, parsed.target)
    if isinstance(region, Refused):
        return region
    decision = access.decide(actor, Action.LAPOR, region.code)
    if not decision:
        return Refused(tc.refusal(decision.reason))
    report = parsed.report
    if report.kind.value in PER_KECAMATAN and region.level is not Level.KECAMATAN:
        return Refused(ti.needs_kecamatan(report.kind.value, region))
    plan = None
    if isinstance(report, LogistikReport) and report.planned is None:
        plan = await incident_store.plan_for(rt.db, region.code, report.item)
    error = check_against_plan(report, plan)
    if error is not None:
        return Refused(error.render())
    severity: Severity = derive_severity(report, plan)
    text = _text_of(report)
    figures = _figures(report)
    payload: dict = {}
    if isinstance(report, LogistikReport):
        # the plan in force when reported, and where it came from, for the receipt and history
        payload["rencana_dari"] = "laporan" if report.planned is not None else ("impor" if plan else None)
        if report.planned is None:
            figures["planned"] = plan
    new = NewIncident(
        kind=report.kind.value, severity=severity.value, region_code=region.code, reporter_id=actor.telegram_id,
        description=text, payload=payload,
        source_chat_id=source.chat_id, source_message_id=source.message_id, update_id=source.update_id,
        reported_at=source.sent_at, received_at=rt.clock(), **figures,
    )
    notify = await lifecycle.route_new(rt, region.code, severity.value)
    incident, created = await incident_store.create(rt.db, new, notify)
    if not created:  # the same update or message was stored before: its receipt, as it was
        return await _receipt_of(rt, incident)
    return Receipt(incident, await region_store.path(rt.db, region.code),
                   nik_warnings=tuple(nik_region_mismatches(text, region.code)), notified=bool(notify))


def report_of(incident: Incident) -> Report:
    """The report an incident was made from, to restate it with the same words as the receipt."""
    match incident.kind:
        case "logistik":
            return LogistikReport(incident.item, incident.received, incident.planned, incident.damaged or 0,
                                  incident.description)
        case "data":
            return DataReport(incident.item, incident.data_count, incident.description)
        case "rekap":
            return RekapReport(incident.tps_done, incident.tps_total, incident.sirekap)
    return InsidenReport(Severity(incident.severity), incident.description)
