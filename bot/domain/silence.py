"""Counting silence: when a kecamatan that has not reported its penghitungan is chased. Pure.

On voting day H each TPS counts its ballots once the polls close (13:00 local time), into the
evening and often past midnight. From then until its counting is complete — and at the latest
until the end of H+1, when the rekapitulasi at the PPK has taken over — a kecamatan without a
counting report for `COUNTING_SILENCE_MIN` is *silent*: it is listed in digests and its petugas
are reminded privately, once per period of silence (a new period begins with each report), never
twice within an hour, and not at night (23:00-05:00 local) unless its counting is still running
(it reported and has TPS left), when someone is awake anyway.

"Local" is the kecamatan's own zone — WIB, WITA or WIT by province — not the bot's: a national
deployment chases Papua two hours before Sumatra.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

#: Indonesia's three zones by province code (Kemendagri); WIB for the rest of the country
WITA_PROVINCES: Final = frozenset({"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"})
WIT_PROVINCES: Final = frozenset({"81", "82", "91", "92", "93", "94", "95", "96"})
WIB: Final = "Asia/Jakarta"
WITA: Final = "Asia/Makassar"
WIT: Final = "Asia/Jayapura"

#: the polls close and counting begins at the TPS, local time on H
COUNTING_BEGINS: Final = time(13, 0)
#: the last day penghitungan is chased, in days after H (to its midnight, local time)
COUNTING_CHASED_DAYS: Final = 1
#: night, local time: reminders wait for the morning unless counting is running there
NIGHT_BEGINS: Final = time(23, 0)
NIGHT_ENDS: Final = time(5, 0)
#: two reminders to one kecamatan are at least this far apart, whatever the period
MIN_REMINDER_GAP: Final = timedelta(hours=1)


def zone_of(province_code: str) -> str:
    """The IANA zone of a province (the first two digits of any code under it)."""
    province = province_code[:2]
    if province in WIT_PROVINCES:
        return WIT
    if province in WITA_PROVINCES:
        return WITA
    return WIB


def counting_begins(election_day: date, zone: str) -> datetime:
    """When counting begins on H in `zone` (aware)."""
    return datetime.combine(election_day, COUNTING_BEGINS, tzinfo=ZoneInfo(zone))


def counting_chase_ends(election_day: date, zone: str) -> datetime:
    """When chasing penghitungan ends in `zone`: midnight after H+COUNTING_CHASED_DAYS (aware)."""
    last = election_day + timedelta(days=COUNTING_CHASED_DAYS + 1)
    return datetime.combine(last, time(0, 0), tzinfo=ZoneInfo(zone))


def is_night(moment: datetime, zone: str) -> bool:
    local = moment.astimezone(ZoneInfo(zone)).time()
    return local >= NIGHT_BEGINS or local < NIGHT_ENDS


def chased_provinces(provinces: list[str], now: datetime, election_day: date, period: timedelta) -> list[str]:
    """The provinces where silence is chased now: counting began there at least a `period` ago,
    and H+1 is not over. (Within that, a kecamatan whose counting is complete is no longer chased:
    that is the caller's query.)"""
    return [
        p
        for p in provinces
        if now - counting_begins(election_day, zone_of(p)) >= period
        and now < counting_chase_ends(election_day, zone_of(p))
    ]


def silent_since(last_report: datetime | None, election_day: date, zone: str) -> datetime:
    """Since when a kecamatan is silent: its last counting report, or when counting began."""
    begun = counting_begins(election_day, zone)
    return begun if last_report is None or last_report < begun else last_report


@dataclass(frozen=True, slots=True)
class Silent:
    """A silent kecamatan as the reminder job sees it."""

    region_code: str
    last_report: datetime | None
    tps_done: int | None
    tps_total: int | None
    last_reminded: datetime | None

    @property
    def running(self) -> bool:
        """Counting has begun and is not complete (it reported, with TPS left)."""
        return self.tps_done is not None and self.tps_total is not None and self.tps_done < self.tps_total


def reminder_due(k: Silent, now: datetime, election_day: date, period: timedelta) -> bool:
    """Whether `k`'s petugas are reminded now: silent a whole period since its last report (or the
    start of counting) and since its last reminder, an hour at least since that reminder, and not
    at night unless its counting is running."""
    zone = zone_of(k.region_code)
    since = silent_since(k.last_report, election_day, zone)
    if now - since < period:
        return False
    if k.last_reminded is not None and (
        k.last_reminded >= since and now - k.last_reminded < period or now - k.last_reminded < MIN_REMINDER_GAP
    ):
        return False
    return k.running or not is_night(now, zone)
