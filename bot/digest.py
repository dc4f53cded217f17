"""The digest of a region at a moment: typed figures computed from SQL aggregates.

`compute_digest(db, region_code, at, election_day)` returns a `Digest`; the text
(`bot.texts.digest`) and the charts (`bot.charts`) are drawn from it and from nothing else.
Figures are cumulative where the reports are: the latest logistik report per kecamatan and item
and the latest rekap per kecamatan are the current state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.clock import from_db, to_db
from bot.reports import ITEMS
from bot.texts.incidents import plain_summary
from storage import digests as store
from storage import incidents as incident_store
from storage import regions as region_store
from storage.db import Database


@dataclass(frozen=True, slots=True)
class ItemProgress:
    """One logistics item over the digest's region, aggregated per kecamatan first.

    received = covered + surplus + unplanned: what arrived up to each kecamatan's plan, what
    arrived beyond it, and what arrived where there is no plan. Completeness is covered / planned,
    so a surplus in one kecamatan or a delivery to an unplanned one never hides a kecamatan that
    received nothing.
    """

    item: str  # canonical name, e.g. "kotak_suara"
    received: int  # Σ latest "received so far" over every kecamatan
    planned: int  # Σ plan per kecamatan (imported, else the plan written in the report)
    damaged: int
    surplus: int = 0  # Σ (received − plan) over the kecamatan that received more than their plan
    unplanned: int = 0  # Σ received in kecamatan without a plan for this item

    @property
    def covered(self) -> int:
        """Σ min(received, plan) over the kecamatan with a plan."""
        return self.received - self.surplus - self.unplanned

    @property
    def share(self) -> float | None:
        """covered / planned in 0..1, None without a plan."""
        return self.covered / self.planned if self.planned else None


@dataclass(frozen=True, slots=True)
class ChildLogistics:
    """Logistics completeness of one child region (kabupaten/kota under a province, …)."""

    region_code: str
    name: str
    items: tuple[ItemProgress, ...]  # every item with a plan or a report in that child

    @property
    def share(self) -> float | None:
        """Overall completeness: Σ covered / Σ planned over items with a plan (each item's covered
        is already capped per kecamatan)."""
        planned = sum(i.planned for i in self.items if i.planned)
        if not planned:
            return None
        return sum(min(i.covered, i.planned) for i in self.items if i.planned) / planned


@dataclass(frozen=True, slots=True)
class ChildCounting:
    """Counting progress of one child region."""

    region_code: str
    name: str
    tps_done: int  # Σ latest tps_done per kecamatan
    tps_total: int  # Σ baseline TPS per kecamatan (imported), else the latest reported total
    sirekap: int  # Σ latest uploaded to Sirekap
    kecamatan_reporting: int  # kecamatan with at least one rekap report
    kecamatan_total: int

    @property
    def share_done(self) -> float | None:
        return self.tps_done / self.tps_total if self.tps_total else None

    @property
    def share_sirekap(self) -> float | None:
        return self.sirekap / self.tps_total if self.tps_total else None


@dataclass(frozen=True, slots=True)
class SilentRegion:
    region_code: str
    name: str
    parent_name: str
    last_report_at: datetime | None  # None: never reported


@dataclass(frozen=True, slots=True)
class IncidentCounts:
    """Counts by (kind, severity) for one category of the last 24 hours."""

    by_kind_severity: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_kind_severity.values())

    def by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (kind, _), n in self.by_kind_severity.items():
            out[kind] = out.get(kind, 0) + n
        return out

    def by_severity(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (_, severity), n in self.by_kind_severity.items():
            out[severity] = out.get(severity, 0) + n
        return out


@dataclass(frozen=True, slots=True)
class OpenIncident:
    id: int
    kind: str
    severity: str  # tinggi or kritis
    status: str  # baru or ditangani
    region_code: str
    region_name: str
    received_at: datetime
    description: str  # as stored; the text layer masks NIKs


@dataclass(frozen=True, slots=True)
class Digest:
    region_code: str
    region_name: str  # "Bali", "Badung", "Kota Denpasar"
    region_title: str  # "Provinsi Bali", "Kabupaten Badung"
    region_path: tuple[str, ...]  # names from the root down
    at: datetime  # the moment (aware)
    election_day: date
    logistics: tuple[ItemProgress, ...]  # per item over the whole region, in ITEMS order
    logistics_children: tuple[ChildLogistics, ...]  # per child region, in code order
    lagging: tuple[ChildLogistics, ...]  # the children with the lowest completeness, worst first (≤ 5)
    counting: tuple[ChildCounting, ...]  # per child region, in code order
    counting_total: ChildCounting  # the whole region
    silent: tuple[SilentRegion, ...]  # kecamatan without any report in the last 24 h (≤ 20, oldest first)
    silent_count: int  # all of them
    kecamatan_count: int
    # new, open, escalated, resolved and status_by_kind count what needs handling: routine progress
    # reports (`is_progress`) are status updates, counted apart in `progress_new`
    new: IncidentCounts  # received in the last 24 h
    open: IncidentCounts  # not selesai (any age); see compute_digest on moments in the past
    escalated: IncidentCounts  # escalated (by hand or automatically) in the last 24 h
    resolved: IncidentCounts  # resolved in the last 24 h
    oldest_open: tuple[OpenIncident, ...]  # open tinggi/kritis, oldest first (≤ 5)
    median_time_to_take: timedelta | None  # over incidents taken in the last 24 h
    median_time_to_resolve: timedelta | None  # over incidents resolved in the last 24 h
    status_by_kind: dict[str, dict[str, int]] = field(default_factory=dict)  # kind → status → count (all time)
    progress_new: IncidentCounts = field(default_factory=IncidentCounts)  # progress reports received in 24 h

    @property
    def has_children(self) -> bool:
        """False for a kecamatan's digest: desa are not loaded, so its per-child figures are the
        kecamatan's own (one row, for the charts) and the text lists no children."""
        return self.region_code.count(".") < 2

    @property
    def day_offset(self) -> int:
        """Days from voting day H in the bot's zone: negative before (H-n), positive after (H+n)."""
        return (self.at.date() - self.election_day).days


# --- computation -------------------------------------------------------------------------------

WINDOW = timedelta(hours=24)
MAX_LAGGING = 5
MAX_SILENT = 20
MAX_OLDEST_OPEN = 5
OPEN_STATUSES = store.OPEN_STATUSES


_ITEM_RANK = {item: rank for rank, item in enumerate(ITEMS)}


def _item_order(item: str) -> tuple[int, str]:
    return (_ITEM_RANK.get(item, len(_ITEM_RANK)), item)


def is_progress(kind: str, severity: str) -> bool:
    """A routine cumulative progress report: every rekap, and a logistik report without shortfall
    or damage (severity rendah). Officers send them again and again as figures grow; they update
    the state (the logistics and counting sections) and are not problems for a coordinator to
    handle, so the incident figures leave them out."""
    return kind == "rekap" or (kind == "logistik" and severity == "rendah")


def _counts(rows, *, progress: bool = False) -> IncidentCounts:
    """Counts by (kind, severity) of the rows that need handling (or, with `progress`, of the
    routine progress reports); `rows` are ≤ 16 grouped rows, not incidents."""
    return IncidentCounts({(r["kind"], r["severity"]): r["n"] for r in rows
                           if r["n"] and is_progress(r["kind"], r["severity"]) == progress})


def _local(stored: str | None, at: datetime) -> datetime | None:
    """A stored UTC time in the zone of the digest moment."""
    moment = from_db(stored)
    return None if moment is None else moment.astimezone(at.tzinfo)


def _median(micros: float | None) -> timedelta | None:
    return None if micros is None else timedelta(microseconds=round(micros))


_ITEM_FIELDS = ("received", "planned", "damaged", "surplus", "unplanned")


def _items(rows) -> tuple[ItemProgress, ...]:
    """ItemProgress per item in ITEMS order, summing per-child rows of `storage.digests.logistics_by_child`
    (each already aggregated per kecamatan, so the sums stay exact)."""
    sums: dict[str, list[int]] = {}
    for r in rows:
        acc = sums.setdefault(r["item"], [0] * len(_ITEM_FIELDS))
        for i, name in enumerate(_ITEM_FIELDS):
            acc[i] += r[name] or 0
    return tuple(
        ItemProgress(item, *values)
        for item, values in sorted(sums.items(), key=lambda kv: _item_order(kv[0]))
    )


def lagging_children(children: tuple[ChildLogistics, ...], limit: int = MAX_LAGGING) -> tuple[ChildLogistics, ...]:
    """Children with a known completeness below 100 %, lowest first (then by code), at most `limit`."""
    known = [c for c in children if c.share is not None and c.share < 1]
    known.sort(key=lambda c: (c.share, c.region_code))
    return tuple(known[:limit])


async def compute_digest(db: Database, region_code: str, at: datetime, election_day: date) -> Digest:
    """The digest of `region_code`'s subtree at the aware moment `at`.

    Logistics and counting are the current state (the latest report per kecamatan, read from the
    state tables); incident figures of "the last 24 hours" cover (at − 24 h, at]. Every figure
    comes from a bounded SQL aggregate (`storage.digests`); the Python here only assembles the
    rows per child region and item. Raises LookupError for a region the database does not know.

    Incident figures (new, open, escalated, resolved, status by kind) count what needs handling;
    routine progress reports (`is_progress`) are counted apart (`progress_new`). The medians of
    time to take and to resolve cover every incident taken or resolved in the window.

    `at` may lie in the past, but only the windowed figures are computed as of `at`: logistics,
    counting and silence are the current state, and "open" uses today's statuses (an incident
    resolved after `at` counts as not open; only incidents received after `at` are left out), as
    do the oldest open ones and the status chart. The bot always computes at now, where all of
    this is exact; rebuilding past statuses from the events would cost a pass over them.
    """
    if at.tzinfo is None:
        raise ValueError("naive datetime: the digest moment carries its zone")
    region = await region_store.get(db, region_code)
    if region is None:
        raise LookupError(f"unknown region {region_code!r}")
    path = await region_store.path(db, region_code)
    level = region.level.value
    if level == "kecamatan":
        child_regions = [region]
    else:
        child_regions = await region_store.children(db, region_code)
    child_length = store.CHILD_CODE_LENGTH[level]
    start, end = to_db(at - WINDOW), to_db(at)

    # logistics: per child and item, then per item over the region
    logistics_rows = await store.logistics_by_child(db, region_code, child_length)
    by_child: dict[str, list] = {}
    for row in logistics_rows:
        by_child.setdefault(row["child"], []).append(row)
    logistics_children = tuple(
        ChildLogistics(child.code, child.name, _items(by_child.get(child.code, ())))
        for child in child_regions
    )
    logistics = _items(logistics_rows)

    # counting: per child, and the sum over the region
    counting_rows = {row["child"]: row for row in await store.counting_by_child(db, region_code, child_length)}
    fields = ("tps_done", "tps_total", "sirekap", "kecamatan_reporting", "kecamatan_total")
    counting = tuple(
        ChildCounting(child.code, child.name,
                      *(counting_rows[child.code][f] if child.code in counting_rows else 0 for f in fields))
        for child in child_regions
    )
    counting_total = ChildCounting(
        region.code, region.name, *(sum(row[f] for row in counting_rows.values()) for f in fields)
    )

    # silent kecamatan
    silent_count, kecamatan_count, silent_rows = await store.silent_kecamatan(db, region_code, start, MAX_SILENT)
    silent = tuple(
        SilentRegion(r["region_code"], r["name"], r["parent_name"], _local(r["last_report_at"], at))
        for r in silent_rows
    )

    # incidents
    status_by_kind: dict[str, dict[str, int]] = {}
    open_counts: dict[tuple[str, str], int] = {}
    for r in await store.status_counts(db, region_code):  # ≤ 3 statuses × 4 kinds × 4 severities
        if is_progress(r["kind"], r["severity"]):
            continue
        per_status = status_by_kind.setdefault(r["kind"], {})
        per_status[r["status"]] = per_status.get(r["status"], 0) + r["n"]
        if r["status"] in OPEN_STATUSES:
            key = (r["kind"], r["severity"])
            open_counts[key] = open_counts.get(key, 0) + r["n"]
    for r in await store.open_received_after(db, region_code, end):  # not open yet at `at`
        if is_progress(r["kind"], r["severity"]):
            continue
        key = (r["kind"], r["severity"])
        open_counts[key] = open_counts.get(key, 0) - r["n"]
    open_counts = {key: n for key, n in open_counts.items() if n > 0}

    oldest_open = []
    for r in await store.oldest_open(db, region_code, end, MAX_OLDEST_OPEN):
        description = r["description"]
        if not description:  # a logistics shortfall has figures, not words: say them
            incident = await incident_store.get(db, r["id"])
            description = plain_summary(incident) if incident else ""
        oldest_open.append(OpenIncident(r["id"], r["kind"], r["severity"], r["status"], r["region_code"],
                                        r["region_name"], _local(r["received_at"], at), description))
    oldest_open = tuple(oldest_open)
    received = await store.received_counts(db, region_code, start, end)

    return Digest(
        region_code=region.code,
        region_name=region.name,
        region_title=region.title,
        region_path=tuple(r.name for r in path),
        at=at,
        election_day=election_day,
        logistics=logistics,
        logistics_children=logistics_children,
        lagging=lagging_children(logistics_children) if level != "kecamatan" else (),
        counting=counting,
        counting_total=counting_total,
        silent=silent,
        silent_count=silent_count,
        kecamatan_count=kecamatan_count,
        new=_counts(received),
        open=IncidentCounts(open_counts),
        escalated=_counts(await store.escalated_counts(db, region_code, start, end)),
        resolved=_counts(await store.resolved_counts(db, region_code, start, end)),
        oldest_open=oldest_open,
        median_time_to_take=_median(await store.median_time_to_take(db, region_code, start, end)),
        median_time_to_resolve=_median(await store.median_time_to_resolve(db, region_code, start, end)),
        status_by_kind=status_by_kind,
        progress_new=_counts(received, progress=True),
    )
