"""The command menu per chat and role (setMyCommands with scopes).

Telegram shows the most specific menu it has: a chat's own (`BotCommandScopeChat`), else the one
for all private chats or all groups, else the default. So:

- every private chat: the petugas menu (what anyone registered may use; strangers are told how
  to register whatever they send);
- every group: the group commands, without `/undang`, `/cabut`, `/impor` and `/start`;
- the private chat of a koordinator, komisioner or admin: their role's menu, set when they
  register, removed when they are revoked (back to the petugas menu), and set again for all of
  them at start (so bootstrap admins and a changed catalogue are covered).
"""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, BotCommandScopeChat
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.domain.models import Role
from bot.services import registration
from bot.services.runtime import Runtime
from bot.texts import commands

log = logging.getLogger(__name__)


def _commands(pairs: list[tuple[str, str]]) -> list[BotCommand]:
    return [BotCommand(name, description) for name, description in pairs]


async def set_defaults(bot: Bot) -> None:
    """The menus of all private chats and all groups (and the default, for other clients)."""
    private = _commands(commands.private_menu(Role.PETUGAS))
    await bot.set_my_commands(private)
    await bot.set_my_commands(private, scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(_commands(commands.group_menu()), scope=BotCommandScopeAllGroupChats())


async def set_for_user(bot: Bot, telegram_id: int, role: Role | None) -> None:
    """The private menu of one user: their role's, or the default (`role` None: revoked)."""
    scope = BotCommandScopeChat(telegram_id)
    try:
        if role is not None and role is not Role.PETUGAS:
            await bot.set_my_commands(_commands(commands.private_menu(role)), scope=scope)
        else:
            await bot.delete_my_commands(scope=scope)
    except (BadRequest, Forbidden) as exc:  # never opened a chat with the bot, or blocked it
        log.info("command menu of user %d not set: %s", telegram_id, exc.message)
    except TelegramError as exc:  # the menu is a convenience: a failure never stops the command
        log.warning("command menu of user %d not set: %s", telegram_id, exc)


async def sync_all(bot: Bot, rt: Runtime) -> None:
    """At start: the defaults, then every user whose role opens more (in the background; a failure
    is logged, the bot runs on)."""
    try:
        await set_defaults(bot)
        for user in await registration.users_with_own_menu(rt):
            await set_for_user(bot, user.telegram_id, user.role)
    except TelegramError as exc:
        log.warning("command menus not (all) set: %s", exc)
