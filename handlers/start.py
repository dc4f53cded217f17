"""/start (greeting and registration by invite link) and /bantuan."""

from __future__ import annotations

from typing import cast

from telegram import Update
from telegram.constants import ChatType

from bot.context import KpuContext
from bot.domain.models import User
from bot.services import regions, registration
from bot.services.registration import RedeemOutcome
from bot.telegram import menus
from bot.telegram.replies import reply
from bot.telegram.updates import actor_of, chat_of, sender_of
from bot.texts import commands
from bot.texts import common as t


async def _path_text(context: KpuContext, code: str) -> str:
    return t.region_path(await regions.path(context.rt, code))


async def start(update: Update, context: KpuContext) -> None:
    sender = sender_of(update)
    private = chat_of(update).type == ChatType.PRIVATE
    payload = context.args[0] if context.args else ""
    if private and payload and registration.looks_like_code(payload):
        result = await registration.redeem(context.rt, payload, sender.id, sender.full_name, sender.username)
        # `Redeemed.user` and `.previous` are optional for the other outcomes; these two set them
        if result.outcome is RedeemOutcome.REGISTERED:
            user = cast(User, result.user)
            await menus.set_for_user(context.bot, user.telegram_id, user.role)
            await reply(
                update,
                t.greeting_registered(sender.full_name, user.role, await _path_text(context, user.region_code)),
            )
            return
        if result.outcome is RedeemOutcome.ALREADY_ACTIVE:
            current = cast(User, result.previous)
            await reply(
                update, t.invite_not_for_registered(current.role, await _path_text(context, current.region_code))
            )
            return
        if context.actor is None or result.outcome is not RedeemOutcome.USED:
            await reply(
                update,
                {
                    RedeemOutcome.UNKNOWN: t.INVITE_UNKNOWN,
                    RedeemOutcome.USED: t.INVITE_USED,
                    RedeemOutcome.EXPIRED: t.INVITE_EXPIRED,
                }[result.outcome],
            )
            return
    if context.actor is None:  # the gate let /start through: a stranger, or a revoked user
        known = await registration.user(context.rt, sender.id)
        await reply(update, t.refusal("revoked") if known is not None else t.NOT_REGISTERED)
        return
    actor = context.actor
    if private:  # a bootstrap admin's first chat: their menu could not be set before it existed
        await menus.set_for_user(context.bot, actor.telegram_id, actor.role)
    await reply(update, t.greeting_again(actor.full_name, actor.role, await _path_text(context, actor.region_code)))


async def bantuan(update: Update, context: KpuContext) -> None:
    actor = actor_of(context)
    lines = [(c.name, c.description) for c in commands.for_role(actor.role)]
    await reply(update, t.help_text(actor.role, lines))
