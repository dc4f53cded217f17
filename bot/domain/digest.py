"""The digest of a region at a moment, as typed figures: what the text (`bot.texts.digest`) and
the charts (`bot.charts`) are drawn from, and from nothing else.

Figures are cumulative where the reports are: the current figures per kecamatan and item
(logistik), per kecamatan (hitung, penghitungan) and per kecamatan and jenis pemilihan (rekap,
rekapitulasi kecamatan) are the state. `bot.services.digest` computes them.

Logistics are readiness: a kecamatan is ready when every item with a kebutuhan is complete
(received ≥ kebutuhan, nothing damaged), and a region is as ready as its weakest item; units of
different items are never added together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.domain.models import Incident
from bot.domain.reporting import ITEMS

#: The parts of a digest: text sections, charts and on-demand commands. Which ones a digest shows,
#: and in which order, follows the election's phase (`sections_for`).
SECTIONS: tuple[str, ...] = ("logistik", "hitung", "rekap", "insiden")


def sections_for(day_offset: int) -> tuple[str, ...]:
    """The sections of a digest `day_offset` days from H: before H logistics first and no
    counting; on H penghitungan first; from H+1 the rekapitulasi kecamatan first, then
    penghitungan (TPS still uploading to Sirekap)."""
    if day_offset < 0:
        return ("logistik", "insiden")
    if day_offset == 0:
        return ("hitung", "insiden", "logistik")
    return ("rekap", "hitung", "insiden", "logistik")


WINDOW = timedelta(hours=24)
MAX_LAGGING = 5
MAX_SILENT = 20
MAX_OLDEST_OPEN = 5


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

    @property
    def ready_share(self) -> float | None:
        """(covered − damaged) / planned in 0..1: a damaged unit still has to be replaced."""
        if not self.planned:
            return None
        return max(min(self.covered, self.planned) - self.damaged, 0) / self.planned


@dataclass(frozen=True, slots=True)
class ChildLogistics:
    """Logistics completeness of one child region (kabupaten/kota under a province, …)."""

    region_code: str
    name: str
    items: tuple[ItemProgress, ...]  # every item with a plan or a report in that child
    kecamatan_ready: int = 0  # kecamatan with every item complete (received ≥ kebutuhan, none damaged)
    kecamatan_planned: int = 0  # kecamatan with a kebutuhan for at least one item

    @property
    def weakest(self) -> ItemProgress | None:
        """The item with the lowest completeness (damaged units count against it), None without a plan."""
        planned = [i for i in self.items if i.planned]
        return min(planned, key=lambda i: (i.ready_share or 0.0, item_order(i.item))) if planned else None

    @property
    def share(self) -> float | None:
        """Completeness of the child: that of its weakest item — never more (a TPS cannot open
        without ink however many ballot papers arrived). None without a plan."""
        weakest = self.weakest
        return weakest.ready_share if weakest is not None else None

    @property
    def ready_share(self) -> float | None:
        """Share of its kecamatan (with a kebutuhan) that are ready."""
        return self.kecamatan_ready / self.kecamatan_planned if self.kecamatan_planned else None


@dataclass(frozen=True, slots=True)
class ChildCounting:
    """Counting progress of one child region."""

    region_code: str
    name: str
    tps_done: int  # Σ current tps_done per kecamatan, each at most its number of TPS
    tps_total: int  # Σ baseline TPS per kecamatan (imported), else the latest reported total
    sirekap: int  # Σ current C.Hasil uploaded to Sirekap, each at most its number of TPS
    kecamatan_reporting: int  # kecamatan with a penghitungan report
    kecamatan_total: int
    kecamatan_sirekap: int = 0  # kecamatan whose reports say how many reached Sirekap

    @property
    def has_counting(self) -> bool:
        """Anything to show: a figure, or a kecamatan that reported (a child without it has "no
        report yet" in the text and a dash on the chart)."""
        return bool(self.tps_total or self.tps_done or self.sirekap or self.kecamatan_reporting)

    @property
    def share_done(self) -> float | None:
        return min(self.tps_done / self.tps_total, 1.0) if self.tps_total else None

    @property
    def share_sirekap(self) -> float | None:
        """None when no kecamatan reported Sirekap at all ("belum dilaporkan", not 0 %)."""
        if not self.tps_total or not self.kecamatan_sirekap:
            return None
        return min(self.sirekap / self.tps_total, 1.0)


@dataclass(frozen=True, slots=True)
class RecapProgress:
    """Rekapitulasi kecamatan of one jenis pemilihan over the region: desa recapitulated of the desa
    of the kecamatan that reported, and how many kecamatan reported."""

    jenis: str
    desa_done: int
    desa_total: int
    kecamatan_reporting: int
    kecamatan_done: int  # kecamatan with every desa recapitulated

    @property
    def share(self) -> float | None:
        return min(self.desa_done / self.desa_total, 1.0) if self.desa_total else None


@dataclass(frozen=True, slots=True)
class SilentRegion:
    region_code: str
    name: str
    parent_name: str
    last_report_at: datetime | None  # None: never reported


@dataclass(frozen=True, slots=True)
class NeverReported:
    """A logistics item that kecamatan with a kebutuhan for it have never reported."""

    item: str
    kecamatan: int  # how many
    names: tuple[str, ...]  # the first few, by code


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
    description: str  # as stored (may be empty); the text layer masks NIKs
    incident: Incident | None = None  # the incident itself when it has no words of its own


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
    lagging: tuple[ChildLogistics, ...]  # the least ready children, worst first (≤ 5)
    counting: tuple[ChildCounting, ...]  # per child region, in code order
    counting_total: ChildCounting  # the whole region
    silent: tuple[SilentRegion, ...]  # kecamatan without any report in the last 24 h (≤ 20, oldest first)
    silent_count: int  # all of them
    kecamatan_count: int
    # new, open, escalated, resolved and status_by_kind count what needs handling: routine progress
    # reports (`is_progress`) are status updates, counted apart in `progress_new`; rejected reports
    # (ditolak: misread, duplicate, test) are in none of them, only in `rejected`
    new: IncidentCounts  # received in the last 24 h
    open: IncidentCounts  # not selesai (any age); see compute_digest on moments in the past
    escalated: IncidentCounts  # escalated (by hand or automatically) in the last 24 h
    resolved: IncidentCounts  # resolved in the last 24 h
    oldest_open: tuple[OpenIncident, ...]  # open tinggi/kritis, oldest first (≤ 5)
    median_time_to_take: timedelta | None  # over incidents taken in the last 24 h
    median_time_to_resolve: timedelta | None  # over incidents resolved in the last 24 h
    status_by_kind: dict[str, dict[str, int]] = field(default_factory=dict)  # kind → status → count (all time)
    progress_new: IncidentCounts = field(default_factory=IncidentCounts)  # progress reports received in 24 h
    kecamatan_ready: int = 0  # kecamatan with every item complete
    kecamatan_planned: int = 0  # kecamatan with a kebutuhan
    recap: tuple[RecapProgress, ...] = ()  # rekapitulasi kecamatan per jenis pemilihan
    logistics_deadline_days: int = 2  # logistics due at H minus this many days
    rejected: IncidentCounts = field(default_factory=IncidentCounts)  # rejected (ditolak) in the last 24 h
    #: from H until counting is complete: kecamatan without a counting report for `counting_silence`
    #: (≤ 20, never reported first, then the longest silent); None outside that phase
    counting_silence: timedelta | None = None
    counting_silent: tuple[SilentRegion, ...] = ()
    counting_silent_count: int = 0
    #: before the logistics deadline: items kecamatan with a kebutuhan never reported, in ITEMS order
    never_reported: tuple[NeverReported, ...] = ()

    @property
    def sections(self) -> tuple[str, ...]:
        """The sections this digest shows, in order, for its phase."""
        return sections_for(self.day_offset)

    @property
    def days_to_deadline(self) -> int:
        """Days until logistics are due (negative: overdue by that many days)."""
        return -self.logistics_deadline_days - self.day_offset

    @property
    def has_children(self) -> bool:
        """False for a kecamatan's digest: desa are not loaded, so its per-child figures are the
        kecamatan's own (one row, for the charts) and the text lists no children."""
        return self.region_code.count(".") < 2

    @property
    def day_offset(self) -> int:
        """Days from voting day H in the bot's zone: negative before (H-n), positive after (H+n)."""
        return (self.at.date() - self.election_day).days


_ITEM_RANK = {item: rank for rank, item in enumerate(ITEMS)}


def item_order(item: str) -> tuple[int, str]:
    return (_ITEM_RANK.get(item, len(_ITEM_RANK)), item)


def is_progress(kind: str, severity: str) -> bool:
    """A routine cumulative progress report: every rekap, and a logistik report without shortfall
    or damage (severity rendah), every hitung. Officers send them again and again as figures grow; they update
    the state (the logistics and counting sections) and are not problems for a coordinator to
    handle, so the incident figures leave them out."""
    return kind in ("hitung", "rekap") or (kind == "logistik" and severity == "rendah")


def lagging_children(children: tuple[ChildLogistics, ...], limit: int = MAX_LAGGING) -> tuple[ChildLogistics, ...]:
    """Children not ready everywhere, the least ready first: by the share of their kecamatan that are
    ready, then by their weakest item, then by code; at most `limit`."""
    known = [c for c in children if c.share is not None and (c.share < 1 or c.kecamatan_ready < c.kecamatan_planned)]
    known.sort(key=lambda c: (c.ready_share or 0.0, c.share or 0.0, c.region_code))
    return tuple(known[:limit])
