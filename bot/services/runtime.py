"""What every service needs at run time: settings, the database and the clock."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.domain.clock import Clock, utc_now
from bot.settings import Settings
from storage.db import Database

#: digests whose data is read at the same time: at 07:00 they are read one after another, as fast
#: as the database goes (the data of the whole country's digests in well under a minute), ahead of
#: their drawing and sending, so each digest's data is of its due minute; two keep the database
#: thread busy while the other one's rows are assembled.
DIGESTS_COMPUTED_AT_ONCE = 2
#: digests drawn and sent at the same time. At 07:00 every group's digest is due at once; a
#: few in flight keep the drawing workers and the sending busy (each digest's charts are drawn
#: while its text is sent), and the rest wait their turn instead of holding their charts in memory.
DIGESTS_AT_ONCE = 16


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock = field(default=utc_now)
    bot_username: str = ""
    #: the bot's Telegram id (`getMe`): reports are told apart per bot (`storage.incidents`)
    bot_id: int = 0
    digest_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(DIGESTS_AT_ONCE))
    compute_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(DIGESTS_COMPUTED_AT_ONCE))
    #: `alert(key, text)`: an operational alert for the operators' chat (bot.telegram.ops.OpsAlerts
    #: once the bot runs; nothing before, nor in the command line's verbs)
    alert: Callable[[str, str], object] = field(default=lambda key, text: None)
    #: what the layers above keep while the bot runs, by name (the digests of the current minute:
    #: `bot.telegram.digests`)
    caches: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> str:
        return self.settings.REGION_ROOT
