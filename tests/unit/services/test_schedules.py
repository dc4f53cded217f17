"""Digest schedules: time parsing, the latest occurrence, and claiming an occurrence once."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.services.schedules import latest_occurrence
from bot.telegram.digests import parse_times
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
    await schedule_store.replace(
        rt.db, chat_id=-5, times=["07:00", "17:00"], region_code="51", thread_id=None, by=1, at=clock()
    )
    due = datetime(2024, 2, 12, 7, 0, tzinfo=WITA)
    assert await schedule_store.claim(rt.db, chat_id=-5, at_time="07:00", occurrence=due)
    assert not await schedule_store.claim(rt.db, chat_id=-5, at_time="07:00", occurrence=due)
    assert await schedule_store.claim(rt.db, chat_id=-5, at_time="17:00", occurrence=due.replace(hour=17))
    # changing the times keeps what already ran for the times that stay
    await schedule_store.replace(rt.db, chat_id=-5, times=["07:00"], region_code="51", thread_id=None, by=1, at=clock())
    assert not await schedule_store.claim(rt.db, chat_id=-5, at_time="07:00", occurrence=due)
    assert [s.at_time for s in await schedule_store.for_chat(rt.db, -5)] == ["07:00"]


async def test_a_claim_is_given_back_only_if_still_ours(rt, clock):
    await schedule_store.replace(rt.db, chat_id=-5, times=["07:00"], region_code="51", thread_id=None, by=1, at=clock())
    monday = datetime(2024, 2, 12, 7, 0, tzinfo=WITA)
    tuesday = datetime(2024, 2, 13, 7, 0, tzinfo=WITA)
    first = await schedule_store.claim(rt.db, chat_id=-5, at_time="07:00", occurrence=monday)
    assert first is not None and first.previous is None
    second = await schedule_store.claim(rt.db, chat_id=-5, at_time="07:00", occurrence=tuesday)
    assert second.previous == monday
    assert await schedule_store.release(rt.db, second)  # Tuesday's send failed: back to Monday
    assert (await schedule_store.get(rt.db, -5, "07:00")).last_run_at == monday
    assert not await schedule_store.release(rt.db, second)  # not ours any more: nothing changes
    assert await schedule_store.claim(rt.db, chat_id=-5, at_time="07:00", occurrence=tuesday)  # the retry
    assert not await schedule_store.release(rt.db, first)  # a stale claim never rolls a later one back
    assert (await schedule_store.get(rt.db, -5, "07:00")).last_run_at == tuesday
    assert await schedule_store.claim(rt.db, chat_id=-9, at_time="07:00", occurrence=monday) is None  # no schedule


async def test_a_kept_time_keeps_when_it_was_created(rt, clock):
    first = clock()
    await schedule_store.replace(rt.db, chat_id=-5, times=["07:00"], region_code="51", thread_id=None, by=1, at=first)
    clock.advance(minutes=2)
    await schedule_store.replace(
        rt.db, chat_id=-5, times=["07:00", "17:00"], region_code="51", thread_id=None, by=1, at=clock()
    )
    assert [(s.at_time, s.created_at) for s in await schedule_store.for_chat(rt.db, -5)] == [
        ("07:00", first),
        ("17:00", clock()),
    ]
