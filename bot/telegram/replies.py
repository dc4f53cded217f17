"""Sending text: every handler's message to a chat goes through here, so NIKs get masked.

`reply` answers the update's message, `send` writes to a chat; both pass the text through
`bot.domain.privacy.for_chat`, which keeps a NIK readable only in its owner's private chat.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import ExtBot

from bot.domain.privacy import for_chat


def _message(update: Update) -> Message:
    """The update's message: replies are only made to updates that carry one (a command, a text,
    a callback query's message), so its absence is a bug, reported as such."""
    msg = update.effective_message
    if msg is None:
        raise ValueError(f"update {update.update_id} has no message to reply to")
    return msg


async def reply(
    update: Update,
    text: str,
    *,
    owner_id: int | None = None,
    markup: InlineKeyboardMarkup | None = None,
    quote: bool | None = None,
) -> Message:
    """Answer the update's message; quoted in groups, and in private when `quote` (a button under
    the answer then finds the message it is about as the answer's `reply_to_message`)."""
    msg = _message(update)
    do_quote = quote if quote is not None else msg.chat.type != "private"
    return await msg.reply_text(for_chat(text, msg.chat_id, owner_id), reply_markup=markup, do_quote=do_quote)


async def send(
    bot: ExtBot,
    chat_id: int,
    text: str,
    *,
    owner_id: int | None = None,
    thread_id: int | None = None,
    markup: InlineKeyboardMarkup | None = None,
) -> Message:
    return await bot.send_message(
        chat_id, for_chat(text, chat_id, owner_id), message_thread_id=thread_id, reply_markup=markup
    )


async def edit(
    message: Message, text: str, *, owner_id: int | None = None, markup: InlineKeyboardMarkup | None = None
) -> Message | bool:
    return await message.edit_text(for_chat(text, message.chat_id, owner_id), reply_markup=markup)


async def send_document(update: Update, data: bytes, file_name: str, caption: str) -> Message:
    """A file as a reply (its contents are the caller's to mask; the caption is masked here)."""
    msg = _message(update)
    return await msg.reply_document(
        data, filename=file_name, caption=for_chat(caption, msg.chat_id), do_quote=msg.chat.type != "private"
    )
