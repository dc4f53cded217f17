"""Flood control (Telegram's 429s) and deterministic fault injection.

Faithful to Telegram in shape: a throttled request gets HTTP 429 with
``{"ok":false,"error_code":429,"description":"Too Many Requests: retry after N","parameters":{"retry_after":N}}``
where ``N`` is a whole number of seconds ≥ 1.

Simplified: Telegram does not publish exact algorithms, only guidance (FAQ "My bot is hitting limits"):
about one message per second in a private chat (short bursts tolerated), no more than 20 messages per
minute in a group, about 30 messages per second overall.  :class:`FloodLimits` turns that guidance into a
token bucket per private chat and sliding windows per group and per bot; only message-creating methods
count (edits, chat actions and callback answers do not).  Off unless ``emulator.enforce_flood_limits``.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import ApiError, describe, too_many_requests

# Methods that create messages and therefore count against flood limits.
SENDING_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendmediagroup",
        "sendlocation",
        "sendcontact",
        "copymessage",
        "forwardmessage",
    }
)


@dataclass
class FloodLimits:
    """Tunable limits; the defaults follow Telegram's published guidance."""

    private_per_second: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    global_per_second: int = 30


@dataclass
class _Bucket:
    tokens: float
    updated: float


class FloodControl:
    """Per-bot accounting of sent messages; :meth:`check` raises the 429 Telegram would send."""

    def __init__(self, monotonic: Callable[[], float], limits: FloodLimits | None = None) -> None:
        self.monotonic = monotonic
        self.limits = limits or FloodLimits()
        self._private: dict[tuple[int, int], _Bucket] = {}
        self._groups: dict[tuple[int, int], deque[float]] = {}
        self._global: dict[int, deque[float]] = {}

    def check(self, bot_id: int, chat_id: int, is_private: bool, count: int = 1) -> None:
        """Account ``count`` messages to ``chat_id`` or raise a 429 without accounting anything."""
        now = self.monotonic()
        waits = [0.0]
        window = self._global.setdefault(bot_id, deque())
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) + count > self.limits.global_per_second:
            idx = len(window) + count - self.limits.global_per_second - 1
            waits.append(window[min(idx, len(window) - 1)] + 1.0 - now if window else 1.0)
        if is_private:
            bucket = self._private.get((bot_id, chat_id))
            if bucket is None:
                bucket = _Bucket(float(self.limits.private_burst), now)
                self._private[(bot_id, chat_id)] = bucket
            bucket.tokens = min(
                float(self.limits.private_burst),
                bucket.tokens + (now - bucket.updated) * self.limits.private_per_second,
            )
            bucket.updated = now
            if bucket.tokens < count:
                waits.append((count - bucket.tokens) / self.limits.private_per_second)
        else:
            group = self._groups.setdefault((bot_id, chat_id), deque())
            while group and group[0] <= now - 60.0:
                group.popleft()
            if len(group) + count > self.limits.group_per_minute:
                idx = len(group) + count - self.limits.group_per_minute - 1
                waits.append(group[min(idx, len(group) - 1)] + 60.0 - now if group else 60.0)
        wait = max(waits)
        if wait > 0:
            raise too_many_requests(max(1, math.ceil(wait)))
        window.extend([now] * count)
        if is_private:
            self._private[(bot_id, chat_id)].tokens -= count
        else:
            self._groups[(bot_id, chat_id)].extend([now] * count)


@dataclass
class FaultRule:
    """A scripted failure: the next ``times`` calls of ``method`` (optionally to ``chat_id``) fail.

    With ``performed`` the call is carried out first and only its answer is the error: a send
    Telegram made whose answer was lost (a timeout, a connection dropped after the request).
    """

    method: str
    error_code: int
    description: str
    retry_after: int | None = None
    times: int = 1
    chat_id: int | str | None = None
    bot_id: int | None = None
    performed: bool = False
    hits: list[dict[str, str]] = field(default_factory=list)

    def error(self) -> ApiError:
        params = {"retry_after": self.retry_after} if self.retry_after is not None else None
        return ApiError(self.error_code, self.description, params)


def default_description(error_code: int, retry_after: int | None) -> str:
    """A Telegram-shaped description for an injected error when the test gives none."""
    if error_code == 429:
        return f"Too Many Requests: retry after {retry_after or 1}"
    if error_code == 403:
        return "Forbidden: bot was blocked by the user"
    if error_code == 400:
        return "Bad Request: injected failure"
    if error_code == 502:
        return "Bad Gateway"
    return describe(error_code, "injected failure")


class FaultInjector:
    """Holds :class:`FaultRule` s and hands out the first one matching a call."""

    def __init__(self) -> None:
        self.rules: list[FaultRule] = []

    def add(self, rule: FaultRule) -> FaultRule:
        self.rules.append(rule)
        return rule

    def match(self, method: str, bot_id: int, params: dict[str, str]) -> FaultRule | None:
        for rule in self.rules:
            if rule.method != method:
                continue
            if rule.bot_id is not None and rule.bot_id != bot_id:
                continue
            if rule.chat_id is not None and str(rule.chat_id) != params.get("chat_id", ""):
                continue
            rule.times -= 1
            rule.hits.append(dict(params))
            if rule.times <= 0:
                self.rules.remove(rule)
            return rule
        return None
