"""Time: aware datetimes everywhere, stored as UTC ISO-8601 text, shown in BOT_TIMEZONE."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import overload

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_db(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: every time in the bot carries its zone")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


@overload
def from_db(text: str) -> datetime: ...
@overload
def from_db(text: None) -> None: ...
@overload
def from_db(text: str | None) -> datetime | None: ...


def from_db(text: str | None) -> datetime | None:
    """A stored time as an aware datetime (NULL stays None)."""
    return None if text is None else datetime.fromisoformat(text)
