"""Digest schedules: which chat gets a digest of which region when, and claiming each occurrence
exactly once.

The Telegram side (`bot.telegram.digests`) turns schedules into JobQueue jobs and sends the
digests; everything it needs to know from the database comes from here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain import access
from bot.domain.access import Action
from bot.domain.models import User
from bot.services.runtime import Runtime
from storage import groups as group_store
from storage import schedules as schedule_store
from storage import users as user_store
from storage.schedules import Claim, Schedule

__all__ = ["GRACE", "GROUP_NOT_REGISTERED", "Claim", "Schedule", "Target", "TargetRefused"]

log = logging.getLogger(__name__)

#: how late a daily digest may still go out (after a restart, or on a retry)
GRACE = timedelta(minutes=30)
#: the refusal of a digest command in a group that is not a registered coordination group
GROUP_NOT_REGISTERED = "group_not_registered"


@dataclass(frozen=True, slots=True)
class Target:
    """Where a chat's digest goes: the region it covers and the topic it is posted in."""

    region_code: str
    thread_id: int | None


@dataclass(frozen=True, slots=True)
class TargetRefused:
    reason: str  # GROUP_NOT_REGISTERED or an access.Reason value


def latest_occurrence(at_time: str, now_local: datetime) -> datetime:
    """The most recent moment (≤ now) at which a daily `HH:MM` schedule was due."""
    hh, mm = map(int, at_time.split(":"))
    today = now_local.replace(hour=hh, minute=mm, second=0, microsecond=0)
    return today if today <= now_local else today - timedelta(days=1)


async def chat_target(
    rt: Runtime, actor: User | None, chat_id: int, *, private: bool, group_action: Action | None, private_action: Action
) -> Target | TargetRefused:
    """What a digest command in `chat_id` is about: in a private chat the actor's own region (if
    `private_action` is theirs); in a group the region it is registered for (if `group_action`,
    when given, is the actor's there)."""
    if private:
        decision = access.decide(actor, private_action, actor.region_code if actor else None)
        if not decision:
            return TargetRefused(decision.reason.value)
        assert actor is not None  # decide() refuses a missing user
        return Target(actor.region_code, None)
    group = await group_store.by_chat(rt.db, chat_id)
    if group is None:
        return TargetRefused(GROUP_NOT_REGISTERED)
    if group_action is not None:
        decision = access.decide(actor, group_action, group.region_code)
        if not decision:
            return TargetRefused(decision.reason.value)
    return Target(group.region_code, group.thread_id)


async def times(rt: Runtime, chat_id: int) -> list[str]:
    """A chat's digest times ("07:00"), in order."""
    return [s.at_time for s in await schedule_store.for_chat(rt.db, chat_id)]


async def replace(
    rt: Runtime, *, chat_id: int, times: list[str], region_code: str, thread_id: int | None, by: int | None
) -> list[Schedule]:
    """Set a chat's digest times (empty: off), audited; returns its schedules now."""
    await schedule_store.replace(
        rt.db, chat_id=chat_id, times=times, region_code=region_code, thread_id=thread_id, by=by, at=rt.clock()
    )
    return await schedule_store.for_chat(rt.db, chat_id)


async def drop_chat(rt: Runtime, chat_id: int) -> None:
    """No more digests in this chat."""
    await schedule_store.delete_chat(rt.db, chat_id)


async def all_schedules(rt: Runtime) -> list[Schedule]:
    return await schedule_store.all_schedules(rt.db)


async def resolve_target(rt: Runtime, chat_id: int) -> Target | None:
    """Where a scheduled digest for `chat_id` goes now, or None if it should not go: a group that
    is no longer a registered coordination group; a private chat (its id is the user's) whose user
    is revoked or no longer has the right to a personal digest."""
    if chat_id > 0:
        user = await user_store.get_active(rt.db, chat_id)
        if user is None or not access.decide(user, Action.JADWAL_PRIBADI, user.region_code):
            return None
        return Target(user.region_code, None)
    group = await group_store.by_chat(rt.db, chat_id)
    return None if group is None else Target(group.region_code, group.thread_id)


async def due_occurrences(rt: Runtime, chat_id: int, at_times: list[str]) -> list[tuple[str, datetime]]:
    """(time, occurrence) of each of `at_times` whose digest is due and was not sent yet.

    An occurrence is due if it is the latest of its time, not older than the grace time and not
    earlier than the schedule's creation; a time turned off meanwhile has none."""
    now_local = rt.clock().astimezone(rt.settings.tz)
    due: list[tuple[str, datetime]] = []
    for at_time in at_times:
        schedule = await schedule_store.get(rt.db, chat_id, at_time)
        if schedule is None:  # turned off meanwhile
            continue
        occurrence = latest_occurrence(at_time, now_local)
        if schedule.created_at is not None and occurrence < schedule.created_at:
            continue  # due before the schedule existed (set at 07:02 for 07:00): the next one is tomorrow
        if schedule.last_run_at is not None and schedule.last_run_at >= occurrence:
            continue  # sent already
        if now_local - occurrence > GRACE:
            log.warning(
                "digest %s for chat %d is %s late: skipped until tomorrow", at_time, chat_id, now_local - occurrence
            )
            continue
        due.append((at_time, occurrence))
    return due


async def claim(rt: Runtime, chat_id: int, due: list[tuple[str, datetime]]) -> list[Claim]:
    """Mark the due occurrences as sent (compare-and-set); only those not taken by another job
    (a retry, the catch-up) are returned."""
    claims: list[Claim] = []
    for at_time, occurrence in due:
        claimed = await schedule_store.claim(rt.db, chat_id=chat_id, at_time=at_time, occurrence=occurrence)
        if claimed is not None:
            claims.append(claimed)
    return claims


async def release(rt: Runtime, claims: list[Claim]) -> None:
    """Give claims back after their digest could not be sent."""
    for claimed in claims:
        await schedule_store.release(rt.db, claimed)
