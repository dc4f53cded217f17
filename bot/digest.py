"""The digest of a region at a moment: typed figures computed from SQL aggregates.

`compute_digest(db, region_code, at, settings-like values)` returns a `Digest`; the text
(`bot.texts.digest`) and the charts (`bot.charts`) are drawn from it and from nothing else.
Figures are cumulative where the reports are: the latest logistik report per kecamatan and item
and the latest rekap per kecamatan are the current state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta


@dataclass(frozen=True, slots=True)
class ItemProgress:
    """One logistics item over the digest's region."""

    item: str  # canonical name, e.g. "kotak_suara"
    received: int  # sum of the latest "received so far" per kecamatan
    planned: int  # sum of the plan per kecamatan (imported, else the plan written in the report)
    damaged: int

    @property
    def share(self) -> float | None:
        """received / planned in 0..1 (may exceed 1), None without a plan."""
        return self.received / self.planned if self.planned else None


@dataclass(frozen=True, slots=True)
class ChildLogistics:
    """Logistics completeness of one child region (kabupaten/kota under a province, …)."""

    region_code: str
    name: str
    items: tuple[ItemProgress, ...]  # every item with a plan or a report in that child

    @property
    def share(self) -> float | None:
        """Overall completeness: Σ min(received, planned) / Σ planned over items with a plan."""
        planned = sum(i.planned for i in self.items if i.planned)
        if not planned:
            return None
        return sum(min(i.received, i.planned) for i in self.items if i.planned) / planned


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
    new: IncidentCounts  # received in the last 24 h
    open: IncidentCounts  # not selesai at `at` (any age)
    escalated: IncidentCounts  # escalated (by hand or automatically) in the last 24 h
    resolved: IncidentCounts  # resolved in the last 24 h
    oldest_open: tuple[OpenIncident, ...]  # open tinggi/kritis, oldest first (≤ 5)
    median_time_to_take: timedelta | None  # over incidents taken in the last 24 h
    median_time_to_resolve: timedelta | None  # over incidents resolved in the last 24 h
    status_by_kind: dict[str, dict[str, int]] = field(default_factory=dict)  # kind → status → count (all time)

    @property
    def day_offset(self) -> int:
        """Days from voting day H in the bot's zone: negative before (H-n), positive after (H+n)."""
        return (self.at.date() - self.election_day).days
