"""Follow-through of taken incidents: when the one who took an incident is reminded, and when its
cards say nobody has updated it (spec: Incidents and coordination groups, `REMIND_TAKEN_MIN`).

Pure rules over the incident history: an *update* is any event but the reminders themselves (a
note, a new report, an attachment, a status change), so a `/catatan` starts the clock again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.models import IncidentEvent


class Step(StrEnum):
    """The history actions of the follow-through, in the order they come."""

    PENGINGAT = "pengingat"  # the one who took it was reminded privately
    BELUM_DIPERBARUI = "belum_diperbarui"  # its cards say it has had no update


REMINDER_ACTIONS = frozenset(Step)


def next_step(last_update: datetime, now: datetime, minutes: int, *, reminded: bool, flagged: bool) -> Step | None:
    """What is due for a taken incident last updated at `last_update`: a reminder after `minutes`
    without an update, the flag on its cards at twice that (after the reminder), else nothing.
    `reminded` / `flagged`: whether that step was already taken since the last update."""
    waited = now - last_update
    if not reminded:
        return Step.PENGINGAT if waited >= timedelta(minutes=minutes) else None
    if not flagged and waited >= timedelta(minutes=2 * minutes):
        return Step.BELUM_DIPERBARUI
    return None


def last_update(events: Sequence[IncidentEvent]) -> IncidentEvent | None:
    """The latest event that is an update (not a reminder), if any."""
    for event in reversed(events):
        if event.action not in REMINDER_ACTIONS:
            return event
    return None


def flagged_since(events: Sequence[IncidentEvent]) -> datetime | None:
    """When the incident was last updated, if its cards say so now ("belum ada pembaruan" since
    then): the flag was set after its last update; None otherwise."""
    update = last_update(events)
    if update is None:
        return None
    later = [e for e in events if e.id > update.id]
    return update.at if any(e.action == Step.BELUM_DIPERBARUI for e in later) else None
