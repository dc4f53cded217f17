"""When a kecamatan silent on counting is chased: zones, periods, the hourly gap, the night."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.silence import (
    WIB,
    WIT,
    WITA,
    Silent,
    chased_provinces,
    counting_begins,
    is_night,
    reminder_due,
    silent_since,
    zone_of,
)

H = date(2024, 2, 14)
PERIOD = timedelta(minutes=180)


def wita(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 2, day, hour, minute, tzinfo=ZoneInfo(WITA)).astimezone(UTC)


def kuta(last_report=None, reminded=None, done=None, total=None) -> Silent:
    return Silent("51.03.01", last_report, done, total, reminded)


def test_zones_by_province():
    assert zone_of("51.03.01") == WITA and zone_of("31.71") == WIB and zone_of("94") == WIT
    assert zone_of("64.01.01") == WITA and zone_of("61") == WIB and zone_of("82.01") == WIT


def test_counting_begins_when_the_polls_close_in_each_zone():
    assert counting_begins(H, WITA) == wita(14, 13)
    assert counting_begins(H, WIT) == wita(14, 12)  # Papua two hours before Sumatra
    assert counting_begins(H, WIB) == wita(14, 14)
    assert chased_provinces(["11", "51", "91"], wita(14, 15, 30), H, PERIOD) == ["91"]
    assert chased_provinces(["51"], wita(13, 20), H, PERIOD) == []  # before H
    assert chased_provinces(["51"], wita(15, 23, 59), H, PERIOD) == ["51"]  # H+1: still chased
    assert chased_provinces(["51"], wita(16, 0), H, PERIOD) == []  # from H+2 the rekapitulasi has taken over


def test_one_reminder_per_period_at_most_hourly():
    assert not reminder_due(kuta(), wita(14, 15, 59), H, PERIOD)
    assert reminder_due(kuta(), wita(14, 16), H, PERIOD)
    assert not reminder_due(kuta(reminded=wita(14, 16)), wita(14, 18, 59), H, PERIOD)
    assert reminder_due(kuta(reminded=wita(14, 16)), wita(14, 19), H, PERIOD)  # the next period
    # a report after the reminder starts a new period, but never two reminders within an hour
    short = timedelta(minutes=30)
    assert not reminder_due(kuta(last_report=wita(14, 16, 10), reminded=wita(14, 16)), wita(14, 16, 45), H, short)
    assert reminder_due(kuta(last_report=wita(14, 16, 10), reminded=wita(14, 16)), wita(14, 17), H, short)
    assert silent_since(wita(14, 9), H, WITA) == wita(14, 13)  # a report before counting began


def test_not_at_night_unless_counting_runs_there():
    assert is_night(wita(14, 23), WITA) and is_night(wita(15, 4, 59), WITA) and not is_night(wita(15, 5), WITA)
    assert not reminder_due(kuta(), wita(14, 23, 30), H, PERIOD)
    assert not reminder_due(kuta(last_report=wita(14, 19), done=205, total=205), wita(14, 23, 30), H, PERIOD)
    assert reminder_due(kuta(last_report=wita(14, 19), done=150, total=205), wita(14, 23, 30), H, PERIOD)
    assert reminder_due(kuta(), wita(15, 5), H, PERIOD)
