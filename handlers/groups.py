"""/grup (register a coordination group) and the bot being added to or removed from a group."""

from __future__ import annotations

import logging

from telegram import ChatMember, ChatMemberUpdated, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.context import KpuContext
from bot.services import groups
from bot.services.groups import BAD_REGION, GroupRefused
from bot.telegram import digests as digest_delivery
from bot.telegram.replies import reply, send
from bot.telegram.updates import actor_of, args_of, chat_of, message_of
from bot.texts import common as tc
from bot.texts import groups as tg

log = logging.getLogger(__name__)


async def grup(update: Update, context: KpuContext) -> None:
    chat, msg = chat_of(update), message_of(update)
    if chat.type == ChatType.PRIVATE:
        await reply(update, tg.GRUP_GROUPS_ONLY)
        return
    args = args_of(context)
    if len(args) != 1:
        await reply(update, tg.GRUP_USAGE)
        return
    rt = context.rt
    thread_id = msg.message_thread_id if msg.is_topic_message else None
    result = await groups.register(
        rt, actor_of(context), chat_id=chat.id, region_text=args[0], thread_id=thread_id, title=chat.title or ""
    )
    if isinstance(result, GroupRefused):
        await reply(update, tg.grup_bad_region(args[0]) if result.reason == BAD_REGION else tc.refusal(result.reason))
        return
    # this chat's digests (kept times, or the defaults) now cover the region it registered for
    await digest_delivery.set_schedule(
        context.application,
        rt,
        chat_id=chat.id,
        times=result.times,
        region_code=result.region.code,
        thread_id=thread_id,
        by=actor_of(context).telegram_id,
    )
    zone = rt.clock().astimezone(rt.settings.tz).tzname() or rt.settings.BOT_TIMEZONE
    path = tc.region_path(result.path)
    if result.replaced_chat is not None:
        await _moved_away(context, result.replaced_chat, result.replaced_thread, path, chat.title or "")
    await reply(
        update,
        tg.grup_registered(path, thread_id is not None, result.replaced_chat is not None, result.previous_region_title)
        + "\n"
        + tg.jadwal_set(result.times, zone, path),
    )


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
    if change.new_chat_member.status in (
        ChatMember.MEMBER,
        ChatMember.ADMINISTRATOR,
    ) and change.old_chat_member.status in (ChatMember.LEFT, ChatMember.BANNED):
        await send(context.bot, change.chat.id, tg.WELCOME_IN_GROUP)
        return
    if _left(change):
        rt = context.rt
        await groups.left(
            rt,
            chat_id=change.chat.id,
            by=change.from_user.id if change.from_user else None,
            reason=change.new_chat_member.status,
        )
        await digest_delivery.clear_chat(context.application, rt, change.chat.id)
