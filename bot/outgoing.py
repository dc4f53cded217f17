"""The one rule for text that leaves the bot: NIKs are masked outside the owner's private chat.

Every text the handlers send goes through `for_chat` (via `handlers.replies`); a NIK stays
readable only in the private chat of the person who wrote it (a private chat's id is the
user's id), and is masked (`5103**********01`) in groups, in other people's private chats,
in digests, charts and exports.
"""

from __future__ import annotations

from bot.privacy import mask_niks


def for_chat(text: str, chat_id: int, owner_id: int | None = None) -> str:
    if owner_id is not None and chat_id == owner_id:
        return text
    return mask_niks(text)
