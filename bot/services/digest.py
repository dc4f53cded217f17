"""The digest of a region at a moment: typed figures computed from SQL aggregates.

`compute_digest(db, region_code, at, election_day)` returns a `Digest`; the text
(`bot.texts.digest`) and the charts (`bot.charts`) are drawn from it and from nothing else.
Figures are the current state per kecamatan (logistics per item, penghitungan, rekapitulasi per
jenis pemilihan), read from the state tables.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.domain.clock import from_db, to_db
from bot.domain.digest import (
    MAX_OLDEST_OPEN,
    MAX_SILENT,
    WINDOW,
    ChildCounting,
    ChildLogistics,
    Digest,
    IncidentCounts,
    ItemProgress,
    NeverReported,
    OpenIncident,
    RecapProgress,
    SilentRegion,
    is_progress,
    item_order,
    lagging_children,
)
from bot.domain.models import Region, Status
from bot.domain.reporting import JENIS_PEMILIHAN
from bot.services import silence
from bot.services.runtime import Runtime
from storage import digests as store
from storage import incidents as incident_store
from storage import regions as region_store
from storage.db import Database

# --- computation -------------------------------------------------------------------------------

OPEN_STATUSES = store.OPEN_STATUSES
REJECTED = Status.DITOLAK.value


def _counts(rows, *, progress: bool = False) -> IncidentCounts:
    """Counts by (kind, severity) of the rows that need handling (or, with `progress`, of the
    routine progress reports); `rows` are ≤ 16 grouped rows, not incidents."""
    return IncidentCounts(
        {
            (r["kind"], r["severity"]): r["n"]
            for r in rows
            if r["n"] and is_progress(r["kind"], r["severity"]) == progress
        }
    )


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
    return tuple(ItemProgress(item, *values) for item, values in sorted(sums.items(), key=lambda kv: item_order(kv[0])))


async def _logistics(
    db: Database, region_code: str, child_length: int, child_regions: list[Region]
) -> tuple[tuple[ItemProgress, ...], tuple[ChildLogistics, ...]]:
    """Logistics per item over the region, and per child region and item with its ready kecamatan."""
    logistics_rows = await store.logistics_by_child(db, region_code, child_length)
    readiness = {r["child"]: r for r in await store.readiness_by_child(db, region_code, child_length)}
    by_child: dict[str, list] = {}
    for row in logistics_rows:
        by_child.setdefault(row["child"], []).append(row)
    logistics_children = tuple(
        ChildLogistics(
            child.code,
            child.name,
            _items(by_child.get(child.code, ())),
            kecamatan_ready=int(readiness[child.code]["ready"] or 0) if child.code in readiness else 0,
            kecamatan_planned=int(readiness[child.code]["planned"]) if child.code in readiness else 0,
        )
        for child in child_regions
    )
    return _items(logistics_rows), logistics_children


async def _recap(db: Database, region_code: str) -> tuple[RecapProgress, ...]:
    """Rekapitulasi kecamatan per jenis pemilihan, in the order of JENIS_PEMILIHAN."""
    rows = {r["jenis"]: r for r in await store.recap_by_jenis(db, region_code)}
    return tuple(
        RecapProgress(
            jenis,
            rows[jenis]["desa_done"],
            rows[jenis]["desa_total"],
            rows[jenis]["kecamatan_reporting"],
            rows[jenis]["kecamatan_done"],
        )
        for jenis in JENIS_PEMILIHAN
        if jenis in rows
    )


_COUNTING_FIELDS = ("tps_done", "tps_total", "sirekap", "kecamatan_reporting", "kecamatan_total", "kecamatan_sirekap")


async def _counting(
    db: Database, region: Region, child_length: int, child_regions: list[Region]
) -> tuple[tuple[ChildCounting, ...], ChildCounting]:
    """Counting per child region, and the sum over the region."""
    counting_rows = {row["child"]: row for row in await store.counting_by_child(db, region.code, child_length)}
    fields = _COUNTING_FIELDS
    counting = tuple(
        ChildCounting(
            child.code,
            child.name,
            *(counting_rows[child.code][f] if child.code in counting_rows else 0 for f in fields),
        )
        for child in child_regions
    )
    counting_total = ChildCounting(
        region.code, region.name, *(sum(row[f] for row in counting_rows.values()) for f in fields)
    )
    return counting, counting_total


async def _silent(
    db: Database, region_code: str, start: str, at: datetime
) -> tuple[tuple[SilentRegion, ...], int, int]:
    """The kecamatan silent since `start` (at most MAX_SILENT), how many are, and how many there are."""
    silent_count, kecamatan_count, silent_rows = await store.silent_kecamatan(db, region_code, start, MAX_SILENT)
    silent = tuple(
        SilentRegion(r["region_code"], r["name"], r["parent_name"], _local(r["last_report_at"], at))
        for r in silent_rows
    )
    return silent, silent_count, kecamatan_count


#: kecamatan named per item never reported
MAX_NEVER_NAMES = 5


async def _counting_silence(
    db: Database, region_code: str, at: datetime, election_day: date, minutes: int
) -> tuple[timedelta | None, tuple[SilentRegion, ...], int]:
    """The kecamatan silent on counting for `minutes` (None outside the phase), at most MAX_SILENT."""
    period = timedelta(minutes=minutes)
    found = await silence.silent_kecamatan(db, region_code, at, election_day, period, MAX_SILENT)
    if found is None:
        return None, (), 0
    count, rows = found
    return (
        period,
        tuple(
            SilentRegion(r["region_code"], r["name"], r["parent_name"], _local(r["last_report_at"], at)) for r in rows
        ),
        count,
    )


async def _never_reported(db: Database, region_code: str) -> tuple[NeverReported, ...]:
    rows = await silence.never_reported(db, region_code, MAX_NEVER_NAMES)
    found = [NeverReported(r["item"], r["n"], tuple(r["names"])) for r in rows]
    return tuple(sorted(found, key=lambda n: item_order(n.item)))


async def _statuses(
    db: Database, region_code: str, end: str
) -> tuple[dict[str, dict[str, int]], dict[tuple[str, str], int]]:
    """Incidents needing handling by kind and status (today's), and the open ones by (kind,
    severity), leaving out those received after `end`."""
    status_by_kind: dict[str, dict[str, int]] = {}
    open_counts: dict[tuple[str, str], int] = {}
    for r in await store.status_counts(db, region_code):  # ≤ 4 statuses × 4 kinds × 4 severities
        if is_progress(r["kind"], r["severity"]) or r["status"] == REJECTED:
            continue  # a rejected report is in no count and no chart
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
    return status_by_kind, {key: n for key, n in open_counts.items() if n > 0}


async def _oldest_open(db: Database, region_code: str, end: str, at: datetime) -> tuple[OpenIncident, ...]:
    """The oldest incidents still open (at most MAX_OLDEST_OPEN), received up to `end`."""
    oldest_open = []
    for r in await store.oldest_open(db, region_code, end, MAX_OLDEST_OPEN):
        description = r["description"]
        # a logistics shortfall has figures, not words: the text layer says them
        incident = None if description else await incident_store.get(db, r["id"])
        oldest_open.append(
            OpenIncident(
                r["id"],
                r["kind"],
                r["severity"],
                r["status"],
                r["region_code"],
                r["region_name"],
                from_db(r["received_at"]).astimezone(at.tzinfo),
                description or "",
                incident,
            )
        )
    return tuple(oldest_open)


async def compute_digest(
    db: Database,
    region_code: str,
    at: datetime,
    election_day: date,
    logistics_deadline_days: int = 2,
    counting_silence_min: int = 180,
) -> Digest:
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

    logistics, logistics_children = await _logistics(db, region_code, child_length, child_regions)
    counting, counting_total = await _counting(db, region, child_length, child_regions)
    silent, silent_count, kecamatan_count = await _silent(db, region_code, start, at)
    status_by_kind, open_counts = await _statuses(db, region_code, end)
    oldest_open = await _oldest_open(db, region_code, end, at)
    received = await store.received_counts(db, region_code, start, end)
    closed = await store.resolved_counts(db, region_code, start, end)
    counting_silence, counting_silent, counting_silent_count = await _counting_silence(
        db, region_code, at, election_day, counting_silence_min
    )
    before_deadline = (at.date() - election_day).days <= -logistics_deadline_days

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
        resolved=_counts([r for r in closed if r["status"] != REJECTED]),
        rejected=_counts([r for r in closed if r["status"] == REJECTED]),
        oldest_open=oldest_open,
        median_time_to_take=_median(await store.median_time_to_take(db, region_code, start, end)),
        median_time_to_resolve=_median(await store.median_time_to_resolve(db, region_code, start, end)),
        status_by_kind=status_by_kind,
        progress_new=_counts(received, progress=True),
        kecamatan_ready=sum(c.kecamatan_ready for c in logistics_children),
        kecamatan_planned=sum(c.kecamatan_planned for c in logistics_children),
        recap=await _recap(db, region_code),
        logistics_deadline_days=logistics_deadline_days,
        counting_silence=counting_silence,
        counting_silent=counting_silent,
        counting_silent_count=counting_silent_count,
        never_reported=await _never_reported(db, region_code) if before_deadline else (),
    )


async def digest_now(rt: Runtime, region_code: str) -> Digest:
    """The digest of `region_code` as of the runtime clock's now, in the bot's time zone."""
    now_local = rt.clock().astimezone(rt.settings.tz)
    settings = rt.settings
    return await compute_digest(
        rt.db,
        region_code,
        now_local,
        settings.ELECTION_DAY,
        settings.LOGISTICS_DEADLINE_DAYS,
        settings.COUNTING_SILENCE_MIN,
    )
