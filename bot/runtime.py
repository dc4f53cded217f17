"""What every service needs at run time: settings, the database and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.clock import Clock, utc_now
from bot.settings import Settings
from storage.db import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock = field(default=utc_now)
    bot_username: str = ""

    @property
    def root(self) -> str:
        return self.settings.REGION_ROOT
