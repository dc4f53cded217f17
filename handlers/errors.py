"""One error handler: log the failure with its traceback, tell the user a short apology."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from bot.context import KpuContext
from bot.telegram.replies import send
from bot.texts import common as t

log = logging.getLogger("bot.errors")


async def on_error(update: object, context: KpuContext) -> None:
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(t.ERROR_APOLOGY, show_alert=True)
        elif update.effective_chat is not None:
            await send(context.bot, update.effective_chat.id, t.ERROR_APOLOGY, thread_id=_thread(update))
    except TelegramError:
        log.warning("could not send the apology either", exc_info=True)


def _thread(update: Update) -> int | None:
    msg = update.effective_message
    return msg.message_thread_id if msg is not None and msg.is_topic_message else None
