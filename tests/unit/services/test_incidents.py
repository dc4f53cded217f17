"""The lifecycle service: rights, transitions, escalation up the groups, audit and outbox rows."""

import re
from datetime import UTC, datetime

import pytest

from bot.services import baselines, reporting
from bot.services import incidents as lifecycle
from bot.services.incidents import Move
from bot.services.reporting import Source
from bot.texts import incidents as ti
from storage import groups as group_store
from storage import incidents as incident_store
from storage import outbox

SENT = datetime(2024, 2, 12, 0, 30, tzinfo=UTC)


@pytest.fixture
async def people(register):
    return {
        "wayan": await register(100, "petugas", "51.03.01"),
        "putu": await register(101, "petugas", "51.03.01"),
        "made": await register(200, "koordinator", "51.03"),
        "ketut": await register(201, "koordinator", "51.71"),
        "nyoman": await register(300, "komisioner", "51"),
    }


@pytest.fixture
async def groups(rt, clock):
    await group_store.register(
        rt.db, chat_id=-1003, region_code="51.03", thread_id=None, title="KPU Badung", by=1, at=clock()
    )
    await group_store.register(rt.db, chat_id=-1051, region_code="51", thread_id=7, title="KPU Bali", by=1, at=clock())


async def report(rt, who, line, message_id=1):
    result = await reporting.submit_text(rt, who, line, Source(who.telegram_id, message_id, None, SENT))
    return result.incident


async def queued(rt):
    rows = await rt.db.fetchall("SELECT purpose, chat_id, thread_id FROM outbox ORDER BY id")
    return [(r["purpose"], r["chat_id"], r["thread_id"]) for r in rows]


async def test_new_tinggi_goes_to_nearest_group_only(rt, people, groups):
    receipt = ("tanda_terima", 100, None)  # every stored report's receipt goes through the outbox
    await report(rt, people["wayan"], "insiden sedang listrik padam", 1)
    assert await queued(rt) == [receipt]
    await report(rt, people["wayan"], "insiden kritis gudang banjir", 2)
    assert await queued(rt) == [receipt, receipt, ("posting", -1003, None)]


async def test_without_group_only_the_receipt_is_queued(rt, people):
    await report(rt, people["wayan"], "insiden kritis gudang banjir")
    assert await queued(rt) == [("tanda_terima", 100, None)]


async def test_take_resolve_and_audit(rt, people, groups, clock):
    inc = await report(rt, people["wayan"], "insiden kritis gudang banjir")
    refused = await lifecycle.perform(rt, people["wayan"], inc.id, Move.TANGANI)
    assert not refused.ok and refused.why == "role"
    outside = await lifecycle.perform(rt, people["ketut"], inc.id, Move.TANGANI)
    assert not outside.ok and outside.why == "scope"
    clock.advance(minutes=5)
    taken = await lifecycle.perform(rt, people["made"], inc.id, Move.TANGANI)
    assert taken.ok and taken.incident.status == "ditangani" and taken.incident.assignee_id == 200
    again = await lifecycle.perform(rt, people["nyoman"], inc.id, Move.TANGANI)
    assert again.why == "already_taken"
    clock.advance(minutes=20)
    done = await lifecycle.perform(rt, people["made"], inc.id, Move.SELESAI, "pompa air dikirim")
    assert done.ok and done.incident.status == "selesai" and done.incident.resolved_at == clock()
    assert (await lifecycle.perform(rt, people["made"], inc.id, Move.SELESAI)).why == "already_done"
    actions = [(e.action, e.from_status, e.to_status, e.actor_id) for e in await incident_store.events(rt.db, inc.id)]
    assert actions == [
        ("lapor", None, "baru", 100),
        ("tangani", "baru", "ditangani", 200),
        ("selesai", "ditangani", "selesai", 200),
    ]


async def test_petugas_may_escalate_and_comment_only_on_own(rt, people, groups):
    inc = await report(rt, people["wayan"], "insiden tinggi jalan putus")
    assert (await lifecycle.perform(rt, people["putu"], inc.id, Move.CATATAN, "saya lihat juga")).why == "not_own"
    assert (await lifecycle.perform(rt, people["putu"], inc.id, Move.ESKALASI)).why == "not_own"
    assert (await lifecycle.perform(rt, people["wayan"], inc.id, Move.CATATAN, "")).why == "note_required"
    assert (await lifecycle.perform(rt, people["wayan"], inc.id, Move.CATATAN, "air naik")).ok
    up = await lifecycle.perform(rt, people["wayan"], inc.id, Move.ESKALASI, "butuh provinsi")
    assert up.ok and up.to_region == "51" and up.to_group


async def test_escalation_moves_up_the_groups_and_stops_at_the_top(rt, people, groups):
    inc = await report(rt, people["wayan"], "insiden kritis gudang banjir")
    await lifecycle.perform(rt, people["made"], inc.id, Move.TANGANI)
    up = await lifecycle.perform(rt, people["made"], inc.id, Move.ESKALASI, "butuh bantuan")
    assert up.ok and up.incident.status == "baru" and up.incident.handling_region == "51"
    assert up.incident.escalations == 1 and up.incident.assignee_id is None
    assert ("posting", -1051, 7) in await queued(rt)
    top = await lifecycle.perform(rt, people["nyoman"], inc.id, Move.ESKALASI)
    assert not top.ok and top.why == "at_top"


async def test_resolution_is_told_to_every_group_and_the_reporter(rt, people, groups):
    inc = await report(rt, people["wayan"], "insiden kritis gudang banjir")
    for chat, message_id, region in ((-1003, 10, "51.03"),):
        await incident_store.remember_message(
            rt.db,
            chat_id=chat,
            message_id=message_id,
            incident_id=inc.id,
            purpose="notifikasi",
            at=SENT,
            region_code=region,
        )
    await lifecycle.perform(rt, people["made"], inc.id, Move.ESKALASI)
    await incident_store.remember_message(
        rt.db,
        chat_id=-1051,
        message_id=20,
        incident_id=inc.id,
        purpose="notifikasi",
        at=SENT,
        region_code="51",
        thread_id=7,
    )
    await rt.db.conn.execute("UPDATE outbox SET sent_at = 'x'")
    await lifecycle.perform(rt, people["nyoman"], inc.id, Move.SELESAI, "beres")
    pending = [(p.purpose, p.chat_id) for p in await outbox.due(rt.db, rt.clock())]
    assert sorted(pending) == sorted(
        [("edit", -1003), ("edit", -1051), ("selesai", -1003), ("selesai", -1051), ("pelapor", 100)]
    )


async def test_auto_escalation_waits_the_configured_minutes_and_is_not_repeated(rt, people, groups, clock):
    kritis = await report(rt, people["wayan"], "insiden kritis gudang banjir", 1)
    tinggi = await report(rt, people["wayan"], "insiden tinggi jalan putus", 2)
    clock.advance(minutes=29)
    assert await lifecycle.auto_escalate(rt, ti.auto_escalation_note) == []
    clock.advance(minutes=1)
    [result] = await lifecycle.auto_escalate(rt, ti.auto_escalation_note)
    assert result.ok and result.incident.id == kritis.id and result.incident.handling_region == "51"
    assert await lifecycle.auto_escalate(rt, ti.auto_escalation_note) == []  # the same minute again: nothing more
    events = await incident_store.events(rt.db, kritis.id)
    assert events[-1].action == "eskalasi_otomatis" and events[-1].actor_id is None
    assert "30 menit" in events[-1].note
    clock.advance(minutes=90)
    results = await lifecycle.auto_escalate(rt, ti.auto_escalation_note)
    assert {r.incident.id for r in results if r.ok} == {tinggi.id}
    # kritis now waits at the top (Bali): one history line says so, then it is left alone
    at_top = [r for r in results if not r.ok]
    assert [r.why for r in at_top] == ["at_top"]
    assert await lifecycle.auto_escalate(rt, ti.auto_escalation_note) == []
    assert (await incident_store.events(rt.db, kritis.id))[-1].note.endswith("tetap menunggu ditangani")


async def test_taken_incidents_are_not_escalated_automatically(rt, people, groups, clock):
    inc = await report(rt, people["wayan"], "insiden kritis gudang banjir")
    await lifecycle.perform(rt, people["made"], inc.id, Move.TANGANI)
    clock.advance(hours=5)
    assert await lifecycle.auto_escalate(rt, ti.auto_escalation_note) == []


async def test_no_change_without_an_event(rt, people, groups):
    """Every row of incidents that changed has as many events as changes: compare counts."""
    inc = await report(rt, people["wayan"], "insiden kritis gudang banjir")
    await lifecycle.perform(rt, people["made"], inc.id, Move.TANGANI)
    await lifecycle.perform(rt, people["made"], inc.id, Move.CATATAN, "tim berangkat")
    await lifecycle.perform(rt, people["made"], inc.id, Move.ESKALASI)
    await lifecycle.perform(rt, people["nyoman"], inc.id, Move.SELESAI)
    events = await incident_store.events(rt.db, inc.id)
    assert [e.action for e in events] == ["lapor", "tangani", "catatan", "eskalasi", "selesai"]
    with pytest.raises(ValueError):
        await incident_store.apply_change(
            rt.db,
            inc.id,
            expect_status=("selesai",),
            expect_handling=None,
            changes={"received": 0},  # figures change only with a report (storage.incidents.apply_report)
            actor_id=1,
            action="catatan",
            at=SENT,
        )


async def test_notes_are_limited(rt, people, groups):
    inc = await report(rt, people["wayan"], "insiden kritis gudang banjir")
    for move in (Move.CATATAN, Move.ESKALASI, Move.SELESAI, Move.TANGANI):
        refused = await lifecycle.perform(rt, people["made"], inc.id, move, "x" * (lifecycle.NOTE_LIMIT + 1))
        assert not refused.ok and refused.why == "note_too_long"
    assert [e.action for e in await incident_store.events(rt.db, inc.id)] == ["lapor"]
    assert (await lifecycle.perform(rt, people["made"], inc.id, Move.CATATAN, "x" * lifecycle.NOTE_LIMIT)).ok


async def test_escalation_names_the_group_that_received_it(rt, people, clock):
    await group_store.register(
        rt.db, chat_id=-1301, region_code="51.03.01", thread_id=None, title="PPK Kuta", by=1, at=clock()
    )
    inc = await report(rt, people["wayan"], "insiden kritis gudang banjir")
    alone = await lifecycle.perform(rt, people["made"], inc.id, Move.ESKALASI)
    assert alone.ok and alone.to_region == "51.03" and not alone.to_group and alone.to_group_region is None
    await group_store.register(
        rt.db, chat_id=-1051, region_code="51", thread_id=None, title="KPU Bali", by=1, at=clock()
    )
    second = await report(rt, people["wayan"], "insiden kritis atap roboh", 2)
    up = await lifecycle.perform(rt, people["made"], second.id, Move.ESKALASI)
    assert up.ok and up.to_region == "51.03" and up.to_group and up.to_group_region == "51"


async def test_edits_are_queued_for_posts_remembered_before_the_change(rt, people, groups):
    inc = await report(rt, people["wayan"], "insiden kritis gudang banjir")
    await incident_store.remember_message(
        rt.db, chat_id=-1003, message_id=10, incident_id=inc.id, purpose="notifikasi", at=SENT, region_code="51.03"
    )
    taken = await lifecycle.perform(rt, people["made"], inc.id, Move.TANGANI)
    event = (await incident_store.events(rt.db, inc.id))[-1]
    row = await rt.db.fetchone("SELECT dedupe_key FROM outbox WHERE purpose = 'edit'")
    assert taken.ok and row[0] == f"edit:{inc.id}:-1003:10:e{event.id}"  # one edit per post and event


async def test_waiting_at_the_top_is_not_counted_as_an_escalation_in_the_digest(rt, people, clock):
    from bot.services.digest import compute_digest

    async def escalated() -> int:
        now = clock().astimezone(rt.settings.tz)
        return (await compute_digest(rt.db, "51", now, rt.settings.ELECTION_DAY)).escalated.total

    await group_store.register(
        rt.db, chat_id=-1051, region_code="51", thread_id=None, title="KPU Bali", by=1, at=clock()
    )
    top = await report(rt, people["wayan"], "insiden kritis gudang banjir", 1)  # Bali's group is the top
    clock.advance(minutes=30)
    [result] = await lifecycle.auto_escalate(rt, ti.auto_escalation_note)
    assert result.why == "at_top"
    assert (await incident_store.events(rt.db, top.id))[-1].action == "eskalasi_otomatis"  # the history says so
    assert await escalated() == 0
    await group_store.register(
        rt.db, chat_id=-1003, region_code="51.03", thread_id=None, title="KPU Badung", by=1, at=clock()
    )
    moved = await report(rt, people["wayan"], "insiden kritis atap roboh", 2)
    clock.advance(minutes=30)
    results = await lifecycle.auto_escalate(rt, ti.auto_escalation_note)
    assert [r.ok for r in results] == [True] and results[0].incident.id == moved.id
    assert await escalated() == 1
    clock.advance(minutes=30)
    assert [r.why for r in await lifecycle.auto_escalate(rt, ti.auto_escalation_note)] == [
        "at_top"
    ]  # the same one, now at the top
    assert await escalated() == 1


async def test_the_minute_jobs_read_incidents_through_an_index_that_narrows_them(rt, people, groups, clock):
    """The escalation job runs every minute on the database's one thread. Nationally (1,000,000
    incidents, 400,000 of them logistics) looking for the tracked shortfalls by kind walked every
    logistics incident ever reported and sorted them: 3 s a minute in which no report was stored
    and no digest read. Each statement of the jobs must seek a narrow part of the incidents
    (SQLite has no statistics here, as in the field: the plan is what the SQL says)."""
    clock.now = datetime(2024, 2, 9, 1, 0, tzinfo=UTC)  # H-5: a shortfall is tracked, not a problem
    await baselines.import_plan(rt, b"kode_wilayah,barang,jumlah\n51.03.01,kotak_suara,1025\n", None)
    shortfall = await report(rt, people["wayan"], "logistik kotak suara 700")
    assert shortfall.severity == "sedang"
    clock.now = datetime(2024, 2, 12, 1, 0, tzinfo=UTC)  # the logistics deadline (H-2)
    statements: list[str] = []
    await rt.db.conn.set_trace_callback(statements.append)
    try:
        await lifecycle.auto_escalate(rt, ti.auto_escalation_note)
        await lifecycle.remind_taken(rt)
    finally:
        await rt.db.conn.set_trace_callback(None)
    raised = await incident_store.get(rt.db, shortfall.id)
    assert raised is not None and raised.severity == "tinggi"  # the job did its work
    bad = []
    for sql in {s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))}:
        plan = [row[3] for row in await rt.db.fetchall(f"EXPLAIN QUERY PLAN {sql}")]
        bad += [
            (step, " ".join(sql.split())[:160])
            for step in plan
            if re.fullmatch(r"SCAN incidents\b.*", step) or re.search(r"\bincidents\b.*\(kind=\?\)$", step)
        ]
    assert bad == [], bad
