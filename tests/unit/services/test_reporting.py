"""The reporting service without Telegram: region targeting, plan checks, storage, idempotency."""

import json
from datetime import UTC, datetime

import pytest

from bot.services import reporting
from bot.services.digest import digest_now
from bot.services.reporting import Receipt, Refused, Source
from bot.texts.incidents import refusal_text
from storage import incidents as incident_store

SENT = datetime(2024, 2, 12, 0, 30, tzinfo=UTC)


def src(message_id, update_id=None, chat_id=100, sent=SENT):
    return Source(chat_id, message_id, update_id if update_id is not None else message_id + 10_000, sent)


@pytest.fixture
async def wayan(register):
    return await register(100, "petugas", "51.03.01")  # PPK Kuta


@pytest.fixture
async def made(register):
    return await register(200, "koordinator", "51.03")  # KPU Badung


async def test_logistik_receipt_and_storage(rt, wayan):
    result = await reporting.submit_text(rt, wayan, "logistik kotak_suara 118/120 rusak 2 dua kotak penyok", src(1))
    assert isinstance(result, Receipt) and not result.duplicate
    inc = result.incident
    assert (inc.kind, inc.region_code, inc.item, inc.received, inc.planned, inc.damaged) == (
        "logistik",
        "51.03.01",
        "kotak_suara",
        118,
        120,
        2,
    )
    assert inc.severity == "tinggi" and inc.status == "baru" and inc.description == "dua kotak penyok"  # damage
    assert inc.reported_at == SENT and inc.received_at == rt.clock()
    assert [r.name for r in result.path] == ["Bali", "Badung", "Kuta"]
    [event] = await incident_store.events(rt.db, inc.id)
    assert (event.action, event.actor_id, event.to_status) == ("lapor", 100, "baru")


async def test_imported_plan_is_used_and_checked(rt, wayan):
    async with rt.db.transaction() as conn:
        await conn.execute("INSERT INTO logistics_plan VALUES ('51.03.01', 'tinta', 100, 't')")
    short = await reporting.submit_text(rt, wayan, "logistik tinta 80", src(1))
    assert short.incident.planned == 100 and short.incident.severity == "tinggi"  # 20 % short
    over = await reporting.submit_text(rt, wayan, "logistik tinta 201", src(2))
    assert isinstance(over, Refused) and "201" in refusal_text(over.why) and "100" in refusal_text(over.why)
    assert (await rt.db.fetchone("SELECT count(*) FROM incidents"))[0] == 1


async def test_latest_report_is_the_current_state(rt, wayan):
    await reporting.submit_text(rt, wayan, "logistik kotak 50/120", src(1, sent=SENT))
    await reporting.submit_text(rt, wayan, "logistik kotak 118/120", src(2, sent=SENT.replace(hour=3)))
    # a late delivery of an older message does not roll the state back
    await reporting.submit_text(rt, wayan, "logistik kotak 90/120", src(3, sent=SENT.replace(hour=2)))
    await reporting.submit_text(rt, wayan, "rekap 10/205", src(4))
    badung = await digest_now(rt, "51.03")
    [kuta] = [child for child in badung.logistics_children if child.items]
    [state] = kuta.items
    assert (kuta.region_code, state.item, state.received) == ("51.03.01", "kotak_suara", 118)
    bali = await digest_now(rt, "51")
    assert (bali.counting_total.tps_done, bali.counting_total.tps_total) == (10, 205)
    assert (await digest_now(rt, "51.71")).logistics == ()


async def test_same_update_or_message_makes_one_incident(rt, wayan):
    first = await reporting.submit_text(rt, wayan, "data ganda 14 pemilih ganda", src(1, update_id=5))
    again = await reporting.submit_text(rt, wayan, "data ganda 14 pemilih ganda", src(1, update_id=5))
    same_message = await reporting.submit_text(rt, wayan, "data ganda 14 pemilih ganda", src(1, update_id=6))
    assert again.duplicate and same_message.duplicate
    assert first.incident.id == again.incident.id == same_message.incident.id
    assert (await rt.db.fetchone("SELECT count(*) FROM incidents"))[0] == 1


async def test_a_new_bot_or_restarted_update_ids_never_swallow_a_report(rt, wayan, clock):
    """The same database after a token for another bot (its message ids start again in the same
    private chat), or after Telegram restarts its update ids: a new report with an old message id
    or update id is stored, not answered "sudah tercatat" with an old one."""
    rt.bot_id = 111
    old = await reporting.submit_text(rt, wayan, "insiden sedang genset mati", src(1, update_id=5))
    rt.bot_id = 222  # another bot: message 1 of chat 100 and update 5 are its own, and new
    new = await reporting.submit_text(rt, wayan, "insiden kritis GUDANG TERBAKAR", src(1, update_id=5))
    assert isinstance(new, Receipt) and not new.duplicate and new.incident.id != old.incident.id
    assert new.incident.description == "GUDANG TERBAKAR"
    rt.bot_id = 111  # the first bot again, Telegram's update ids restarted: update 5 is new
    restarted = await reporting.submit_text(rt, wayan, "rekap 10/205", src(2, update_id=5))
    assert isinstance(restarted, Receipt) and not restarted.duplicate
    clock.advance(minutes=11)  # (within 10 minutes the same report from the same reporter is a repeat)
    replay = await reporting.submit_text(rt, wayan, "insiden kritis GUDANG TERBAKAR", src(1, update_id=5))
    assert isinstance(replay, Receipt) and not replay.duplicate  # bot 111's message 1 said something else
    rt.bot_id = 222  # a true replay: the same bot, message and content
    clock.advance(minutes=11)
    again = await reporting.submit_text(rt, wayan, "insiden kritis GUDANG TERBAKAR", src(1, update_id=5))
    assert again.duplicate and again.incident.id == new.incident.id
    assert (await rt.db.fetchone("SELECT count(*) FROM incidents"))[0] == 4
    keys = await rt.db.fetchall(
        "SELECT DISTINCT incident_id, bot_id, update_id FROM processed_updates ORDER BY incident_id"
    )
    assert [tuple(k)[1:] for k in keys] == [(111, 5), (222, 5), (111, 5), (111, 5)]


@pytest.mark.parametrize(
    ("line", "region"),
    [
        ("@51.03.05 insiden tinggi jalan putus", "51.03.05"),
        ("@kuta_selatan insiden tinggi jalan putus", "51.03.05"),
        ("@510305 data tms 3", "51.03.05"),
        ("@Mengwi rekap 3/10", "51.03.02"),
    ],
)
async def test_targeting_inside_scope(rt, made, line, region):
    result = await reporting.submit_text(rt, made, line, src(1))
    assert isinstance(result, Receipt) and result.incident.region_code == region


async def test_targeting_refusals(rt, made, wayan):
    outside = await reporting.submit_text(rt, made, "@51.71.01 insiden tinggi banjir", src(1))
    assert isinstance(outside, Refused) and "di luar wilayah" in refusal_text(outside.why)
    outside_name = await reporting.submit_text(rt, made, "@denpasar_barat insiden tinggi banjir", src(2))
    assert isinstance(outside_name, Refused) and "di luar wilayah" in refusal_text(outside_name.why)
    unknown = await reporting.submit_text(rt, made, "@atlantis insiden tinggi banjir", src(3))
    assert isinstance(unknown, Refused) and "atlantis" in refusal_text(unknown.why)
    ambiguous = await reporting.submit_text(rt, made, "@kuta data ganda 2", src(4))
    assert isinstance(ambiguous, Refused) is False  # "kuta" is exactly one kecamatan in Badung
    ambiguous = await reporting.submit_text(rt, made, "@kut data ganda 2", src(5))
    assert (
        isinstance(ambiguous, Refused)
        and "51.03.01" in refusal_text(ambiguous.why)
        and "51.03.05" in refusal_text(ambiguous.why)
    )
    up = await reporting.submit_text(rt, wayan, "@51.03 insiden tinggi banjir", src(6))
    assert isinstance(up, Refused) and "di luar wilayah" in refusal_text(up.why)


async def test_logistik_and_rekap_need_a_kecamatan(rt, made):
    result = await reporting.submit_text(rt, made, "rekap 10/20", src(1))
    assert isinstance(result, Refused) and "per kecamatan" in refusal_text(result.why)
    ok = await reporting.submit_text(rt, made, "insiden kritis gudang banjir", src(2))
    assert isinstance(ok, Receipt) and ok.incident.region_code == "51.03" and ok.incident.severity == "kritis"


async def test_nik_from_elsewhere_is_a_warning_not_a_refusal(rt, wayan):
    result = await reporting.submit_text(rt, wayan, "data nik 1 NIK 3201011234560001 tidak valid", src(1))
    assert isinstance(result, Receipt) and result.nik_warnings == ("3201011234560001",)
    assert "3201011234560001" in result.incident.description  # stored as given
    local = await reporting.submit_text(rt, wayan, "data nik 1 NIK 5103011234560001", src(2))
    assert local.nik_warnings == ()


async def test_parse_errors_store_nothing(rt, wayan):
    result = await reporting.submit_text(rt, wayan, "logistik kotakk 5", src(1))
    assert isinstance(result, Refused) and "kotakk" in refusal_text(result.why)
    assert (await rt.db.fetchone("SELECT count(*) FROM incidents"))[0] == 0


async def test_plain_summary_for_digests(rt, wayan):
    from bot.texts.incidents import plain_summary

    logistik = await reporting.submit_text(rt, wayan, "logistik surat 1.250/2.000 rusak 3", src(1))
    data = await reporting.submit_text(rt, wayan, "data ganda 14", src(2))
    rekap = await reporting.submit_text(rt, wayan, "rekap 180/205", src(3))
    insiden = await reporting.submit_text(rt, wayan, "insiden kritis <banjir>", src(4))
    assert plain_summary(logistik.incident) == "Surat suara diterima 1.250/2.000, rusak 3"
    assert plain_summary(data.incident) == "Ganda: 14 orang"
    assert plain_summary(rekap.incident) == "180/205 TPS selesai dihitung"
    assert plain_summary(insiden.incident) == "<banjir>"  # plain: the digest escapes it


async def test_a_report_is_few_database_trips(rt, wayan):
    """The hot path of election night: a penghitungan report reads the kecamatan's number of TPS,
    its current figures and its open incident in one query, looks once for the same report sent
    again within 10 minutes, then writes in one transaction (the report, the figures in place, the
    'laporan' event, its receipt in the outbox; the processed update by the schema)."""
    await reporting.submit_text(rt, wayan, "hitung 1/205", src(1))  # warm; opens Kuta's incident
    statements: list[str] = []
    await rt.db.conn.set_trace_callback(statements.append)
    try:
        result = await reporting.submit_text(rt, wayan, "hitung 180/205 sirekap 150", src(2, update_id=77))
    finally:
        await rt.db.conn.set_trace_callback(None)
    # SQLite traces each trigger step with the text of the statement that fired it
    trips = [s for i, s in enumerate(statements) if i == 0 or s != statements[i - 1]]
    reads = trips[: trips.index("BEGIN IMMEDIATE")]
    assert [s.split()[0] for s in reads] == ["SELECT", "SELECT"], reads
    assert "received_at >=" in reads[1]  # the repeat look-up
    assert trips.count("BEGIN IMMEDIATE") == 1 and trips[-1].split()[0] in ("COMMIT", "SELECT"), trips
    assert result.updated == 2
    events = await incident_store.events(rt.db, result.incident.id)
    assert [(e.action, e.actor_id) for e in events] == [("lapor", 100), ("laporan", 100)]
    receipts = await rt.db.fetchall(
        "SELECT chat_id, message_id, detail FROM outbox WHERE incident_id = ? AND purpose = 'tanda_terima' ORDER BY id",
        (result.incident.id,),
    )
    # private: messages of their own, no quote; each restates its own figures, the second says the
    # incident was updated
    assert [(r["chat_id"], r["message_id"]) for r in receipts] == [(100, None), (100, None)]
    first, second = (json.loads(r["detail"]) for r in receipts)
    assert (first["figures"]["tps_done"], second["figures"]["tps_done"]) == (1, 180)
    assert "updated" not in first and second["updated"] == 2 and second["figures"]["sirekap"] == 150
    processed = await rt.db.fetchone("SELECT incident_id FROM processed_updates WHERE update_id = 77")
    assert processed[0] == result.incident.id


async def test_the_schema_gives_every_incident_its_first_event(rt, wayan):
    await rt.db.write(
        "INSERT INTO incidents (kind, severity, region_code, reporter_id, source_chat_id, source_message_id,"
        " update_id, reported_at, received_at, handling_region, description, last_reported_at)"
        " VALUES ('insiden', 'kritis', '51.03.01', 100, 5, 6, 99, 't1', 't2', '51.03.01', 'banjir', 't1')"
    )
    row = await rt.db.fetchone("SELECT id FROM incidents WHERE source_message_id = 6")
    event = await rt.db.fetchone(
        "SELECT at, actor_id, action, from_status, to_status FROM incident_events WHERE incident_id = ?", (row[0],)
    )
    assert tuple(event) == ("t2", 100, "lapor", None, "baru")
    assert (await rt.db.fetchone("SELECT incident_id FROM processed_updates WHERE update_id = 99"))[0] == row[0]


async def test_a_repeat_gets_its_receipt_even_when_it_would_now_be_refused(rt, wayan):
    """Telegram redelivers an update seconds later; meanwhile the plan was imported again and
    the figure is now over twice the plan. It is still the report stored the first time."""
    async with rt.db.transaction() as conn:
        await conn.execute("INSERT INTO logistics_plan VALUES ('51.03.01', 'tinta', 100, 't')")
    first = await reporting.submit_text(rt, wayan, "logistik tinta 150", src(1, update_id=501))
    assert isinstance(first, Receipt) and not first.duplicate
    async with rt.db.transaction() as conn:
        await conn.execute("UPDATE logistics_plan SET quantity = 50 WHERE region_code = '51.03.01'")
    again = await reporting.submit_text(rt, wayan, "logistik tinta 150", src(1, update_id=501))
    assert isinstance(again, Receipt) and again.duplicate and again.incident.id == first.incident.id
    fresh = await reporting.submit_text(rt, wayan, "logistik tinta 150", src(2, update_id=502))
    assert isinstance(fresh, Refused)  # a new message with the same figure is checked against the new plan
    assert (await rt.db.fetchone("SELECT count(*) FROM incidents"))[0] == 1


async def test_a_receipt_names_its_incident_in_the_text_telegram_gives_back(rt, wayan):
    import re as _re

    from bot.texts import incidents as ti

    for line, duplicate in (("rekap 1/205", False), ("insiden kritis banjir #7 di TPS 12", True)):
        result = await reporting.submit_text(rt, wayan, line, src(40 + len(line)))
        html_text = ti.receipt(result.incident, reporting.report_of(result.incident), result.path, (), duplicate)
        plain = _re.sub(r"<[^>]+>", "", html_text)  # what a reply's reply_to_message.text holds
        assert ti.receipt_incident_id(plain) == result.incident.id
    assert ti.receipt_incident_id("Perintah yang bisa Anda pakai: #12") is None
    assert ti.receipt_incident_id(None) is None


async def test_a_message_of_several_reports_is_stored_once_in_its_order(rt, wayan):
    from bot.services.reporting import Batch

    text = "logistik kotak 10 bilik 20\n/lapor data ganda 3"
    first = await reporting.submit_text(rt, wayan, text, src(5, update_id=50))
    assert isinstance(first, Batch) and [r.duplicate for r in first.receipts] == [False, False, False]
    ids = [r.incident.id for r in first.receipts]
    assert ids == sorted(ids)
    assert [r.incident.source_message_id for r in first.receipts] == [5, -501, -502]
    # the update is processed once every report of it is stored: the last one carries it
    processed = await rt.db.fetchone("SELECT incident_id FROM processed_updates WHERE update_id = 50")
    assert processed[0] == ids[-1]
    again = await reporting.submit_text(rt, wayan, text, src(5, update_id=50))  # delivered twice
    assert isinstance(again, Batch) and [r.incident.id for r in again.receipts] == ids
    assert all(r.duplicate for r in again.receipts)
    assert (await rt.db.fetchone("SELECT count(*) FROM incidents"))[0] == 3
    assert [i.id for i in await incident_store.parts_of(rt.db, rt.bot_id, 100, 5)] == ids


async def test_a_bad_line_stores_nothing_of_the_message(rt, wayan):
    result = await reporting.submit_text(rt, wayan, "logistik kotak 10\n/lapor @51.71.01 rekap 1/2", src(6))
    assert isinstance(result, Refused) and result.line == 2
    assert (await rt.db.fetchone("SELECT count(*) FROM incidents"))[0] == 0


async def test_a_repeat_within_ten_minutes_names_the_first(rt, wayan, clock):
    first = await reporting.submit_text(rt, wayan, "data ganda 14 Desa Kuta", src(1))
    clock.advance(minutes=9, seconds=59)
    again = await reporting.submit_text(rt, wayan, "data ganda 14 Desa Kuta", src(2))
    assert isinstance(again, Receipt) and again.incident.id == first.incident.id and again.repeat_minutes == 9
    other_words = await reporting.submit_text(rt, wayan, "data ganda 14 Desa Legian", src(3))
    assert other_words.incident.id != first.incident.id  # the keterangan says where: news
    clock.advance(seconds=2)
    later = await reporting.submit_text(rt, wayan, "data ganda 14 Desa Kuta", src(4))
    assert later.incident.id not in (first.incident.id, other_words.incident.id) and later.repeat_minutes is None


# --- a message of several reports meets logistics and counting as state (issues 11 and 12) ------


async def test_reports_of_one_message_update_one_open_incident_in_their_order(rt, wayan):
    from bot.services.reporting import Batch

    async with rt.db.transaction() as conn:
        await conn.execute("INSERT INTO logistics_plan VALUES ('51.03.01', 'kotak_suara', 1025, 't')")
    text = "logistik kotak 700\n/lapor logistik kotak 900"
    first = await reporting.submit_text(rt, wayan, text, src(5, update_id=50))
    assert isinstance(first, Batch)
    opened, updated = first.receipts
    assert isinstance(opened, Receipt) and isinstance(updated, Receipt)
    assert opened.incident.id == updated.incident.id and (opened.updated, updated.updated) == (None, 2)
    assert updated.incident.received == 900  # read against what the line before it left: no drop, no second incident
    # both reports are kept under the ids of their part; the update id on the last only
    kept = await rt.db.fetchall(
        "SELECT source_message_id, update_id FROM incident_reports WHERE incident_id = ? ORDER BY id",
        (opened.incident.id,),
    )
    assert [tuple(r) for r in kept] == [(5, None), (-501, 50)]
    again = await reporting.submit_text(rt, wayan, text, src(5, update_id=50))  # delivered twice
    assert isinstance(again, Batch) and all(isinstance(r, Receipt) and r.duplicate for r in again.receipts)
    assert {r.incident.id for r in again.receipts if isinstance(r, Receipt)} == {opened.incident.id}
    assert (await rt.db.fetchone("SELECT count(*) FROM incident_reports"))[0] == 2
    assert [i.id for i in await incident_store.parts_of(rt.db, rt.bot_id, 100, 5)] == [opened.incident.id]


async def test_a_figure_going_down_in_a_message_of_several_is_held_and_the_rest_stored(rt, wayan):
    from bot.services.reporting import Batch, Held

    await reporting.submit_text(rt, wayan, "hitung 180/205 sirekap 150", src(1))
    result = await reporting.submit_text(rt, wayan, "hitung 18/205\n/lapor data ganda 3", src(2, update_id=60))
    assert isinstance(result, Batch)
    held, stored = result.receipts
    assert isinstance(held, Held) and isinstance(stored, Receipt) and stored.incident.kind == "data"
    row = await rt.db.fetchone("SELECT state, source_message_id FROM incident_reports WHERE id = ?", (held.report_id,))
    assert tuple(row) == ("menunggu", 2)
    counting = await rt.db.fetchone("SELECT tps_done FROM counting_state WHERE region_code = '51.03.01'")
    assert counting[0] == 180  # not current until Benar
    question = Source(100, 900, 61, datetime(2024, 2, 14, 9, 30, tzinfo=UTC), edit=True)
    confirmed = await reporting.confirm_held(rt, wayan, held.report_id, True, question)
    assert isinstance(confirmed, Receipt) and confirmed.incident.tps_done == 18


async def test_the_same_cumulative_report_within_ten_minutes_updates_nothing(rt, wayan, clock):
    async with rt.db.transaction() as conn:
        await conn.execute("INSERT INTO logistics_plan VALUES ('51.03.01', 'tinta', 100, 't')")
    first = await reporting.submit_text(rt, wayan, "logistik tinta 50", src(1))
    clock.advance(minutes=3)
    update = await reporting.submit_text(rt, wayan, "logistik tinta 80", src(2))
    assert isinstance(update, Receipt) and update.updated == 2 and update.repeat_minutes is None
    clock.advance(minutes=5)
    again = await reporting.submit_text(rt, wayan, "logistik tinta 80", src(3))
    assert isinstance(again, Receipt) and again.repeat_minutes == 5 and again.incident.id == first.incident.id
    assert (await rt.db.fetchone("SELECT count(*) FROM incident_reports"))[0] == 2
    events = [e.action for e in await incident_store.events(rt.db, first.incident.id)]
    assert events == ["lapor", "laporan"]
