"""/start (greeting and registration by invite link) and /bantuan."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from bot.context import KpuContext
from bot.services import regions, registration
from bot.services.registration import RedeemOutcome
from bot.telegram.replies import reply
from bot.texts import commands
from bot.texts import common as t


async def _path_text(context: KpuContext, code: str) -> str:
    return t.region_path(await regions.path(context.rt, code))


async def start(update: Update, context: KpuContext) -> None:
    sender = update.effective_user
    private = update.effective_chat.type == ChatType.PRIVATE
    payload = context.args[0] if context.args else ""
    if private and payload and registration.looks_like_code(payload):
        result = await registration.redeem(context.rt, payload, sender.id, sender.full_name, sender.username)
        if result.outcome is RedeemOutcome.REGISTERED:
            await reply(
                update,
                t.greeting_registered(
                    sender.full_name, result.user.role, await _path_text(context, result.user.region_code)
                ),
            )
            return
        if result.outcome is RedeemOutcome.ALREADY_ACTIVE:
            current = result.previous
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
    await reply(update, t.greeting_again(actor.full_name, actor.role, await _path_text(context, actor.region_code)))


async def bantuan(update: Update, context: KpuContext) -> None:
    actor = context.actor
    lines = [(c.name, c.description) for c in commands.for_role(actor.role)]
    await reply(update, t.help_text(actor.role, lines))
