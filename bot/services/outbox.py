"""The notification outbox as its sender (`bot.telegram.outbox.Notifier`) sees it: the rows that
are due, what a group post of an incident shows, and the outcome of each delivery.

Rows are written by the lifecycle and reporting services in the same transaction as the change
they announce; this module reads them and records how their delivery went.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.models import Incident, IncidentEvent, Region, Status
from bot.domain.privacy import nik_region_mismatches
from bot.services import incidents as lifecycle
from bot.services.runtime import Runtime
from storage import groups as group_store
from storage import incidents as incident_store
from storage import outbox as outbox_store
from storage import regions as region_store
from storage import users as user_store
from storage.outbox import BROADCAST_PURPOSES, PRIVATE_PURPOSES, Pending

__all__ = ["BROADCAST_PURPOSES", "PRIVATE_PURPOSES", "CardData", "Pending"]


@dataclass(frozen=True, slots=True)
class CardData:
    """What the post of an incident shows in the group of one region, now."""

    path: tuple[Region, ...]
    reporter_name: str
    assignee_name: str | None
    events: list[IncidentEvent]
    region_titles: dict[str, str]
    #: the incident is handled by this group (no group, or the post's own): it gets the buttons
    here: bool
    #: when it moved on to another level's group: that region's title
    moved_to: str | None


async def card_data(rt: Runtime, incident: Incident, group_region: str | None) -> CardData:
    """The data of an incident's post as the group of `group_region` should see it now."""
    db = rt.db
    reporter = await user_store.get(db, incident.reporter_id)
    assignee = await user_store.get(db, incident.assignee_id) if incident.assignee_id else None
    current = await group_store.nearest(db, incident.handling_region)
    here = group_region is None or current is None or current.region_code == group_region
    moved_to = None
    if current is not None and not here:
        target = await region_store.get(db, current.region_code)
        moved_to = target.office if target else current.region_code
    events = await incident_store.events(db, incident.id)
    return CardData(
        await region_store.path(db, incident.region_code),
        reporter.full_name if reporter else str(incident.reporter_id),
        assignee.full_name if assignee else None,
        events,
        await lifecycle.region_titles(rt, events),
        here,
        moved_to,
    )


@dataclass(frozen=True, slots=True)
class ReceiptData:
    """What a report's receipt restates besides the incident: where, and NIKs from elsewhere."""

    path: tuple[Region, ...]
    nik_warnings: tuple[str, ...]


async def receipt_data(rt: Runtime, incident: Incident) -> ReceiptData:
    return ReceiptData(
        await region_store.path(rt.db, incident.region_code),
        tuple(nik_region_mismatches(incident.description, incident.region_code)),
    )


async def due(
    rt: Runtime, now: datetime, *, skip_chats: Collection[int] = (), chat_id: int | None = None, limit: int = 200
) -> list[Pending]:
    """The next rows to send (not sent, not failed for good, due by `now`): urgent notifications
    first, then receipts, other notifications and broadcasts, each class oldest first; none for
    the chats in `skip_chats`; only those of `chat_id` if given."""
    return await outbox_store.due(rt.db, now, limit=limit, skip_chats=skip_chats, chat_id=chat_id)


async def claim(
    rt: Runtime,
    now: datetime,
    lease: timedelta,
    *,
    limit: int = 20,
    chat_id: int | None = None,
    ids: Collection[int] | None = None,
) -> list[Pending]:
    """Take the next due rows for sending until `now + lease` (only `chat_id`'s, only those of
    `ids`, if given), in `due`'s order (see `storage.outbox.claim`)."""
    return await outbox_store.claim(rt.db, now, now + lease, limit, chat_id=chat_id, ids=ids)


async def release_all(rt: Runtime) -> int:
    """At start: every unsent row due now, a dead sender's leases included (`storage.outbox.release_all`)."""
    return await outbox_store.release_all(rt.db, rt.clock())


async def release(rt: Runtime, row_ids: list[int], now: datetime) -> None:
    """Give claimed rows back unsent: due again at `now`."""
    await outbox_store.release(rt.db, row_ids, now)


async def incident(rt: Runtime, incident_id: int) -> Incident | None:
    return await incident_store.get(rt.db, incident_id)


async def version(rt: Runtime, incident_id: int) -> int:
    """The incident's latest event: any change (status, history) makes a new one."""
    history = await incident_store.events(rt.db, incident_id)
    return history[-1].id if history else 0


@dataclass(frozen=True, slots=True)
class Actor:
    """Who made a change a notice tells of: their user id (the author of its note, whose NIKs stay
    readable only in their own chat) and their name, when known. `automatic`: nobody, the bot
    closed the incident itself ('selesai_otomatis', `note` its event's note: the report's number)."""

    id: int | None = None
    name: str | None = None
    automatic: bool = False
    note: str = ""


async def resolver(rt: Runtime, incident_id: int) -> Actor:
    """Who resolved the incident last (the name stored with the user), if known; or that the bot
    closed it itself, a report having shown it complete."""
    resolutions = [
        e for e in await incident_store.events(rt.db, incident_id) if e.action in ("selesai", "selesai_otomatis")
    ]
    if not resolutions:
        return Actor()
    last = resolutions[-1]
    if last.action == "selesai_otomatis":
        return Actor(automatic=True, note=last.note)
    return Actor(last.actor_id, last.actor_name)


#: the history action whose actor a private notice names, by outbox purpose
_NOTICE_ACTION = {"ditolak": "tolak", "dibuka": "buka"}


async def notice_actor(rt: Runtime, incident_id: int, purpose: str) -> Actor:
    """Who rejected or reopened the incident last (for the reporter's notice), if known."""
    action = _NOTICE_ACTION[purpose]
    found = [e for e in await incident_store.events(rt.db, incident_id) if e.action == action]
    return Actor(found[-1].actor_id, found[-1].actor_name) if found else Actor()


async def region_path(rt: Runtime, region_code: str) -> tuple[Region, ...]:
    return await region_store.path(rt.db, region_code)


async def posted(rt: Runtime, row: Pending, *, message_id: int, thread_id: int | None, drawn: int) -> None:
    """A card drawn at version `drawn` was posted for `row` (in topic `thread_id`): remember the
    post, and if the incident changed while the card was on its way, queue an edit of it (and the
    resolution notice, when the change resolved it)."""
    incident_id = row.incident_id
    if incident_id is None:  # private rows and a held figure's receipt have none; neither is a post
        raise ValueError(f"outbox row {row.id} ({row.purpose}) has no incident to post")
    await incident_store.remember_message(
        rt.db,
        chat_id=row.chat_id,
        message_id=message_id,
        incident_id=incident_id,
        purpose="notifikasi",
        at=rt.clock(),
        region_code=row.region_code,
        thread_id=thread_id,
    )
    # A change committed before the post was remembered found no post to edit; one committed
    # after it queued the edit itself (the same dedupe key, so never twice).
    now_version = await version(rt, incident_id)
    if now_version != drawn:
        post = {
            "chat_id": row.chat_id,
            "message_id": message_id,
            "region_code": row.region_code,
            "thread_id": thread_id,
        }
        rows = lifecycle.edit_rows([post], now_version)
        current = await incident_store.get(rt.db, incident_id)
        if current is not None and current.status is Status.SELESAI:
            resolutions = [e for e in await incident_store.events(rt.db, incident_id) if e.action == "selesai"]
            rows += lifecycle.resolution_rows([post], resolutions[-1].note if resolutions else "")
        await outbox_store.queue(rt.db, incident_id, rows, rt.clock())  # due now: this round sends it


async def mark_sent(rt: Runtime, row_id: int, *, at: datetime, message_id: int | None) -> None:
    await outbox_store.mark_sent(rt.db, row_id, at=at, message_id=message_id)


async def mark_sent_together(rt: Runtime, row_ids: Sequence[int], *, at: datetime, message_id: int | None) -> None:
    """Rows delivered by one message (an officer's receipts coalesced), marked together."""
    await outbox_store.mark_sent_together(rt.db, row_ids, at=at, message_id=message_id)


async def mark_retry(rt: Runtime, row_id: int, *, error: str, retry_at: datetime) -> None:
    await outbox_store.mark_retry(rt.db, row_id, error=error, retry_at=retry_at)


async def mark_failed(rt: Runtime, row_id: int, *, error: str, at: datetime) -> None:
    """The row cannot be delivered (bot removed, chat gone): kept, marked, never retried."""
    await outbox_store.mark_failed(rt.db, row_id, error=error, at=at)
