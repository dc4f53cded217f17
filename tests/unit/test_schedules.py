"""Digest schedules: time parsing, the latest occurrence, and claiming an occurrence once."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.digest_delivery import latest_occurrence, parse_times
from storage import schedules as schedule_store

WITA = ZoneInfo("Asia/Makassar")


@pytest.mark.parametrize(
    ("args", "times"),
    [
        (["07:00"], ["07:00"]),
        (["07:00,17:30"], ["07:00", "17:30"]),
        (["17.30", "7:05"], ["07:05", "17:30"]),  # Indonesian 17.30 and a missing zero
        (["07:00,07:00"], ["07:00"]),
        (["24:00"], None),
        (["7"], None),
        (["pagi"], None),
        ([], None),
        (["01:00,02:00,03:00,04:00,05:00,06:00,07:00"], None),  # more than six
    ],
)
def test_parse_times(args, times):
    assert parse_times(args) == times


def test_latest_occurrence():
    now = datetime(2024, 2, 12, 7, 10, tzinfo=WITA)
    assert latest_occurrence("07:00", now) == datetime(2024, 2, 12, 7, 0, tzinfo=WITA)
    assert latest_occurrence("07:10", now) == datetime(2024, 2, 12, 7, 10, tzinfo=WITA)
    assert latest_occurrence("23:50", now) == datetime(2024, 2, 11, 23, 50, tzinfo=WITA)


async def test_an_occurrence_is_claimed_once(rt, clock):
    await schedule_store.replace(rt.db, chat_id=-5, times=["07:00", "17:00"], region_code="51", thread_id=None,
                                 by=1, at=clock())
    due = datetime(2024, 2, 12, 7, 0, tzinfo=WITA)
    assert await schedule_store.claim(rt.db, chat_id=-5, at_time="07:00", occurrence=due)
    assert not await schedule_store.claim(rt.db, chat_id=-5, at_time="07:00", occurrence=due)
    assert await schedule_store.claim(rt.db, chat_id=-5, at_time="17:00", occurrence=due.replace(hour=17))
    # changing the times keeps what already ran for the times that stay
    await schedule_store.replace(rt.db, chat_id=-5, times=["07:00"], region_code="51", thread_id=None, by=1,
                                 at=clock())
    assert not await schedule_store.claim(rt.db, chat_id=-5, at_time="07:00", occurrence=due)
    assert [s.at_time for s in await schedule_store.for_chat(rt.db, -5)] == ["07:00"]
