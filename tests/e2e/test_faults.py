"""Faults on the way out: receipts are as durable as group notifications, one flooded chat never
stalls the others, a send with an unknown outcome is never followed by an apology, and a report
the database could not take is answered with a sentence that says it was not stored.

Simulated time: the outbox schedules retries on the injected clock, so "60 s of failing sends" is
the clock moved in steps with a delivery round at each step, not a minute of waiting.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
from collections import Counter
from datetime import UTC, datetime

import bot.texts.commands
import bot.texts.common
import bot.texts.incidents
import bot.texts.reporting
from bot.domain.models import Role
from bot.services import baselines, reporting
from bot.texts.incidents import receipt_incident_id, receipt_incident_ids
from storage import incidents as incident_store
from storage import regions as region_store
from tests.e2e.conftest import shown

OFFICERS = 5
REPORTS_EACH = 4


async def _officers(kpu, count: int = OFFICERS) -> list:
    return [
        await kpu.register(kpu.emu.user(2_000 + i, f"Petugas {i + 1}"), "petugas", "51.03.01") for i in range(count)
    ]


async def _send_reports(kpu, officers) -> None:
    for round_ in range(REPORTS_EACH):
        for n, officer in enumerate(officers):
            await officer.send(kpu.bot, f"/lapor insiden sedang genset TPS {n}-{round_} mati")


def _receipts(kpu, officer) -> Counter:
    """The incident ids the officer got a receipt for, with how many times each (receipts that
    waited together come as one message naming them all)."""
    return Counter(i for m in kpu.emu.bot_messages(kpu.dm(officer)) for i in receipt_incident_ids(m.text))


async def _stored(kpu) -> dict[int, list[int]]:
    rows = await kpu.rt.db.fetchall("SELECT id, reporter_id FROM incidents ORDER BY id")
    stored: dict[int, list[int]] = {}
    for row in rows:
        stored.setdefault(row["reporter_id"], []).append(row["id"])
    return stored


def _fail_sends(kpu, officers, **fault) -> list:
    return [kpu.emu.fail_next("sendMessage", chat_id=o.id, times=10_000, **fault) for o in officers]


def _clear_faults(kpu) -> None:
    kpu.emu.api.faults.rules.clear()


async def test_receipts_survive_a_minute_of_failing_sends(kpu, clock):
    """The Bot API answers 500 to every receipt for 60 s: every report is stored at once, and once
    sends work again every officer gets exactly one receipt per report."""
    officers = await _officers(kpu)
    bystander = await kpu.person("made")
    rules = _fail_sends(kpu, officers, error_code=500, description="Internal Server Error")
    await _send_reports(kpu, officers)
    await kpu.settled(bystander)  # answered although every receipt fails: nothing waits for them
    stored = await _stored(kpu)
    assert sum(len(ids) for ids in stored.values()) == OFFICERS * REPORTS_EACH
    for _ in range(12):  # 60 s of simulated time, a delivery round every 5 s
        clock.advance(seconds=5)
        assert await kpu.notifier.deliver_due() == 0
    assert sum(len(rule.hits) for rule in rules) >= OFFICERS * REPORTS_EACH  # tried, and retried
    assert all(not _receipts(kpu, o) for o in officers)
    _clear_faults(kpu)
    clock.advance(minutes=11)  # past the longest backoff
    assert await kpu.notifier.deliver_due() == OFFICERS * REPORTS_EACH
    for officer in officers:
        assert _receipts(kpu, officer) == Counter(dict.fromkeys(stored[officer.id], 1))
    clock.advance(minutes=11)
    assert await kpu.notifier.deliver_due() == 0  # nothing left, nothing sent twice
    apology = shown(bot.texts.common.ERROR_APOLOGY)
    assert all(m.text != apology for o in officers for m in kpu.emu.bot_messages(kpu.dm(o)))


async def test_a_flood_storm_on_some_chats_does_not_stall_the_others(kpu, clock):
    """429 with retry_after=5 on every send to the reporters' chats: an unrelated /bantuan is
    answered within a second, and the reporters' receipts follow once the storm is over."""
    officers = await _officers(kpu)
    bystander = await kpu.person("made")
    _fail_sends(kpu, officers, error_code=429, retry_after=5)
    await _send_reports(kpu, officers)
    loop = asyncio.get_running_loop()
    started = loop.time()
    answer = await kpu.say(bystander, "/bantuan")
    assert loop.time() - started < 1.0
    lines = [(c.name, c.description) for c in bot.texts.commands.for_role(Role.KOORDINATOR)]
    assert answer.text == shown(bot.texts.common.help_text(Role.KOORDINATOR, lines))
    await kpu.settled(bystander)
    stored = await _stored(kpu)
    assert sum(len(ids) for ids in stored.values()) == OFFICERS * REPORTS_EACH
    _clear_faults(kpu)
    clock.advance(seconds=6)
    assert await kpu.notifier.deliver_due() == OFFICERS * REPORTS_EACH
    for officer in officers:
        assert _receipts(kpu, officer) == Counter(dict.fromkeys(stored[officer.id], 1))


async def test_a_send_with_an_unknown_outcome_is_not_followed_by_an_apology(kpu, clock):
    """Telegram carries out the receipt but its answer is lost (as after a timeout): the officer
    is never told sorry for a stored report; the receipt is sent again at most once (the Bot
    API cannot be asked whether a message arrived — see the README)."""
    [officer] = await _officers(kpu, 1)
    kpu.emu.fail_next("sendMessage", error_code=502, description="Bad Gateway", chat_id=officer.id, performed=True)
    first = await kpu.say(officer, "/lapor insiden tinggi jembatan putus")
    incident_id = receipt_incident_id(first.text)
    assert first.text == await kpu.receipt(incident_id)
    clock.advance(seconds=6)
    await kpu.notifier.deliver_due()
    await kpu.settled(officer)
    texts = [m.text for m in kpu.emu.bot_messages(kpu.dm(officer))]
    assert shown(bot.texts.common.ERROR_APOLOGY) not in texts
    assert 1 <= _receipts(kpu, officer)[incident_id] <= 2
    assert (await kpu.rt.db.fetchone("SELECT count(*) FROM incidents"))[0] == 1


async def test_a_locked_database_delays_reports_and_loses_none(kpu):
    """Another process holds the database longer than the busy timeout: the update cannot be
    recorded, so it is not confirmed to Telegram (durable intake) and nobody is told anything
    wrong; once the lock is gone the bot recovers by itself and the report is stored and
    receipted, once."""
    [officer] = await _officers(kpu, 1)
    await kpu.rt.db.conn.execute("PRAGMA busy_timeout = 200")  # the real timeout is 10 s
    refused = asyncio.Event()

    class Seen(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "not recorded" in record.getMessage():
                refused.set()

    seen = Seen()
    logging.getLogger("bot.telegram.intake").addHandler(seen)
    other = sqlite3.connect(kpu.settings.DATABASE_PATH, timeout=5)
    try:
        other.execute("BEGIN IMMEDIATE")
        await officer.send(kpu.bot, "/lapor insiden kritis gudang terbakar")
        await asyncio.wait_for(refused.wait(), 10)  # the bot tried, and could not record it
        other.rollback()
    finally:
        other.close()
        logging.getLogger("bot.telegram.intake").removeHandler(seen)
    answer = await kpu.next(officer, timeout=10)
    assert answer.text == await kpu.receipt(receipt_incident_id(answer.text))
    await kpu.settled(officer)
    texts = [m.text for m in kpu.emu.bot_messages(kpu.dm(officer))]
    assert shown(bot.texts.common.ERROR_APOLOGY) not in texts
    assert (await kpu.rt.db.fetchone("SELECT count(*) FROM incidents"))[0] == 1


async def test_a_report_the_database_refuses_is_answered_not_stored(kpu, monkeypatch):
    """The update was recorded, but storing the report fails (disk full, read-only, busy beyond
    the timeout — SQLite's OperationalError at the write): the officer reads that the report was
    NOT stored, never the generic apology; nothing is half-written; once the fault clears the
    next report is stored without a restart."""
    [officer] = await _officers(kpu, 1)
    real = incident_store.create

    async def disk_full(*args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(incident_store, "create", disk_full)
    answer = await kpu.say(officer, "/lapor insiden kritis gudang terbakar")
    assert answer.text == shown(bot.texts.common.NOT_STORED_BUSY)
    assert (await kpu.rt.db.fetchone("SELECT count(*) FROM incidents"))[0] == 0
    assert (await kpu.rt.db.fetchone("SELECT count(*) FROM outbox"))[0] == 0
    monkeypatch.setattr(incident_store, "create", real)
    again = await kpu.say(officer, "/lapor insiden kritis gudang terbakar")
    assert again.text == await kpu.receipt(receipt_incident_id(again.text))


async def test_every_kind_of_answer_to_a_report_survives_failing_sends(kpu_factory, clock):
    """Issue 11 and 12's answers go through the outbox as the plain receipt does: a report that
    updates an open incident in place, the same report again within 10 minutes, a figure that went
    down (its question with Benar / Batal), a /lapor of several lines. With every send to the
    officer failing, each is stored at once; afterwards each answer arrives once, in the order the
    reports were sent — the receipts of the first three, which waited together, as one message
    naming each (`receipts`), the question and the receipt of the several lines alone — and Benar
    on the question edits the receipt into it."""
    clock.now = datetime(2024, 2, 14, 4, 0, tzinfo=UTC)  # H, 12:00 WITA: penghitungan
    kpu = await kpu_factory()
    await baselines.import_tps(kpu.rt, b"kode_wilayah,jumlah_tps\n51.03.01,205\n", None)
    [officer] = await _officers(kpu, 1)
    welcomed = len(kpu.emu.bot_messages(kpu.dm(officer)))
    [rule] = _fail_sends(kpu, [officer], error_code=500, description="Internal Server Error")
    for text in (
        "/lapor hitung 100",  # opens Kuta's penghitungan
        "/lapor hitung 120",  # updates it in place
        "/lapor hitung 120",  # the same again: a repeat
        "/lapor hitung 50",  # went down: waits for Benar
        "/lapor insiden sedang genset mati\n/lapor data ganda 3",  # two reports in one message
    ):
        await officer.send(kpu.bot, text)
    await kpu.settled(await kpu.person("made"))
    counting = await kpu.rt.db.fetchone("SELECT id, tps_done FROM incidents WHERE kind = 'hitung'")
    assert counting["tps_done"] == 120
    assert await kpu.rt.db.fetchvalue("SELECT count(*) FROM incidents") == 3
    assert await kpu.rt.db.fetchvalue("SELECT count(*) FROM incident_reports WHERE state = 'menunggu'") == 1
    assert rule.hits and len(kpu.emu.bot_messages(kpu.dm(officer))) == welcomed
    _clear_faults(kpu)
    clock.advance(minutes=11)
    assert await kpu.notifier.deliver_due() == 5
    clock.advance(minutes=11)
    assert await kpu.notifier.deliver_due() == 0  # nothing sent twice
    together, question, batch = kpu.emu.bot_messages(kpu.dm(officer))[welcomed:]
    incident = await incident_store.get(kpu.rt.db, counting["id"])
    path = await region_store.path(kpu.rt.db, incident.region_code)

    def part(shown_incident, duplicate=False, **flags) -> bot.texts.incidents.ReceiptPart:
        report = reporting.report_of(shown_incident)
        return bot.texts.incidents.ReceiptPart(shown_incident, report, path, (), duplicate, **flags)

    # each restates the figures it was sent with, though the first went out after the second was stored
    assert together.text == shown(
        bot.texts.incidents.receipts(
            [
                part(dataclasses.replace(incident, tps_done=100)),
                part(incident, updated=2),
                part(incident, True, repeat_minutes=0),
            ]
        )
    )
    assert question.text.startswith(shown(bot.texts.reporting.HELD.split("\n")[0]))
    assert [b for row in question.buttons for b, _ in row] == [
        bot.texts.reporting.HELD_CONFIRM_BUTTON,
        bot.texts.reporting.HELD_CANCEL_BUTTON,
    ]
    stored = await kpu.rt.db.fetchall("SELECT id FROM incidents WHERE kind IN ('insiden', 'data') ORDER BY id")
    assert all(f"#{row['id']}" in batch.text for row in stored)
    await officer.press_button(question, bot.texts.reporting.HELD_CONFIRM_BUTTON)
    edited = await kpu.emu.next_edit(kpu.dm(officer))
    assert receipt_incident_id(edited.text) == counting["id"] and "50 dari 205 TPS" in edited.text
    assert await kpu.rt.db.fetchvalue("SELECT tps_done FROM incidents WHERE id = ?", (counting["id"],)) == 50


async def test_a_press_answered_after_telegrams_limit_is_carried_out_without_an_apology(kpu, caplog):
    """Telegram refuses an answer to a button press after ~15 s ("query is too old"), as when the
    chat's earlier updates kept the bot busy: the press was handled (the incident taken, the card
    edited), so nobody is told sorry and nothing is logged as an error; the late answer is counted."""
    from bot.telegram import ops

    officer = await kpu.register(kpu.emu.user(2_100, "Wayan"), "petugas", "51.03.01")
    coordinator = await kpu.register(kpu.emu.user(2_101, "Made"), "koordinator", "51.03")
    commissioner = await kpu.register(kpu.emu.user(2_102, "Komang"), "komisioner", "51.03")
    group = await kpu.coordination_group("KPU Badung", "51.03", commissioner, coordinator)
    receipt = await kpu.say(officer, "/lapor insiden kritis gudang logistik tergenang banjir")
    incident_id = receipt_incident_id(receipt.text)
    post = await kpu.next(group)
    kpu.emu.callback_query_ttl = 0.0  # every answer arrives "too late"
    late_before = ops.COUNTERS["callbacks_answered_late"]
    with caplog.at_level(logging.WARNING):
        press = await coordinator.press(post, f"i1:t:{incident_id}")
        edited = await kpu.emu.next_edit(group)
        await kpu.settled(coordinator)
    assert "sedang ditangani oleh Made" in edited.text
    assert (await kpu.rt.db.fetchone("SELECT status FROM incidents WHERE id = ?", (incident_id,)))[0] == "ditangani"
    assert not press.answered
    assert ops.COUNTERS["callbacks_answered_late"] == late_before + 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    apology = shown(bot.texts.common.ERROR_APOLOGY)
    assert all(m.text != apology for m in kpu.emu.bot_messages(group))
    assert all(m.text != apology for m in kpu.emu.bot_messages(kpu.dm(coordinator)))
