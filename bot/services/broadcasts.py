"""/siaran: a komisioner's or admin's message to every active user in their scope, privately,
through the outbox (`bot.telegram.outbox.Notifier` sends it at Telegram's pace and tells the
sender the outcome when the last message is done)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain import access
from bot.domain.access import Action, Reason
from bot.domain.models import User
from bot.services.runtime import Runtime
from storage import broadcasts as store
from storage import regions as region_store
from storage import users as user_store
from storage.broadcasts import Outcome

__all__ = ["Outcome", "Started", "finish_if_done", "message", "outcome", "start"]


@dataclass(frozen=True, slots=True)
class Started:
    broadcast_id: int
    recipients: int
    scope: str  # the region code, or 'ID'


async def start(rt: Runtime, actor: User | None, text: str, chat_id: int) -> Started | Reason:
    """Queue a broadcast of `text` to every active user in the actor's scope (the actor left out),
    audited; the outcome goes to `chat_id` when done."""
    decision = access.decide(actor, Action.SIARAN, actor.region_code if actor else None)
    if not decision:
        return decision.reason
    assert actor is not None  # decide() refuses a missing user
    scope = access.scope_of(actor, Action.SIARAN)
    broadcast_id, recipients = await store.create(
        rt.db, sender_id=actor.telegram_id, sender_chat_id=chat_id, scope=scope, text=text, at=rt.clock()
    )
    return Started(broadcast_id, recipients, scope)


async def message(rt: Runtime, broadcast_id: int) -> tuple[str, str, str] | None:
    """The broadcast's text, its sender's name and the sender's office ("KPU Kabupaten Badung")."""
    found = await store.text_of(rt.db, broadcast_id)
    if found is None:
        return None
    text, sender_id = found
    sender = await user_store.get(rt.db, sender_id)
    region = await region_store.get(rt.db, sender.region_code) if sender else None
    return text, sender.full_name if sender else str(sender_id), region.office if region else ""


async def finish_if_done(rt: Runtime, broadcast_id: int) -> bool:
    """Queue the outcome to the sender once every recipient's message is done (once)."""
    return await store.finish_if_done(rt.db, broadcast_id, rt.clock())


async def outcome(rt: Runtime, broadcast_id: int) -> Outcome | None:
    return await store.outcome(rt.db, broadcast_id)
