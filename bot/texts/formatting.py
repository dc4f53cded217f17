"""Indonesian presentation of numbers, shares, dates, times and durations.

The one place numbers, shares and times are written for users: every text module and the charts
(`bot.charts`) use these helpers. Day and
month names come from babel's CLDR data for `id`, never from hand-written tables. Results are plain
text with no HTML-special characters, so they can be put into Telegram HTML as they are.

>>> number(1234)
'1.234'
>>> share(0.875)
'87,5%'
>>> h_label(-2), h_label(0), h_label(1)
('H-2', 'H', 'H+1')
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, tzinfo
from typing import Final

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

__all__ = [
    "csv_time",
    "date_time",
    "duration",
    "h_label",
    "local_time",
    "long_date",
    "number",
    "percent_of",
    "percent_whole",
    "share",
    "short_date_time",
    "zone_abbreviation",
]

LOCALE: Final = "id"
#: Shown where a share or a duration cannot be computed.
NO_VALUE: Final = "—"

#: Indonesia's three time zones by IANA name (Asia/Pontianak keeps WIB like Jakarta).
_ZONE_ABBREVIATIONS: Final[dict[str, str]] = {
    "Asia/Jakarta": "WIB",
    "Asia/Pontianak": "WIB",
    "Asia/Makassar": "WITA",
    "Asia/Ujung_Pandang": "WITA",
    "Asia/Jayapura": "WIT",
}


def number(n: int) -> str:
    """Whole number with Indonesian thousands separators: 1234 → "1.234"."""
    return format_decimal(int(n), format="#,##0", locale=LOCALE)


def share(x: float | None) -> str:
    """A 0..1 share as a percentage with one decimal and a decimal comma: 0.875 → "87,5%".

    None (no denominator) gives "—". Values above 1 are shown as they are ("104,2%"); a share just
    below 1 shows "99,9%", so "100,0%" always means complete.
    """
    if x is None or math.isnan(x):
        return NO_VALUE
    if x < 1 and round(x * 1000) >= 1000:  # 99,96 % is not complete: never show it as 100,0%
        x = 0.999
    return format_percent(x, format="#,##0.0%", locale=LOCALE)


def percent_of(part: int, whole: int) -> str:
    """`part` of `whole` with one decimal and a decimal comma, rounded plainly: 180 of 205 → "87,8%".

    For restating one report (the receipt of a rekap). Unlike `share` it has no thousands
    separator and rounds 99,96 % up to "100,0%"; both outputs are kept as users know them.
    """
    return f"{part * 100 / whole:.1f}".replace(".", ",") + "%"


def percent_whole(x: float | None) -> str:
    """A share as a whole percentage for tight spaces (chart cells): 0.875 → "87%".

    Rounded down below 100 %, so "100%" only ever means complete; "—" for None.
    """
    if x is None or math.isnan(x):
        return NO_VALUE
    value = x * 100
    whole = math.floor(value + 1e-9) if value < 100 else round(value)
    return f"{whole}%"


def long_date(d: date | datetime) -> str:
    """Full Indonesian date: "Senin, 12 Februari 2024" (a datetime gives its own calendar day)."""
    day = d.date() if isinstance(d, datetime) else d
    return format_date(day, format="full", locale=LOCALE)


def short_date_time(dt: datetime, tz: tzinfo | None = None) -> str:
    """Compact day and time, optionally converted to `tz` first: "10 Feb 21:15"."""
    local = dt.astimezone(tz) if tz is not None and dt.tzinfo is not None else dt
    return f"{format_date(local.date(), format='d MMM', locale=LOCALE)} {local:%H:%M}"


def zone_abbreviation(dt: datetime) -> str:
    """WIB / WITA / WIT for Indonesia's zones; else the zone's own name or its UTC offset.

    Empty for a naive datetime.
    """
    tz = dt.tzinfo
    if tz is None:
        return ""
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    if key in _ZONE_ABBREVIATIONS:
        return _ZONE_ABBREVIATIONS[key]
    name = dt.tzname()
    if name and name[0].isalpha() and name.isalpha():
        return name
    offset = dt.utcoffset()
    if offset is None:  # pragma: no cover - aware datetimes have an offset
        return name or ""
    return _utc_offset(offset)


def _utc_offset(offset: timedelta) -> str:
    """timedelta(hours=8) → "UTC+8", timedelta(hours=5, minutes=30) → "UTC+5:30"."""
    minutes = round(offset.total_seconds() / 60)
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def date_time(moment: datetime, tz: tzinfo) -> str:
    """Numeric date and time in `tz` with the zone's name, for histories and lists:
    "14-02-2024 07:00 WITA"."""
    local = moment.astimezone(tz)
    return f"{local:%d-%m-%Y %H:%M} {local.tzname()}"


def csv_time(moment: datetime | None, tz: tzinfo) -> str:
    """Sortable date and time in `tz` for a spreadsheet cell: "2024-02-14 07:00"; "" for None."""
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def local_time(dt: datetime) -> str:
    """Clock time with the zone of the aware datetime: "07:00 WITA"."""
    zone = zone_abbreviation(dt)
    return f"{dt:%H:%M} {zone}" if zone else f"{dt:%H:%M}"


def h_label(day_offset: int) -> str:
    """Days from voting day written the KPU way: -2 → "H-2", 0 → "H", 1 → "H+1"."""
    if day_offset == 0:
        return "H"
    return f"H{'-' if day_offset < 0 else '+'}{abs(day_offset)}"


def duration(td: timedelta | None) -> str:
    """Readable duration, rounded to the minute: "45 menit", "1 jam 25 menit", "1 hari 21 jam".

    From one day on, whole hours (rounded); zero parts are left out ("3 jam", "2 hari"). Negative
    durations count as 0; None gives "—".
    """
    if td is None:
        return NO_VALUE
    minutes = max(0, math.floor(td.total_seconds() / 60 + 0.5))
    if minutes >= 24 * 60:
        days, hours = divmod((minutes + 30) // 60, 24)
        return f"{days} hari {hours} jam" if hours else f"{days} hari"
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} jam {minutes} menit" if minutes else f"{hours} jam"
    return f"{minutes} menit"
