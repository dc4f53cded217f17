"""Operational alerts to `OPS_CHAT_ID`, and the process's counters for `/metrics`.

`OpsAlerts.report(key, text)` sends `text` to the operators' chat in the background, at most
once per `key` every `DEDUPE` (10 minutes; the next one says how often it happened meanwhile),
and at most `PER_MINUTE` messages a minute whatever happens (the rest are counted and the next
message says how many were held back). Every alert is also in the log, so nothing depends on
the chat being reachable.

`COUNTERS` are this process's event counts (handler errors, Telegram's 429s, digests sent and
given up); figures that live in the database (reports, incidents, the outbox) are read from it
when `/metrics` is asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram import Bot
from telegram.error import TelegramError

from bot.domain.privacy import for_chat
from bot.telegram.http import AiohttpRequest
from bot.texts import ops as t

log = logging.getLogger("bot.ops")

DEDUPE = 600.0  # seconds: the same alert at most once per 10 minutes
PER_MINUTE = 2  # messages a minute, however bad it gets

#: process-wide event counts, exported by `/metrics` (names without the `kpu_` prefix)
COUNTERS: Counter[str] = Counter()


def count(name: str, n: int = 1) -> None:
    COUNTERS[name] += n


@dataclass
class _Seen:
    sent_at: float
    repeats: int = 0


@dataclass
class OpsAlerts:
    """Sends deduplicated, rate-capped alerts with `bot` to `chat_id` (None: log only)."""

    bot: Bot | None
    chat_id: int | None
    clock: Callable[[], float] = time.monotonic
    per_minute: int = PER_MINUTE
    dedupe: float = DEDUPE
    _seen: dict[str, _Seen] = field(default_factory=dict)
    _sent: deque[float] = field(default_factory=deque)
    _held: int = 0
    _tasks: set[asyncio.Task] = field(default_factory=set)

    def report(self, key: str, text: str) -> bool:
        """Queue `text` for the operators; False when it was folded into an earlier alert or held."""
        if self.bot is None or self.chat_id is None:
            return False
        now = self.clock()
        seen = self._seen.get(key)
        if seen is not None and now - seen.sent_at < self.dedupe:
            seen.repeats += 1
            return False
        while self._sent and now - self._sent[0] >= 60:
            self._sent.popleft()
        if len(self._sent) >= self.per_minute:
            self._held += 1
            return False
        if seen is not None and seen.repeats:
            text += t.repeated(seen.repeats)
        if self._held:
            text += t.held_back(self._held)
            self._held = 0
        self._seen[key] = _Seen(now)
        self._sent.append(now)
        log.info("ops alert %s sent to chat %d", key, self.chat_id)
        task = asyncio.get_running_loop().create_task(self._send(text), name=f"ops-alert:{key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _send(self, text: str) -> None:
        assert self.bot is not None and self.chat_id is not None
        try:
            await self.bot.send_message(self.chat_id, for_chat(text, self.chat_id))
        except TelegramError as exc:
            log.warning("the alert could not be sent to OPS_CHAT_ID %s: %s", self.chat_id, exc)

    async def drain(self) -> None:
        """Wait for the alerts on their way (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.drain(), timeout=5)


async def alert_once(token: str, api_url: str, proxy: str | None, chat_id: int, text: str, timeout: float) -> None:
    """One alert from a process that is not running the bot (a refused second instance): one
    request, bounded by `timeout` seconds, its failure only logged."""
    request = AiohttpRequest(connection_pool_size=1, proxy=proxy)
    bot = Bot(token, base_url=f"{api_url}/bot", base_file_url=f"{api_url}/file/bot", request=request)
    try:
        await request.initialize()
        await asyncio.wait_for(bot.send_message(chat_id, for_chat(text, chat_id), parse_mode="HTML"), timeout)
    except (TelegramError, TimeoutError) as exc:  # the caller's own one line says what happened
        log.debug("the alert could not be sent to OPS_CHAT_ID %s: %s", chat_id, exc)
    finally:
        await request.shutdown()


def host_name() -> str:
    return os.environ.get("HOSTNAME") or socket.gethostname()
