"""Coordination groups: /grup registers a group for a region; the bot leaving a group ends it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import access
from bot.domain.access import Action
from bot.domain.models import Region, User
from bot.domain.regions import normalize_code
from bot.services import audit
from bot.services.runtime import Runtime
from storage import groups as group_store
from storage import regions as region_store
from storage import schedules as schedule_store

BAD_REGION = "bad_region"


@dataclass(frozen=True, slots=True)
class GroupRegistered:
    region: Region
    path: tuple[Region, ...]
    #: the digest times the group keeps (its own, or the default times for a new one)
    times: list[str]
    #: the title of the region this chat coordinated before, if another
    previous_region_title: str | None
    #: the chat (and topic) that coordinated this region before, if another
    replaced_chat: int | None
    replaced_thread: int | None


@dataclass(frozen=True, slots=True)
class GroupRefused:
    reason: str  # BAD_REGION or an access.Reason value


async def register(
    rt: Runtime, actor: User | None, *, chat_id: int, region_text: str, thread_id: int | None, title: str
) -> GroupRegistered | GroupRefused:
    """Make `chat_id` the coordination group of the region `region_text` names, if `actor` may."""
    code = normalize_code(region_text)
    region = await region_store.get(rt.db, code) if code else None
    if region is None:
        return GroupRefused(BAD_REGION)
    decision = access.decide(actor, Action.GRUP, region.code)
    current = await group_store.by_chat(rt.db, chat_id)
    if decision and current is not None and current.region_code != region.code:
        # re-registering a group takes it from the region it coordinates: that needs rights there too
        decision = access.decide(actor, Action.GRUP, current.region_code)
    if not decision:
        actor_id = actor.telegram_id if actor else None
        await audit.refused(rt, actor_id, f"grup {region.code}", f"chat {chat_id}", decision.reason.value)
        return GroupRefused(decision.reason.value)
    assert actor is not None  # decide() refuses a missing user
    result = await group_store.register(
        rt.db,
        chat_id=chat_id,
        region_code=region.code,
        thread_id=thread_id,
        title=title,
        by=actor.telegram_id,
        at=rt.clock(),
    )
    # this chat's digests (kept times, or the defaults) now cover the region it registered for
    existing = [s.at_time for s in await schedule_store.for_chat(rt.db, chat_id)]
    times = existing or [t.strftime("%H:%M") for t in rt.settings.DIGEST_TIMES]
    previous = None
    if result.previous_region:
        prev = await region_store.get(rt.db, result.previous_region)
        previous = prev.title if prev else result.previous_region
    return GroupRegistered(
        region,
        await region_store.path(rt.db, region.code),
        times,
        previous,
        result.replaced_chat,
        result.replaced_thread,
    )


async def left(rt: Runtime, *, chat_id: int, by: int | None, reason: str) -> None:
    """The bot was removed from `chat_id`: it is no longer a coordination group (audited)."""
    await group_store.unregister(rt.db, chat_id=chat_id, by=by, at=rt.clock(), reason=reason)
