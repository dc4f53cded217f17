"""The gate in front of every handler: who is speaking, and strangers get one short answer.

Runs in handler group -1. It loads the registered sender into `context.actor`; an unregistered
or revoked sender gets one short explanation and the update stops here, so nothing they send
reaches a handler that could store it. `/start` passes through (it carries invite codes), and
`my_chat_member` updates (the bot added to or removed from a group) are not a user's message.

An edited message stops here for everyone: editing "/undang petugas 51.03.01" must not mint a
second invite, nor editing "/eskalasi 7" escalate again, nor an edited report make a second
incident. Only an edited /lapor of a registered user is answered, with one line saying the report
stayed as it was and how to correct it (a new /lapor); any other edit, a live location's updates
among them, is ignored in silence.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop

from bot.context import KpuContext
from bot.services import audit, registration, reporting
from bot.telegram.replies import reply
from bot.texts import common as t


def _is_start(update: Update) -> bool:
    msg = update.effective_message
    text = (msg.text or "") if msg else ""
    return bool(text) and text.split(maxsplit=1)[0].split("@", 1)[0].lower() == "/start"


def _is_command(update: Update) -> bool:
    msg = update.effective_message
    return bool(msg and msg.text and msg.text.startswith("/"))


def _attempt(update: Update) -> str:
    """What a refused update tried: a button's data, or a command's first word."""
    if update.callback_query is not None:
        return f"tombol {update.callback_query.data or ''}"
    msg = update.effective_message
    return (msg.text or "").split(maxsplit=1)[0] if msg and msg.text else ""


def _chat_name(update: Update) -> str:
    return f"chat {update.effective_chat.id}" if update.effective_chat else ""


def _is_edit(update: Update) -> bool:
    return (update.edited_message or update.edited_channel_post or update.edited_business_message) is not None


def _is_report(text: str | None) -> bool:
    word = (text or "").split(maxsplit=1)[0] if (text or "").strip() else ""
    return word.split("@", 1)[0].lower() == "/lapor"


async def _edited(update: Update, context: KpuContext) -> None:
    """An edit changes nothing. An edited /lapor gets one line saying so — the officer corrected
    a figure and must not believe the correction was counted; any other edit (a live location
    moving, a command retyped) is ignored in silence."""
    msg = update.edited_message
    if msg is None or not _is_report(msg.text or msg.caption) or msg.from_user is None:
        return
    user = await registration.user(context.rt, msg.from_user.id)
    if user is None or not user.active:
        return
    incident_id = await reporting.incident_of_message(context.rt, msg.chat_id, msg.message_id)
    await reply(update, t.edited_report(incident_id))


async def gate(update: Update, context: KpuContext) -> None:
    if _is_edit(update):
        await _edited(update, context)
        raise ApplicationHandlerStop
    sender = update.effective_user
    if sender is None or update.my_chat_member is not None or update.chat_member is not None:
        return
    user = await registration.identify(context.rt, sender.id, sender.full_name, sender.username)
    if user is not None and user.active:
        context.actor = user
        return
    if _is_start(update) and update.effective_chat and update.effective_chat.type == ChatType.PRIVATE:
        return  # registration by invite link, or the greeting for strangers
    text = t.refusal("revoked") if user is not None else t.NOT_REGISTERED
    if update.callback_query is not None or _is_command(update):  # an attempt to act: audited
        attempted = _attempt(update)
        await audit.refused(
            context.rt, sender.id, attempted, _chat_name(update), "revoked" if user else "not_registered"
        )
    if update.callback_query is not None:
        await update.callback_query.answer(t.refusal("revoked" if user else "not_registered"), show_alert=True)
    elif update.effective_message is not None and update.effective_chat is not None:
        private = update.effective_chat.type == ChatType.PRIVATE
        if private or _is_command(update):
            await reply(update, text)
    raise ApplicationHandlerStop
