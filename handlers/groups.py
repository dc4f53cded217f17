"""/grup (register a coordination group) and the bot being added to or removed from a group."""

from __future__ import annotations

import logging

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.domain import access
from bot.telegram import digests as digest_delivery
from bot.domain.access import Action
from bot.context import KpuContext
from bot.domain.regions import normalize_code
from bot.texts import common as tc
from bot.texts import groups as tg
from bot.telegram.replies import reply, send
from storage import groups as group_store
from storage import regions as region_store
from storage import schedules as schedule_store

log = logging.getLogger(__name__)


async def grup(update: Update, context: KpuContext) -> None:
    chat, msg = update.effective_chat, update.effective_message
    if chat.type == ChatType.PRIVATE:
        await reply(update, tg.GRUP_GROUPS_ONLY)
        return
    if len(context.args) != 1:
        await reply(update, tg.GRUP_USAGE)
        return
    rt = context.rt
    code = normalize_code(context.args[0])
    region = await region_store.get(rt.db, code) if code else None
    if region is None:
        await reply(update, tg.grup_bad_region(context.args[0]))
        return
    decision = access.decide(context.actor, Action.GRUP, region.code)
    if not decision:
        await reply(update, tc.refusal(decision.reason))
        return
    thread_id = msg.message_thread_id if msg.is_topic_message else None
    result = await group_store.register(rt.db, chat_id=chat.id, region_code=region.code, thread_id=thread_id,
                                        title=chat.title or "", by=context.actor.telegram_id, at=rt.clock())
    # this chat's digests (kept times, or the defaults) now cover the region it registered for
    existing = [s.at_time for s in await schedule_store.for_chat(rt.db, chat.id)]
    times = existing or [t.strftime("%H:%M") for t in rt.settings.DIGEST_TIMES]
    await digest_delivery.set_schedule(context.application, rt, chat_id=chat.id, times=times, region_code=region.code,
                                       thread_id=thread_id, by=context.actor.telegram_id)
    previous = None
    if result.previous_region:
        prev = await region_store.get(rt.db, result.previous_region)
        previous = prev.title if prev else result.previous_region
    zone = rt.clock().astimezone(rt.settings.tz).tzname() or rt.settings.BOT_TIMEZONE
    path = tc.region_path(await region_store.path(rt.db, region.code))
    if result.replaced_chat is not None:
        await _moved_away(context, result.replaced_chat, result.replaced_thread, path, chat.title or "")
    await reply(update, tg.grup_registered(path, thread_id is not None, result.replaced_chat is not None, previous)
                + "\n" + tg.jadwal_set(times, zone, path))


async def _moved_away(context: KpuContext, old_chat: int, old_thread: int | None, path: str, new_title: str) -> None:
    """The region's former group: no more digests of it there, and one message saying where it went."""
    await digest_delivery.clear_chat(context.application, context.rt, old_chat)
    try:
        await send(context.bot, old_chat, tg.grup_moved_away(path, new_title), thread_id=old_thread)
    except TelegramError as exc:  # the bot may have been removed from it meanwhile
        log.warning("could not tell chat %d that its region moved: %s", old_chat, exc)


def _left(change: ChatMemberUpdated) -> bool:
    return change.new_chat_member.status in (ChatMember.LEFT, ChatMember.BANNED)


async def bot_membership(update: Update, context: KpuContext) -> None:
    """The bot was removed from a group: it is no longer a coordination group."""
    change = update.my_chat_member
    if change is None or change.chat.type == ChatType.PRIVATE:
        return
    if change.new_chat_member.status in (ChatMember.MEMBER, ChatMember.ADMINISTRATOR) and \
            change.old_chat_member.status in (ChatMember.LEFT, ChatMember.BANNED):
        await send(context.bot, change.chat.id, tg.WELCOME_IN_GROUP)
        return
    if _left(change):
        rt = context.rt
        await group_store.unregister(rt.db, chat_id=change.chat.id, by=change.from_user.id if change.from_user else None,
                                     at=rt.clock(), reason=change.new_chat_member.status)
        await digest_delivery.clear_chat(context.application, rt, change.chat.id)
