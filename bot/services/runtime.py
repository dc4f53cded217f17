"""What every service needs at run time: settings, the database and the clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.domain.clock import Clock, utc_now
from bot.settings import Settings
from storage.db import Database

#: digests prepared and sent at the same time. At 07:00 every group's digest is due at once;
#: the charts are drawn one at a time anyway, so a few in flight keep the drawing and the sending
#: busy, and the rest wait their turn instead of holding their charts in memory.
DIGESTS_AT_ONCE = 6


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock = field(default=utc_now)
    bot_username: str = ""
    #: the bot's Telegram id (`getMe`): reports are told apart per bot (`storage.incidents`)
    bot_id: int = 0
    digest_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(DIGESTS_AT_ONCE))
    #: `alert(key, text)`: an operational alert for the operators' chat (bot.telegram.ops.OpsAlerts
    #: once the bot runs; nothing before, nor in the command line's verbs)
    alert: Callable[[str, str], object] = field(default=lambda key, text: None)

    @property
    def root(self) -> str:
        return self.settings.REGION_ROOT
