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

Private chats are only limited by the overall window, as with `AIORateLimiter`, unless
`private_burst` is given: then a private chat gets at most that many messages that create a message
(sends, copies, forwards; edits and chat actions do not count, as Telegram counts them) in any as
many seconds — a short burst, then one a second. It is off by default: without receipts coalesced
per officer it would cap an officer who reports faster than once a second at one receipt a second,
and Telegram's own 429 for a private chat pauses only that chat (the outbox waits it out).

Calls without a `chat_id` (getUpdates, getMe, answerCallbackQuery, getFile) are not limited.

`chat_delay` tells without waiting how long a call to a chat would wait for that chat's own limits
(its window, a pause after a 429): the outbox sends what can go now and leaves a chat that must
wait to a task of its own, so one full group never holds up anyone else's receipt.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import warnings
from collections.abc import Callable, Coroutine
from datetime import timedelta
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


class SlidingWindow:
    """At most `limit` messages in any `period` seconds (see the module docstring).

    Admission is first come, first served: one caller at a time waits for room, the others wait
    behind it, so a large album does not starve behind a stream of single messages.
    """

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._expiries: list[float] = []  # heap: when each counted message leaves the window
        self._in_flight = 0  # messages sent whose answer has not come back yet
        self._turn = asyncio.Lock()
        self._released = asyncio.Event()

    def _used(self, now: float) -> int:
        while self._expiries and self._expiries[0] <= now:
            heapq.heappop(self._expiries)
        return len(self._expiries) + self._in_flight

    def delay(self, count: int) -> float:
        """How long `acquire(count)` would wait now, without waiting (0: at once). A caller already
        waiting, or room that depends on calls still in flight, counts as a wait of one window."""
        count = min(count, self.limit)
        now = asyncio.get_running_loop().time()
        over = self._used(now) + count - self.limit
        if self._turn.locked():
            return self.period
        if over <= 0:
            return 0.0
        if over > len(self._expiries):
            return self.period
        return max(0.0, heapq.nsmallest(over, self._expiries)[-1] - now)

    @property
    def idle(self) -> bool:
        """Nothing in flight, nobody waiting, nothing left in the window."""
        loop = asyncio.get_running_loop()
        return not self._turn.locked() and self._used(loop.time()) == 0

    async def acquire(self, count: int) -> None:
        """Wait until `count` more messages fit; they are then in flight until `release`."""
        count = min(count, self.limit)  # a call larger than the window goes alone
        loop = asyncio.get_running_loop()
        async with self._turn:
            while self._used(loop.time()) + count > self.limit:
                self._released.clear()
                wait = self._expiries[0] - loop.time() if self._expiries else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._released.wait(), wait)
            self._in_flight += count

    def release(self, count: int) -> None:
        """The call of `count` messages is answered (or failed): they stay counted one window."""
        count = min(count, self.limit)
        self._in_flight -= count
        expiry = asyncio.get_running_loop().time() + self.period
        for _ in range(count):
            heapq.heappush(self._expiries, expiry)
        self._released.set()


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
        loop = asyncio.get_running_loop()
        for attempt in range(max_retries + 1):
            await self._after_pause(chat_id)
            acquired: list[SlidingWindow] = []
            try:
                for window in windows:
                    await window.acquire(count)
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
