"""A faithful local Telegram Bot API emulator (HTTP server + user-side world) for tests, demos, benchmarks.

Point a real ``telegram.ext.Application`` at it with
``.base_url(f"{emu.url}/bot").base_file_url(f"{emu.url}/file/bot")``; act as users with
:class:`UserHandle`; read what the bot did with :meth:`BotApiEmulator.next_message` and friends.
"""

from .client import (
    BotHandle,
    Button,
    CallbackAnswer,
    CallbackHandle,
    ChatHandle,
    NoMessageError,
    SentMessage,
    UserHandle,
)
from .emulator import BotApiEmulator
from .entities import entities_to_html, find_entities, utf16_len
from .errors import ApiError
from .flood import FaultRule, FloodLimits
from .html import parse_html
from .markdown import parse_markdown, parse_markdown_v2

__all__ = [
    "ApiError",
    "BotApiEmulator",
    "BotHandle",
    "Button",
    "CallbackAnswer",
    "CallbackHandle",
    "ChatHandle",
    "FaultRule",
    "FloodLimits",
    "NoMessageError",
    "SentMessage",
    "UserHandle",
    "entities_to_html",
    "find_entities",
    "parse_html",
    "parse_markdown",
    "parse_markdown_v2",
    "utf16_len",
]
