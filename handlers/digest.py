"""/jadwal (digest schedules), /ringkasan, /progres and /logistik (digests on demand).

In a registered group they cover the group's region; in a private chat the user's own region.
Every on-demand command is answered: a region's digest is computed at most once a minute and its
charts drawn once (`bot.telegram.digests.DigestCache`), so asking again, or asking /progres then
/logistik, costs sending only, at Telegram's pace for the chat (the rate limiter). The digest is
sent in the background, so the bot keeps handling everyone else's updates meanwhile.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from bot.context import KpuContext
from bot.domain.access import Action
from bot.services import regions, schedules
from bot.services.schedules import GROUP_NOT_REGISTERED, Target, TargetRefused
from bot.telegram import digests as digest_delivery
from bot.telegram.replies import reply
from bot.telegram.updates import actor_of, args_of, chat_of
from bot.texts import common as tc
from bot.texts import groups as tg


def _zone(context: KpuContext) -> str:
    return context.rt.clock().astimezone(context.rt.settings.tz).tzname() or context.rt.settings.BOT_TIMEZONE


async def _target(
    update: Update, context: KpuContext, group_action: Action | None, private_action: Action
) -> Target | None:
    """The region and topic the command is about, or None after answering why not."""
    chat = chat_of(update)
    target = await schedules.chat_target(
        context.rt,
        actor_of(context),
        chat.id,
        private=chat.type == ChatType.PRIVATE,
        group_action=group_action,
        private_action=private_action,
    )
    if isinstance(target, TargetRefused):
        await reply(
            update,
            tg.JADWAL_GROUP_NOT_REGISTERED if target.reason == GROUP_NOT_REGISTERED else tc.refusal(target.reason),
        )
        return None
    return target


async def jadwal(update: Update, context: KpuContext) -> None:
    target = await _target(update, context, Action.JADWAL_GRUP, Action.JADWAL_PRIBADI)
    if target is None:
        return
    region_code, thread_id = target.region_code, target.thread_id
    rt, chat_id = context.rt, chat_of(update).id
    args = args_of(context)
    if not args:
        current = await schedules.times(rt, chat_id)
        await reply(update, tg.jadwal_now(current, _zone(context)))
        return
    if len(args) == 1 and args[0].lower() in ("mati", "off", "stop"):
        times: list[str] = []
    else:
        parsed = digest_delivery.parse_times(args)
        if parsed is None:
            await reply(update, tg.JADWAL_USAGE)
            return
        times = parsed
    await digest_delivery.set_schedule(
        context.application,
        rt,
        chat_id=chat_id,
        times=times,
        region_code=region_code,
        thread_id=thread_id,
        by=actor_of(context).telegram_id,
    )
    if not times:
        await reply(update, tg.JADWAL_OFF)
        return
    path = tc.region_path(await regions.path(rt, region_code))
    await reply(update, tg.jadwal_set(times, _zone(context), path))


def _on_demand(sections: tuple[str, ...] | None):
    async def command(update: Update, context: KpuContext) -> None:
        # in a registered group anyone registered may ask (the group gets the digest anyway)
        target = await _target(update, context, None, Action.RINGKASAN)
        if target is None:
            return
        region_code, thread_id = target.region_code, target.thread_id
        chat_id = chat_of(update).id
        # computing, drawing and sending (rate-limiter waits included) take a while: in the
        # background, so every other chat's updates are handled meanwhile; a failure still reaches
        # the error handler (log and apology) through `update`
        context.application.create_task(
            _send(
                context,
                update,
                region_code,
                thread_id if chat_of(update).type != ChatType.PRIVATE else None,
                sections,
            ),
            update=update,
            name=f"ringkasan:{chat_id}",
        )

    return command


async def _send(
    context: KpuContext,
    update: Update,
    region_code: str,
    thread_id: int | None,
    sections: tuple[str, ...] | None,
) -> None:
    await digest_delivery.send_digest(
        context.bot, context.rt, chat_of(update).id, region_code, thread_id=thread_id, sections=sections
    )


ringkasan = _on_demand(None)  # the sections of the election's phase
progres = _on_demand(("hitung", "rekap"))
logistik = _on_demand(("logistik",))
