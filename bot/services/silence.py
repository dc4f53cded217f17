"""Counting silence chased by phase (`bot.domain.silence`): the digest's list of kecamatan silent
for `COUNTING_SILENCE_MIN`, the reminder job that writes to their petugas through the outbox, and
the logistics items a kecamatan has never reported (the digest's readiness part before the
deadline)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.domain.clock import from_db
from bot.domain.regions import NATIONAL, province_codes
from bot.domain.silence import Silent, chased_provinces, reminder_due, silent_since, zone_of
from bot.services.runtime import Runtime
from storage import regions as region_store
from storage import silence as store
from storage.db import Database


def _provinces(code: str) -> list[str]:
    return sorted(province_codes()) if code == NATIONAL else [code[:2]]


async def silent_kecamatan(
    db: Database, code: str, at: datetime, election_day: date, period: timedelta, limit: int
) -> tuple[int, list[dict]] | None:
    """The kecamatan of `code`'s subtree silent for `period` at `at` (how many, the first `limit`
    rows of `storage.silence.silent_counting`), or None outside the phase (before counting began
    a period ago anywhere in the subtree)."""
    provinces = chased_provinces(_provinces(code), at, election_day, period)
    if not provinces:
        return None
    return await store.silent_counting(db, code, provinces, at - period, limit)


async def never_reported(db: Database, code: str, limit: int) -> list[dict]:
    """Per item: the kecamatan with a kebutuhan that never reported it (`storage.silence`)."""
    return await store.never_reported_items(db, code, limit)


async def chase(rt: Runtime) -> int:
    """Job: remind the petugas of every kecamatan due a reminder now (`reminder_due`), one
    private message each through the outbox; return the number of kecamatan reminded."""
    settings = rt.settings
    now = rt.clock()
    period = timedelta(minutes=settings.COUNTING_SILENCE_MIN)
    provinces = chased_provinces(_provinces(rt.root), now, settings.ELECTION_DAY, period)
    reminded = 0
    for row in await store.silent_for_reminders(rt.db, rt.root, provinces, now - period):
        kecamatan = Silent(
            row["region_code"],
            from_db(row["last_report_at"]),
            row["tps_done"],
            row["tps_total"],
            from_db(row["last_reminded_at"]),
        )
        if not reminder_due(kecamatan, now, settings.ELECTION_DAY, period):
            continue
        users = await store.petugas_of(rt.db, kecamatan.region_code)
        if not users:
            continue  # nobody to remind yet: a petugas registered later is reminded then
        since = silent_since(kecamatan.last_report, settings.ELECTION_DAY, zone_of(kecamatan.region_code))
        await store.remind(
            rt.db,
            kecamatan.region_code,
            users,
            silent_since=since,
            last_report=row["last_report_at"] or "",
            at=now,
        )
        reminded += 1
    return reminded


async def reminder_subject(rt: Runtime, kecamatan: str, last_report: str, now: datetime) -> tuple[str, datetime]:
    """What a queued reminder names: the kecamatan's name, and since when it is silent."""
    region = await region_store.get(rt.db, kecamatan)
    since = silent_since(from_db(last_report) if last_report else None, rt.settings.ELECTION_DAY, zone_of(kecamatan))
    return (region.name if region else kecamatan), min(since, now)


async def still_silent(rt: Runtime, kecamatan: str, last_report: str) -> bool:
    """Whether a queued reminder still holds: no counting report since it was queued."""
    return (await store.last_counting_report(rt.db, kecamatan) or "") == last_report
