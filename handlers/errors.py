"""One error handler: log the failure with its traceback, tell the user a short apology, alert the
operators (deduplicated, `bot.telegram.ops`).

Errors without an update come from fetching updates (PTB's polling loop): a `409 Conflict`
means another process polls with this token; it is one log line and one ops alert per
`CONFLICT_LOG_EVERY`, not a traceback every few seconds. A network failure there is one line too
(PTB retries by itself; `/healthz` says 503 meanwhile).
"""

from __future__ import annotations

import logging
import time

from telegram import Update
from telegram.error import Conflict, NetworkError, TelegramError

from bot.context import RUNTIME_KEY, KpuContext
from bot.telegram import ops
from bot.telegram.replies import send
from bot.texts import common as t
from bot.texts import ops as ops_texts

log = logging.getLogger("bot.errors")

CONFLICT_LOG_EVERY = 600.0  # seconds


class _Conflicts:
    """How often getUpdates met 409 Conflict, and when that was last logged."""

    count = 0
    logged_at: float | None = None


async def on_error(update: object, context: KpuContext) -> None:
    error = context.error
    rt = context.application.bot_data.get(RUNTIME_KEY)
    fetching = update is None and context.job is None  # PTB's polling loop, not a job
    if fetching and isinstance(error, Conflict):
        _on_conflict(error, context)
        return
    if fetching and isinstance(error, NetworkError):
        log.warning("fetching updates failed: %s (retrying)", error)
        return
    ops.count("handler_errors")
    log.error("error while handling an update", exc_info=error)
    where = _where(update)
    if rt is not None:
        rt.alert(f"error:{type(error).__name__}:{_origin(error)}", ops_texts.handler_error(_describe(error), where))
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(t.ERROR_APOLOGY, show_alert=True)
        elif update.effective_chat is not None:
            await send(context.bot, update.effective_chat.id, t.ERROR_APOLOGY, thread_id=_thread(update))
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


def _thread(update: Update) -> int | None:
    msg = update.effective_message
    return msg.message_thread_id if msg is not None and msg.is_topic_message else None
