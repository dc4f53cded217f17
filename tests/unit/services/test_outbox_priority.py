"""The outbox by class, then age (migration 0014): a kritis post queued behind a backlog of
receipts is the next row picked; receipts before other notifications; chats being sent to skipped."""

from datetime import UTC, datetime

import pytest

from bot.domain.clock import to_db
from bot.services import incidents as lifecycle
from bot.services import outbox, reporting
from bot.services.incidents import Move
from bot.services.reporting import Source
from storage import groups as group_store

SENT = datetime(2024, 2, 12, 0, 30, tzinfo=UTC)


@pytest.fixture
async def people(register):
    return {
        "wayan": await register(100, "petugas", "51.03.01"),
        "putu": await register(101, "petugas", "51.03.01"),
        "made": await register(200, "koordinator", "51.03"),
    }


async def report(rt, who, line, message_id):
    result = await reporting.submit_text(rt, who, line, Source(who.telegram_id, message_id, None, SENT))
    return result.incident


async def test_a_kritis_post_goes_before_every_receipt_and_receipts_before_other_notices(rt, people, clock):
    await group_store.register(
        rt.db, chat_id=-1003, region_code="51.03", thread_id=None, title="KPU Badung", by=1, at=clock()
    )
    backlog = [await report(rt, people["wayan"], f"insiden rendah antrean panjang TPS {n}", n) for n in range(1, 6)]
    sedang = await report(rt, people["putu"], "insiden sedang listrik padam", 50)
    # the sedang incident resolved: the reporter's notice is a notification of the lower class
    assert (await lifecycle.perform(rt, people["made"], sedang.id, Move.SELESAI, "sudah menyala")).ok
    kritis = await report(rt, people["putu"], "insiden kritis gudang logistik terbakar", 51)
    rows = await outbox.due(rt, clock())
    assert [(r.purpose, r.incident_id, r.priority) for r in rows] == [
        ("posting", kritis.id, 1),  # the newest row, first
        *[("tanda_terima", i.id, 2) for i in backlog],
        ("tanda_terima", sedang.id, 2),
        ("tanda_terima", kritis.id, 2),
        ("pelapor", sedang.id, 3),
    ]
    assert {r.reporter_id for r in rows if r.incident_id in {i.id for i in backlog}} == {100}
    # the chats being sent to are left out
    skipped = await outbox.due(rt, clock(), skip_chats={100, -1003})
    assert [(r.chat_id, r.purpose) for r in skipped] == [(101, "tanda_terima")] * 2 + [(101, "pelapor")]
    await outbox.mark_sent_together(rt, [r.id for r in rows[1:6]], at=clock(), message_id=77)
    left = await outbox.due(rt, clock())
    assert [r.incident_id for r in left if r.purpose == "tanda_terima"] == [sedang.id, kritis.id]
    marked = await rt.db.fetchall("SELECT DISTINCT sent_message_id FROM outbox WHERE sent_at IS NOT NULL")
    assert [m["sent_message_id"] for m in marked] == [77]


async def test_a_kritis_post_queued_behind_5000_receipts_is_picked_next(rt, people, clock):
    await group_store.register(
        rt.db, chat_id=-1003, region_code="51.03", thread_id=None, title="KPU Badung", by=1, at=clock()
    )
    first = await report(rt, people["wayan"], "insiden rendah antrean panjang", 1)
    async with rt.db.transaction() as conn:  # a backlog of receipts to 5,000 chats, all due
        await conn.executemany(
            "INSERT INTO outbox (dedupe_key, purpose, incident_id, chat_id, created_at, next_attempt_at)"
            " VALUES (?, 'tanda_terima', ?, ?, ?, ?)",
            [(f"backlog:{n}", first.id, 10_000 + n, to_db(clock()), to_db(clock())) for n in range(5_000)],
        )
    kritis = await report(rt, people["putu"], "insiden kritis gudang logistik terbakar", 2)
    [picked] = await outbox.due(rt, clock(), limit=1)
    assert (picked.purpose, picked.incident_id, picked.chat_id) == ("posting", kritis.id, -1003)
    receipts = await rt.db.fetchone("SELECT count(*) FROM outbox WHERE priority = 2 AND sent_at IS NULL")
    assert receipts[0] == 5_002
