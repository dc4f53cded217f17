"""/jadwal (digest schedules), /ringkasan, /progres and /logistik (digests on demand).

In a registered group they cover the group's region; in a private chat the user's own region.
On-demand digests are limited per chat, so repeating the command cannot flood it.
"""

from __future__ import annotations

import time as monotonic_time

from telegram import Update
from telegram.constants import ChatType

from bot import access, digest_delivery
from bot.access import Action
from bot.app import KpuContext
from bot.texts import common as tc
from bot.texts import groups as tg
from handlers.replies import reply
from storage import groups as group_store
from storage import regions as region_store
from storage import schedules as schedule_store

COOLDOWN_S = 120
_LAST_SENT_KEY = "digest_last_sent"


def _zone(context: KpuContext) -> str:
    return context.rt.clock().astimezone(context.rt.settings.tz).tzname() or context.rt.settings.BOT_TIMEZONE


async def _target(update: Update, context: KpuContext, group_action: Action, private_action: Action):
    """(region_code, thread_id) the command is about, or None after answering why not."""
    chat = update.effective_chat
    if chat.type == ChatType.PRIVATE:
        decision = access.decide(context.actor, private_action, context.actor.region_code)
        if not decision:
            await reply(update, tc.refusal(decision.reason))
            return None
        return context.actor.region_code, None
    group = await group_store.by_chat(context.rt.db, chat.id)
    if group is None:
        await reply(update, tg.JADWAL_GROUP_NOT_REGISTERED)
        return None
    if group_action is not None:
        decision = access.decide(context.actor, group_action, group.region_code)
        if not decision:
            await reply(update, tc.refusal(decision.reason))
            return None
    return group.region_code, group.thread_id


async def jadwal(update: Update, context: KpuContext) -> None:
    target = await _target(update, context, Action.JADWAL_GRUP, Action.JADWAL_PRIBADI)
    if target is None:
        return
    region_code, thread_id = target
    rt, chat_id = context.rt, update.effective_chat.id
    if not context.args:
        current = [s.at_time for s in await schedule_store.for_chat(rt.db, chat_id)]
        await reply(update, tg.jadwal_now(current, _zone(context)))
        return
    if len(context.args) == 1 and context.args[0].lower() in ("mati", "off", "stop"):
        times: list[str] = []
    else:
        parsed = digest_delivery.parse_times(context.args)
        if parsed is None:
            await reply(update, tg.JADWAL_USAGE)
            return
        times = parsed
    await digest_delivery.set_schedule(context.application, rt, chat_id=chat_id, times=times,
                                       region_code=region_code, thread_id=thread_id,
                                       by=context.actor.telegram_id)
    if not times:
        await reply(update, tg.JADWAL_OFF)
        return
    path = tc.region_path(await region_store.path(rt.db, region_code))
    await reply(update, tg.jadwal_set(times, _zone(context), path))


def _on_demand(sections: tuple[str, ...]):
    async def command(update: Update, context: KpuContext) -> None:
        # in a registered group anyone registered may ask (the group gets the digest anyway)
        target = await _target(update, context, None, Action.RINGKASAN)
        if target is None:
            return
        region_code, thread_id = target
        chat_id = update.effective_chat.id
        last_sent: dict = context.application.bot_data.setdefault(_LAST_SENT_KEY, {})
        key = (chat_id, sections)
        now = monotonic_time.monotonic()
        if key in last_sent and now - last_sent[key] < COOLDOWN_S:
            await reply(update, tg.too_soon(int(COOLDOWN_S - (now - last_sent[key])) + 1))
            return
        last_sent[key] = now
        await digest_delivery.send_digest(context.bot, context.rt, chat_id, region_code,
                                          thread_id=thread_id if update.effective_chat.type != ChatType.PRIVATE
                                          else None, sections=sections)

    return command


ringkasan = _on_demand(digest_delivery.SECTIONS)
progres = _on_demand(("rekap",))
logistik = _on_demand(("logistik",))
