"""Processing updates of different chats at once, and those of one chat strictly in order.

python-telegram-bot processes one update at a time unless told otherwise. On election morning
hundreds of officers report within minutes, and each report waits on the database and on
Telegram for a few milliseconds: one at a time, those waits add up to a queue. Processing every
update concurrently would be faster but would break what users rely on — a guided `/lapor`
(a `ConversationHandler`) must see a chat's button press before the text typed after it, and a
correction must not overtake the report it corrects.

`PerChatUpdateProcessor` gives both: updates of different chats run concurrently (up to
`max_concurrent_updates`), updates of the same chat run one after another in the order Telegram
delivered them. An update without a chat (none that this bot handles) is keyed by its sender.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

DEFAULT_CONCURRENCY = 16
#: updates accepted at once, running or waiting for their chat's turn (a bound on memory only)
MAX_ACCEPTED = 10_000


def order_key(update: object) -> Hashable | None:
    """What must be processed in order: the chat, else the sender; None for anything else."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Concurrent across chats, in order within a chat (see the module docstring).

    Each chat keeps the future of its latest update; an update waits for its predecessor's
    future, then for one of the `max_concurrent_updates` running slots, runs, and resolves its
    own future. Waiting for its chat takes no running slot, so a chat that sends faster than it
    is answered delays only itself. (The base class's semaphore, taken before any of this,
    only bounds how many updates are accepted at once: `MAX_ACCEPTED`.)
    """

    def __init__(self, max_concurrent_updates: int = DEFAULT_CONCURRENCY, max_accepted: int = MAX_ACCEPTED) -> None:
        if max_concurrent_updates < 1:
            raise ValueError("max_concurrent_updates must be a positive integer")
        # the base class sizes its semaphore from `max_concurrent_updates` (overridden below):
        # while it is built, that is the number of updates accepted at once
        self._limit = max(max_accepted, max_concurrent_updates)
        super().__init__(self._limit)
        self._limit = max_concurrent_updates
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._tails: dict[Hashable, asyncio.Future[None]] = {}
        self._active = 0
        #: called with each update once it has been processed (its handlers ran, or failed and
        #: the error handler ran) — not for one cancelled before or while it ran: the durable
        #: intake (`bot.telegram.intake`) marks it done in its journal, or keeps it for the next start
        self.on_processed: Callable[[object], None] | None = None

    @property
    def max_concurrent_updates(self) -> int:
        """Updates that run at the same time (PTB reads this to process concurrently at all)."""
        return self._limit

    @property
    def current_concurrent_updates(self) -> int:
        """Updates running now (not counting those waiting for their chat's turn)."""
        return self._active

    @property
    def chats_in_progress(self) -> int:
        return len(self._tails)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = order_key(update)
        if key is None:
            async with self._running:
                await self._run(update, coroutine)
            return
        previous = self._tails.get(key)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._tails[key] = mine
        started = False
        try:
            if previous is not None:
                await asyncio.shield(previous)
            async with self._running:
                started = True
                await self._run(update, coroutine)
        finally:
            if not started and asyncio.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting its turn: it never ran
            mine.set_result(None)
            if self._tails.get(key) is mine:
                del self._tails[key]

    async def _run(self, update: object, coroutine: Awaitable[Any]) -> None:
        self._active += 1
        finished = False
        try:
            await coroutine
            finished = True
        except Exception:
            finished = True  # PTB's process_update reported it: the update was processed, and failed
            raise
        finally:
            self._active -= 1
            if finished:
                self._processed(update)

    def _processed(self, update: object) -> None:
        if self.on_processed is not None:
            self.on_processed(update)

    async def initialize(self) -> None:
        """Nothing to set up: the futures live on the running loop."""

    async def shutdown(self) -> None:
        """Nothing to free: PTB waits for the updates in progress before shutting down."""
