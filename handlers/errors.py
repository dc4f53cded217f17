"""One error handler: log the failure, tell the user what happened to their message, alert the
operators (deduplicated, `bot.telegram.ops`).

* the database could not be written (busy longer than its wait, read-only, disk full): nothing
  was stored — a report is answered "laporan BELUM tersimpan, kirim ulang", any other command
  "belum dijalankan"; one log line, no traceback (the fault is the host's, not the code's), and
  an ops alert;
* Telegram could not be reached or did not answer in time: no apology — the outcome of the send
  is unknown (it may have arrived), and an apology could contradict a receipt the user has;
* a button press answered after Telegram's limit ("query is too old"): it was handled, only the
  spinner's answer came late; one warning, counted (`callbacks_answered_late`), no apology;
* anything else is a bug: logged with its traceback, a short apology, an ops alert.

Errors without an update come from fetching updates (the durable intake's `getUpdates` loop,
`bot.telegram.intake`): a `409 Conflict` means another process polls with this token; it is one
log line and one ops alert per `CONFLICT_LOG_EVERY`, not a line every few seconds. A network
failure there is one line too (the intake retries by itself; `/healthz` says 503 meanwhile).
"""

from __future__ import annotations

import logging
import sqlite3
import time

from telegram import Update
from telegram.error import BadRequest, Conflict, NetworkError, RetryAfter, TelegramError

from bot.context import RUNTIME_KEY, KpuContext
from bot.telegram import ops
from bot.telegram.replies import send
from bot.texts import common as t
from bot.texts import ops as ops_texts
from handlers.lapor import CB as LAPOR_CALLBACK
from handlers.lapor import CB_SUGGESTION, HELD_CB

log = logging.getLogger("bot.errors")

CONFLICT_LOG_EVERY = 600.0  # seconds


class _Conflicts:
    """How often getUpdates met 409 Conflict, and when that was last logged."""

    count = 0
    logged_at: float | None = None


async def on_error(update: object, context: KpuContext) -> None:
    error = context.error
    rt = context.application.bot_data.get(RUNTIME_KEY)
    fetching = update is None and context.job is None  # the intake's getUpdates loop, not a job
    if fetching and isinstance(error, Conflict):
        _on_conflict(error, context)
        return
    if fetching and isinstance(error, NetworkError):
        log.warning("fetching updates failed: %s (retrying)", error)
        return
    if isinstance(error, (NetworkError, RetryAfter)) and not isinstance(error, BadRequest):  # BadRequest: refused
        log.warning("Telegram did not take a message (%s); not apologising: it may have arrived", error)
        return
    if isinstance(error, BadRequest) and _query_expired(error) and isinstance(update, Update) and update.callback_query:
        # the press was handled (its card edited, its change stored) but answered after Telegram's
        # limit (about 15 s: the chat's earlier updates came first): only the button's spinner
        # was missed, and no other answer could reach the presser
        ops.count("callbacks_answered_late")
        log.warning("a button press was answered too late for Telegram (%s); it was handled", error.message)
        return
    ops.count("handler_errors")
    where = _where(update)
    if isinstance(error, sqlite3.Error):
        log.error("the database did not take a change (%s): the user is told to send it again", error)
        text = t.NOT_STORED_BUSY if isinstance(update, Update) and is_report(update) else t.NOT_DONE_BUSY
        if rt is not None:
            rt.alert(f"error:{type(error).__name__}", ops_texts.handler_error(_describe(error), where))
    else:
        log.error("error while handling an update", exc_info=error)
        text = t.ERROR_APOLOGY
        if rt is not None:
            rt.alert(f"error:{type(error).__name__}:{_origin(error)}", ops_texts.handler_error(_describe(error), where))
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_chat is not None:
            await send(context.bot, update.effective_chat.id, text, thread_id=_thread(update))
    except TelegramError:
        log.warning("could not send the apology either", exc_info=True)


def _on_conflict(error: Conflict, context: KpuContext) -> None:
    _Conflicts.count += 1
    now = time.monotonic()
    if _Conflicts.logged_at is not None and now - _Conflicts.logged_at < CONFLICT_LOG_EVERY:
        return
    log.error(
        "Telegram refuses getUpdates with 409 Conflict (%d time(s) so far): another process polls with this token, "
        "or a webhook is set; stop the other one (%s)",
        _Conflicts.count,
        error.message,
    )
    _Conflicts.logged_at = now
    rt = context.application.bot_data.get(RUNTIME_KEY)
    if rt is not None:
        rt.alert("conflict", ops_texts.polling_conflict())


def _query_expired(error: BadRequest) -> bool:
    """Telegram's answer to answerCallbackQuery after its time limit (or for an unknown query id)."""
    message = error.message.lower()
    return "query is too old" in message or "query id is invalid" in message


def _describe(error: BaseException | None) -> str:
    if error is None:
        return "galat tidak dikenal"
    return f"{type(error).__name__}: {error}"[:300]


def _origin(error: BaseException | None) -> str:
    """Where the error was raised (file:line of the innermost frame): the dedupe key's second half."""
    tb = error.__traceback__ if error is not None else None
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "?"


def _where(update: object) -> str:
    if not isinstance(update, Update):
        return "tugas latar (job)"
    msg = update.effective_message
    if update.callback_query is not None:
        return f"tombol di chat {update.effective_chat.id if update.effective_chat else '?'}"
    if msg is not None and msg.text and msg.text.startswith("/"):
        return f"{msg.text.split()[0][:40]} di chat {msg.chat_id}"
    return f"pesan di chat {msg.chat_id if msg is not None else '?'}"


def is_report(update: Update) -> bool:
    """The update carries a report: a /lapor line (text or caption), the guided flow's step, a
    corrected report sent by its button, a held figure's Benar."""
    if update.callback_query is not None:
        return (update.callback_query.data or "").startswith((f"{LAPOR_CALLBACK}:", f"{HELD_CB}:", CB_SUGGESTION))
    msg = update.effective_message
    if msg is None:
        return False
    text = (msg.text or msg.caption or "").lstrip()
    return text.lower().startswith("/lapor") or msg.chat.type == "private" and not text.startswith("/")


def _thread(update: Update) -> int | None:
    msg = update.effective_message
    return msg.message_thread_id if msg is not None and msg.is_topic_message else None
