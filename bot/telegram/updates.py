"""Typed access to the parts of an update a handler's registration guarantees.

python-telegram-bot types every part of an update as optional (`effective_message`,
`callback_query`, `context.args`, …) because an `Update` may be any kind of update. A handler
only ever sees the kinds its handler class and filters let through: a `CommandHandler` always has a
message, a chat, a sender and `context.args`; a `CallbackQueryHandler` with a pattern always has a
query with data; and every handler behind the gate (`handlers.gate`, group -1) has the registered
sender in `context.actor`. These accessors state that once: they return the part, typed as
present, and raise `MissingInUpdate` if it is absent after all — which would be a wrong
registration, so the error handler logs it and apologises, as for any other failure.
"""

from __future__ import annotations

from typing import Any, TypeVar

from telegram import CallbackQuery, Chat, Message, Update
from telegram import User as TelegramUser
from telegram.ext import JobQueue

from bot.context import KpuContext
from bot.domain.models import User

T = TypeVar("T")


class MissingInUpdate(LookupError):
    """A part of the update its handler's registration guarantees is absent."""


def _present(value: T | None, what: str) -> T:
    if value is None:
        raise MissingInUpdate(f"the update has no {what}")
    return value


def message_of(update: Update) -> Message:
    """The message of a message or command update (or of a conversation's timeout update)."""
    return _present(update.effective_message, "message")


def chat_of(update: Update) -> Chat:
    return _present(update.effective_chat, "chat")


def sender_of(update: Update) -> TelegramUser:
    """The Telegram user who sent the update (the gate lets no update without one reach a command)."""
    return _present(update.effective_user, "sender")


def text_of(update: Update) -> str:
    """The text of a message let through by `filters.TEXT`."""
    return _present(message_of(update).text, "message text")


def query_of(update: Update) -> CallbackQuery:
    """The callback query of an update a `CallbackQueryHandler` handles."""
    return _present(update.callback_query, "callback query")


def data_of(query: CallbackQuery) -> str:
    """A query's data (a `CallbackQueryHandler` with a string pattern matches only queries with data)."""
    return _present(query.data, "callback data")


def query_message_of(query: CallbackQuery) -> Message:
    """The message under whose button the query was pressed, to edit it. Telegram sends an
    `InaccessibleMessage` for one too old to be edited (and none for an inline message): neither
    can be edited, so both are refused here, as editing them would fail."""
    message = query.message
    if not isinstance(message, Message):
        raise MissingInUpdate("the callback query has no accessible message")
    return message


def args_of(context: KpuContext) -> list[str]:
    """The arguments of a command (`CommandHandler` always sets them, possibly empty)."""
    return _present(context.args, "command arguments")


def user_data_of(context: KpuContext) -> dict[Any, Any]:
    """The sender's `user_data` (there is one for every update with a sender)."""
    return _present(context.user_data, "user_data")


def job_queue_of(context: KpuContext) -> JobQueue[Any]:
    """The application's job queue (the application is built with one: digests are jobs)."""
    return _present(context.job_queue, "job queue")


def actor_of(context: KpuContext) -> User:
    """The registered, active sender the gate loaded; every handler but /start's runs behind it."""
    return _present(context.actor, "registered sender (context.actor)")


def whole_number(token: str, max_digits: int = 15) -> int | None:
    """`token` as a whole number typed with ASCII digits, or None: `str.isdigit` also accepts "²"
    and "٣" (which `int` refuses or reads), and SQLite refuses integers above 2**63."""
    if not token.isascii() or not token.isdigit() or len(token) > max_digits:
        return None
    return int(token)
