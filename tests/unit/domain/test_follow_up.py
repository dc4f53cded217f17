"""When a taken incident is reminded and flagged: pure rules over its history."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.follow_up import Step, flagged_since, last_update, next_step
from bot.domain.models import IncidentEvent

T0 = datetime(2024, 2, 14, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("waited", "reminded", "flagged", "expected"),
    [
        (59, False, False, None),
        (60, False, False, Step.PENGINGAT),
        (200, False, False, Step.PENGINGAT),  # overdue for both: the reminder comes first
        (60, True, False, None),
        (119, True, False, None),
        (120, True, False, Step.BELUM_DIPERBARUI),
        (500, True, True, None),  # both done: nothing more until an update
    ],
)
def test_next_step(waited, reminded, flagged, expected):
    now = T0 + timedelta(minutes=waited)
    assert next_step(T0, now, 60, reminded=reminded, flagged=flagged) == expected


def event(event_id: int, action: str, minutes: int) -> IncidentEvent:
    return IncidentEvent(event_id, 1, T0 + timedelta(minutes=minutes), None, None, action, None, None, None, "")


def test_an_update_is_any_event_but_a_reminder():
    history = [event(1, "lapor", 0), event(2, "tangani", 5), event(3, "pengingat", 65)]
    assert last_update(history) == history[1]
    assert last_update([]) is None


def test_the_flag_holds_until_the_next_update():
    history = [event(1, "lapor", 0), event(2, "tangani", 5), event(3, "pengingat", 65)]
    assert flagged_since(history) is None
    history.append(event(4, "belum_diperbarui", 125))
    assert flagged_since(history) == T0 + timedelta(minutes=5)
    history.append(event(5, "lampiran", 130))  # a photo is an update too
    assert flagged_since(history) is None
