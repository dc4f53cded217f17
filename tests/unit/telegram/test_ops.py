"""Alerts to the operators' chat: deduplicated per key for 10 minutes (with a count), at most a
few messages a minute however many alerts come."""

from __future__ import annotations

import pytest

from bot.telegram.ops import OpsAlerts
from bot.texts import ops as t


class FakeBot:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, chat_id: int, text: str, **kwargs) -> None:
        self.sent.append((chat_id, text))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def alerts():
    bot, clock = FakeBot(), Clock()
    return OpsAlerts(bot, -1001, clock=clock), bot, clock  # type: ignore[arg-type]


async def test_a_hundred_different_errors_in_a_minute_are_two_messages(alerts):
    ops, bot, clock = alerts
    for n in range(100):
        ops.report(f"error:{n}", f"galat {n}")
        clock.now += 0.5
    await ops.drain()
    assert [text for _, text in bot.sent] == ["galat 0", "galat 1"]
    clock.now += 60
    ops.report("error:late", "galat berikutnya")
    await ops.drain()
    assert bot.sent[-1] == (-1001, "galat berikutnya" + t.held_back(98))


async def test_the_same_error_is_one_message_per_ten_minutes_then_says_how_often(alerts):
    ops, bot, clock = alerts
    for _ in range(30):
        ops.report("error:RuntimeError:x.py:1", "galat")
        clock.now += 10  # 300 s
    await ops.drain()
    assert len(bot.sent) == 1
    clock.now += 300  # 10 minutes after the first
    ops.report("error:RuntimeError:x.py:1", "galat")
    await ops.drain()
    assert bot.sent[-1][1] == "galat" + t.repeated(29)


async def test_without_ops_chat_nothing_is_sent():
    bot = FakeBot()
    ops = OpsAlerts(bot, None)  # type: ignore[arg-type]
    assert ops.report("x", "galat") is False
    await ops.drain()
    assert bot.sent == []
