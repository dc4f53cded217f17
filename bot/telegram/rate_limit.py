"""Keeping within Telegram's flood limits, counted the way Telegram counts them.

Telegram's guidance (Bot FAQ): about 30 messages per second overall, at most 20 messages per
minute in one group; an album (`sendMediaGroup`) of k photos is k messages. Over the limit a call
is refused with 429 and `retry_after`, and bots that keep hitting it are throttled harder.

PTB's `AIORateLimiter` counts requests, not messages, so a digest's album of three charts counts
one, and its limiters are leaky buckets: a bucket of 20 per minute lets 20 through at once and
one every 3 s after, i.e. up to 40 in the first minute. Measured on the fan-out of every
province's and kabupaten/kota's digest (`bench/fanout.py`) that meant hundreds of 429s and a
digest lost after its retries ran out. This limiter instead keeps, for the bot and for each
group, the messages of the last window, weighted by what each call sends:

* a call waits until its messages fit into the window (groups first, then the bot as a whole);
* a message holds its place from the moment its call is sent until one window after the
  answer came back, so however long an upload takes, Telegram — which counts a message when it
  arrives, somewhere in between — never sees more than the limit in any window;
* a 429 anyway pauses the calls to *that chat* for its `retry_after` (Telegram's per-chat limits
  are what a bot within the overall window hits), and the call is tried again, up to
  `max_retries` times (then it fails, and the outbox or the digest schedule retries later). Other
  chats go on: one flooded group or officer never stalls everyone's answers. Only a 429 on a
  call for no chat (Telegram refusing the bot as a whole) pauses every call.

Calls without a `chat_id` (getUpdates, getMe, answerCallbackQuery, getFile) are not limited.
Private chats are only limited by the overall window, as with `AIORateLimiter`, unless
`private_burst` is given: then a private chat gets at most that many messages that create a message
(sends, copies, forwards; edits and chat actions do not count, as Telegram counts them) in any as
many seconds — a short burst, then one a second. It is off by default, and Telegram's own 429 for a
private chat pauses only that chat (the outbox waits it out). `chat_delay` tells without waiting
how long a call to a chat would wait for that chat's own limits (its window, a pause after a 429).

Under a flood the windows are full and calls wait; who goes next is decided by the call's
`Priority` (set by its sender with `priority(...)`, a context variable, so PTB's own call path needs
no change): answers to a user's command or button press first, then urgent (kritis/tinggi)
notifications, receipts, other notifications, and digests and broadcasts last; within a class,
first come, first served. A waiter of a higher class is admitted before any lower one — it never
bypasses a window, it only goes first when there is room.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import warnings
from collections.abc import Callable, Coroutine, Iterator
from contextvars import ContextVar
from datetime import timedelta
from enum import IntEnum
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter
from telegram.warnings import PTBDeprecationWarning

from bot.telegram import ops

log = logging.getLogger(__name__)

OVERALL_PER_SECOND = 30
GROUP_PER_MINUTE = 20
#: a private chat, when paced (`private_burst`): at most this many new messages in any this many
#: seconds (one a second on average, Telegram's guidance)
PRIVATE_BURST = 3
#: endpoints that create a message (what counts against a private chat's pace)
MESSAGE_ENDPOINTS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendmediagroup",
        "sendlocation",
        "sendcontact",
        "sendvideo",
        "sendaudio",
        "sendvoice",
        "sendanimation",
        "sendsticker",
        "sendpoll",
        "copymessage",
        "forwardmessage",
    }
)
#: `rate_limit_args` of a call whose caller reschedules it itself after a 429 (the outbox): no
#: retry inside the limiter. (Not 0: PTB drops a falsy `rate_limit_args`.)
NO_RETRIES = -1


class Priority(IntEnum):
    """Who is served first when Telegram's budget is short (lower goes first)."""

    ANSWER = 0  # a reply to a user's command or button press: someone is looking at their screen
    URGENT = 1  # a kritis/tinggi incident's group post, its edits and its resolution notice
    RECEIPT = 2  # "Laporan #… diterima": the officer waits for it, or sends the report again
    NOTICE = 3  # other notifications (a rendah/sedang incident escalated, the reporter told it is done)
    ROUTINE = 4  # scheduled digests and broadcasts: many chats at once, nobody waiting on one


#: the class of the calls made in this context; a handler's replies keep the default
_PRIORITY: ContextVar[Priority] = ContextVar("telegram_priority", default=Priority.ANSWER)


@contextlib.contextmanager
def priority(level: Priority) -> Iterator[None]:
    """Calls to Telegram made inside (in this task, and tasks it starts) wait as `level`."""
    token = _PRIORITY.set(level)
    try:
        yield
    finally:
        _PRIORITY.reset(token)


def current_priority() -> Priority:
    return _PRIORITY.get()


class SlidingWindow:
    """At most `limit` messages in any `period` seconds (see the module docstring).

    Admission is by priority, then first come, first served: only the first waiter (the highest
    class, the oldest in it) may be admitted, so a large album does not starve behind a stream of
    single messages of its class, and a lower class never takes room a higher one waits for.
    """

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._expiries: list[float] = []  # heap: when each counted message leaves the window
        self._in_flight = 0  # messages sent whose answer has not come back yet
        #: heap of waiters: (priority, arrival, count, future resolved when admitted)
        self._waiters: list[tuple[int, int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def _used(self, now: float) -> int:
        while self._expiries and self._expiries[0] <= now:
            heapq.heappop(self._expiries)
        return len(self._expiries) + self._in_flight

    def delay(self, count: int) -> float:
        """How long `acquire(count)` would wait now, without waiting (0: at once). A caller already
        waiting, or room that depends on calls still in flight, counts as a wait of one window."""
        count = min(count, self.limit)
        now = asyncio.get_running_loop().time()
        self._forget_gone()
        if self._waiters:
            return self.period
        over = self._used(now) + count - self.limit
        if over <= 0:
            return 0.0
        if over > len(self._expiries):
            return self.period
        return max(0.0, heapq.nsmallest(over, self._expiries)[-1] - now)

    @property
    def idle(self) -> bool:
        """Nothing in flight, nobody waiting, nothing left in the window."""
        loop = asyncio.get_running_loop()
        self._forget_gone()
        return not self._waiters and self._used(loop.time()) == 0

    @property
    def waiting(self) -> int:
        """Callers waiting for room (for tests and logs)."""
        self._forget_gone()
        return len(self._waiters)

    def _forget_gone(self) -> None:
        while self._waiters and self._waiters[0][3].done():  # cancelled while waiting
            heapq.heappop(self._waiters)

    def _admit(self) -> None:
        """Let in the first waiters while they fit; else wake up when the next message leaves."""
        loop = asyncio.get_running_loop()
        self._forget_gone()
        while self._waiters and self._used(loop.time()) + self._waiters[0][2] <= self.limit:
            _, _, count, future = heapq.heappop(self._waiters)
            self._in_flight += count
            future.set_result(None)
            self._forget_gone()
        if self._waiters and self._expiries and self._timer is None:
            self._timer = loop.call_at(self._expiries[0], self._wake)

    def _wake(self) -> None:
        self._timer = None
        self._admit()

    async def acquire(self, count: int, priority: int = Priority.ANSWER) -> None:
        """Wait until `count` more messages fit and no waiter of a higher class (or an older one
        of the same class) is before this one; they are then in flight until `release`."""
        count = min(count, self.limit)  # a call larger than the window goes alone
        loop = asyncio.get_running_loop()
        self._forget_gone()
        if not self._waiters and self._used(loop.time()) + count <= self.limit:
            self._in_flight += count
            return
        future: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiters, (int(priority), next(self._arrivals), count, future))
        self._admit()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # admitted, but the caller gave up
                self._in_flight -= count
                self._admit()
            raise

    def release(self, count: int) -> None:
        """The call of `count` messages is answered (or failed): they stay counted one window."""
        count = min(count, self.limit)
        self._in_flight -= count
        expiry = asyncio.get_running_loop().time() + self.period
        for _ in range(count):
            heapq.heappush(self._expiries, expiry)
        self._admit()


def message_count(endpoint: str, data: dict[str, Any]) -> int:
    """How many messages a call sends as Telegram counts them: an album counts its items."""
    if endpoint.lower() == "sendmediagroup":
        return max(1, len(data.get("media") or ()))
    return 1


def _seconds(exc: RetryAfter) -> float:
    """`retry_after` in seconds (PTB 22 gives seconds and warns that a timedelta is coming)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramRateLimiter(BaseRateLimiter[int]):
    """PTB's rate-limiter interface over `SlidingWindow`s: one for the bot, one per group."""

    def __init__(
        self,
        overall_per_second: int = OVERALL_PER_SECOND,
        group_per_minute: int = GROUP_PER_MINUTE,
        max_retries: int = 3,
        private_burst: int | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._overall_limit = overall_per_second
        self._group_limit = group_per_minute
        self._max_retries = max_retries
        self._overall: SlidingWindow | None = None
        self._groups: dict[int | str, SlidingWindow] = {}
        self._private_burst = private_burst
        self._private: dict[int, SlidingWindow] = {}
        self._resume_at = 0.0  # after a 429 for no chat: no call before this (loop time)
        self._chat_resume_at: dict[int | str, float] = {}  # after a 429 for a chat: none to it before

    async def initialize(self) -> None:
        self._overall = SlidingWindow(self._overall_limit, 1.0)

    async def shutdown(self) -> None:
        self._groups.clear()
        self._private.clear()

    def _group(self, chat_id: int | str) -> SlidingWindow:
        window = self._groups.get(chat_id)
        if window is None:
            if len(self._groups) > 1_000:  # forget groups whose window is empty again
                for key in [k for k, w in self._groups.items() if w.idle]:
                    del self._groups[key]
            window = self._groups[chat_id] = SlidingWindow(self._group_limit, 60.0)
        return window

    def _private_chat(self, chat_id: int) -> SlidingWindow:
        assert self._private_burst is not None
        window = self._private.get(chat_id)
        if window is None:
            if len(self._private) > 1_000:  # forget chats whose window is empty again
                for key in [k for k, w in self._private.items() if w.idle]:
                    del self._private[key]
            window = self._private[chat_id] = SlidingWindow(self._private_burst, float(self._private_burst))
        return window

    def _chat_window(self, chat_id: int | str, endpoint: str) -> SlidingWindow | None:
        """The window of the chat's own limit: a group's for every call, a private chat's for calls
        that create a message."""
        if isinstance(chat_id, str) or chat_id < 0:  # a group, a supergroup or a channel
            return self._group(chat_id)
        if self._private_burst is not None and endpoint.lower() in MESSAGE_ENDPOINTS:
            return self._private_chat(chat_id)
        return None

    def chat_delay(self, chat_id: int, endpoint: str = "sendMessage", count: int = 1, *, pause: bool = True) -> float:
        """Seconds a call to `chat_id` would wait now for the chat's own limits (its window and,
        with `pause`, a pause after a 429), without waiting; 0 when it would go at once. The overall
        window is not included: every chat shares it."""
        window = self._chat_window(chat_id, endpoint)
        delay = window.delay(count) if window is not None else 0.0
        if pause:
            delay = max(delay, self._resume(chat_id) - asyncio.get_running_loop().time())
        return max(0.0, delay)

    def _resume(self, chat_id: int | str | None) -> float:
        if chat_id is None:
            return self._resume_at
        return max(self._resume_at, self._chat_resume_at.get(chat_id, 0.0))

    async def _after_pause(self, chat_id: int | str | None) -> None:
        loop = asyncio.get_running_loop()
        # not a busy wait: it sleeps until the pause ends, again if a new 429 moved the end later
        while (wait := self._resume(chat_id) - loop.time()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)

    def _pause(self, chat_id: int | str | None, until: float) -> None:
        if chat_id is None:
            self._resume_at = max(self._resume_at, until)
            return
        if len(self._chat_resume_at) > 1_000:  # forget pauses that are over
            now = asyncio.get_running_loop().time()
            for key in [k for k, end in self._chat_resume_at.items() if end <= now]:
                del self._chat_resume_at[key]
        self._chat_resume_at[chat_id] = max(self._chat_resume_at.get(chat_id, 0.0), until)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        if self._overall is None:
            await self.initialize()
        assert self._overall is not None
        max_retries = max(0, rate_limit_args) if rate_limit_args is not None else self._max_retries
        chat_id = data.get("chat_id")
        if chat_id is not None:  # a numeric id (possibly a string); an @username stays as given
            with contextlib.suppress(ValueError, TypeError):
                chat_id = int(chat_id)
        windows: list[SlidingWindow] = []
        if chat_id is not None:
            own = self._chat_window(chat_id, endpoint)
            if own is not None:
                windows.append(own)
            windows.append(self._overall)
        count = message_count(endpoint, data)
        level = current_priority()
        loop = asyncio.get_running_loop()
        for attempt in range(max_retries + 1):
            await self._after_pause(chat_id)
            acquired: list[SlidingWindow] = []
            try:
                for window in windows:
                    await window.acquire(count, level)
                    acquired.append(window)
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                ops.count("telegram_429")
                wait = _seconds(exc) + 0.1
                self._pause(chat_id, loop.time() + wait)  # whoever calls next for this chat waits too
                if attempt == max_retries:
                    log.warning("Telegram's flood control: %s still refused after %d retries", endpoint, max_retries)
                    raise
                scope = "every call" if chat_id is None else f"calls to chat {chat_id}"
                log.info("Telegram's flood control: %s wait %.1f s", scope, wait)
            finally:
                for window in acquired:
                    window.release(count)
        raise AssertionError("unreachable")  # the loop returns or raises
