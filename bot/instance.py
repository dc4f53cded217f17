"""One bot per database, as the command line sees it: take the lock, or refuse in one line.

Light on purpose (settings, the lock, and PTB's Bot for one alert): `python -m bot run` takes the
lock here before the application (handlers, charts, matplotlib: about a second, more on a busy
server) is loaded, so a second `run` on the same database is refused at once.
"""

from __future__ import annotations

import asyncio

from bot.settings import Settings
from bot.telegram.ops import alert_once, host_name
from bot.texts import ops as ops_texts
from storage.instance import InstanceLock, InstanceRunning

__all__ = ["InstanceRunning", "hold", "refusal"]

#: a refused second instance tells the operators' chat, but never waits longer than this for it
REFUSAL_ALERT_TIMEOUT_S = 1.0


def hold(settings: Settings) -> InstanceLock:
    """The lock of `DATABASE_PATH`, held until the process ends (or `release()`); `InstanceRunning`
    if another process holds it."""
    return InstanceLock(settings.DATABASE_PATH.resolve()).acquire()


def refusal(settings: Settings, exc: InstanceRunning) -> str:
    """Tell the operators' chat (best effort, within a second) and return the one line for stderr."""
    path = settings.DATABASE_PATH.resolve()
    if settings.OPS_CHAT_ID is not None and settings.TELEGRAM_BOT_TOKEN:
        text = ops_texts.second_instance(str(path), exc.pid, host_name())
        asyncio.run(
            alert_once(
                settings.TELEGRAM_BOT_TOKEN,
                settings.TELEGRAM_API_URL,
                settings.TELEGRAM_PROXY_URL,
                settings.OPS_CHAT_ID,
                text,
                REFUSAL_ALERT_TIMEOUT_S,
            )
        )
    holder = f"pid {exc.pid}" if exc.pid is not None else "proses lain"
    return f"DATABASE_PATH: {path} sudah dipakai bot lain ({holder}); hanya satu bot per basis data"
