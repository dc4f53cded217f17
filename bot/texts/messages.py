"""Telegram's message limits: HTML text packed into messages below 4,096 characters.

Used by every long answer (the digest, `/status`, `/insiden`), so a message is never refused by
Telegram for its length and a cut never leaves half an HTML tag or entity.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

#: Telegram's limit is 4,096 characters; parts stay strictly below it (counted in UTF-16 units,
#: as Telegram does, which is never less than Python's `len`).
MESSAGE_LIMIT: Final = 4096
ELLIPSIS: Final = "…"
#: after the repeated title of a section that goes on in the next message
CONTINUED: Final = " <i>(lanjutan)</i>"


def telegram_length(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


_TAG: Final = re.compile(r"</?(?:b|i|code)>")
_ENTITY_TAIL: Final = re.compile(r"&[a-z#0-9]*$")


def _fit_line(line: str, limit: int) -> str:
    """A single line longer than a message: its tags dropped and the text cut (never expected)."""
    if telegram_length(line) < limit:
        return line
    plain = _TAG.sub("", line)
    while telegram_length(plain) >= limit - 1:
        plain = plain[: -max(1, telegram_length(plain) - limit + 2)]
    return _ENTITY_TAIL.sub("", plain) + ELLIPSIS


def _chunks(lines: list[str], limit: int) -> list[str]:
    """A section's lines packed into texts below `limit`; continuations repeat the title."""
    title, body = lines[0], [_fit_line(line, limit - telegram_length(lines[0] + CONTINUED) - 1) for line in lines[1:]]
    chunks: list[list[str]] = [[title]]
    size = telegram_length(title)
    for line in body:
        if size + 1 + telegram_length(line) >= limit:
            chunks.append([title + CONTINUED])
            size = telegram_length(chunks[-1][0])
        chunks[-1].append(line)
        size += 1 + telegram_length(line)
    return ["\n".join(chunk) for chunk in chunks]


def split_messages(blocks: Sequence[str], limit: int = MESSAGE_LIMIT, separator: str = "\n\n") -> list[str]:
    """Blocks packed greedily into messages shorter than `limit`, never splitting a block that
    fits a message on its own; a longer block is cut at its line boundaries (its first line is
    its title, repeated on every continuation)."""
    pieces: list[str] = []
    for block in blocks:
        pieces += [block] if telegram_length(block) < limit else _chunks(block.split("\n"), limit)
    messages: list[str] = []
    for piece in pieces:
        if messages and telegram_length(messages[-1] + separator + piece) < limit:
            messages[-1] += separator + piece
        else:
            messages.append(piece)
    return messages
