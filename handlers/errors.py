"""One error handler: log the failure, and tell the user what happened to their message.

* the database could not be written (busy longer than its wait, read-only, disk full): nothing
  was stored — a report is answered "laporan BELUM tersimpan, kirim ulang", any other command
  "belum dijalankan"; one log line, no traceback (the fault is the host's, not the code's);
* Telegram could not be reached or did not answer in time: no apology — the outcome of the send
  is unknown (it may have arrived), and an apology could contradict a receipt the user has;
* anything else is a bug: logged with its traceback, a short apology.
"""

from __future__ import annotations

import logging
import sqlite3

from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot.context import KpuContext
from bot.telegram.replies import send
from bot.texts import common as t
from handlers.lapor import CB as LAPOR_CALLBACK

log = logging.getLogger("bot.errors")


async def on_error(update: object, context: KpuContext) -> None:
    error = context.error
    if isinstance(error, (NetworkError, RetryAfter)) and not isinstance(error, BadRequest):  # BadRequest: refused
        log.warning("Telegram did not take a message (%s); not apologising: it may have arrived", error)
        return
    if isinstance(error, sqlite3.Error):
        log.error("the database did not take a change (%s): the user is told to send it again", error)
        text = t.NOT_STORED_BUSY if isinstance(update, Update) and is_report(update) else t.NOT_DONE_BUSY
    else:
        log.error("error while handling an update", exc_info=error)
        text = t.ERROR_APOLOGY
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_chat is not None:
            await send(context.bot, update.effective_chat.id, text, thread_id=_thread(update))
    except TelegramError:
        log.warning("could not send the apology either", exc_info=True)


def is_report(update: Update) -> bool:
    """The update carries a report: a /lapor line (text or caption), or the guided flow's step."""
    if update.callback_query is not None:
        return (update.callback_query.data or "").startswith(f"{LAPOR_CALLBACK}:")
    msg = update.effective_message
    if msg is None:
        return False
    text = (msg.text or msg.caption or "").lstrip()
    return text.lower().startswith("/lapor") or msg.chat.type == "private" and not text.startswith("/")


def _thread(update: Update) -> int | None:
    msg = update.effective_message
    return msg.message_thread_id if msg is not None and msg.is_topic_message else None
