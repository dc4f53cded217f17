"""An officer's receipts that waited together (Telegram's budget spent on more urgent messages, or
sends failing for a while) arrive as one message naming them all; every report it covers is marked
sent with it; a crash between the send and the mark repeats them, never loses one."""

import dataclasses
import json
import sqlite3
from collections import Counter

import pytest

import bot.texts.incidents as ti
from bot.services import outbox as outbox_service
from bot.services.reporting import report_of
from bot.texts.incidents import receipt_incident_ids
from storage import incidents as incident_store
from tests.e2e.conftest import shown
from tests.e2e.test_reporting import png

REPORTS = (
    "/lapor insiden sedang genset TPS 3 mati",
    "/lapor logistik kotak 40/40",
    "/lapor insiden rendah saksi terlambat datang",
)


async def _held_back(kpu, officer) -> list[int]:
    """`officer` sends REPORTS while every send to them fails; returns the stored incident ids."""
    rule = kpu.emu.fail_next("sendMessage", error_code=500, description="Internal Server Error", chat_id=officer.id)
    rule.times = 10_000
    bystander = await kpu.person("made")
    for text in REPORTS:
        await officer.send(kpu.bot, text)
    await kpu.settled(bystander)
    kpu.emu.api.faults.rules.clear()
    rows = await kpu.rt.db.fetchall("SELECT id FROM incidents WHERE reporter_id = ? ORDER BY id", (officer.id,))
    return [r["id"] for r in rows]


async def _expected(kpu, ids: list[int]) -> str:
    """The coalesced receipt of `ids`: each report as it was reported, with what its receipt says
    beyond "stored" (an update in place, closed at once), as its outbox row has it."""
    parts = []
    for incident_id in ids:
        incident = await incident_store.get(kpu.rt.db, incident_id)
        row = await kpu.rt.db.fetchone(
            "SELECT detail FROM outbox WHERE purpose = 'tanda_terima' AND incident_id = ?", (incident_id,)
        )
        detail = json.loads(row["detail"])
        incident = dataclasses.replace(incident, **detail.get("figures", {}))
        data = await outbox_service.receipt_data(kpu.rt, incident)
        parts.append(
            ti.ReceiptPart(
                incident,
                report_of(incident),
                data.path,
                data.nik_warnings,
                False,
                detail.get("repeat"),
                detail.get("updated"),
                bool(detail.get("closed")),
            )
        )
    return shown(ti.receipts(parts))


async def test_receipts_that_waited_together_come_as_one_message(kpu, clock):
    wayan = await kpu.person("wayan")
    before = len(kpu.emu.bot_messages(kpu.dm(wayan)))
    ids = await _held_back(kpu, wayan)
    assert len(ids) == len(REPORTS)
    clock.advance(minutes=11)  # past every backoff
    assert await kpu.notifier.deliver_due() == len(REPORTS)
    new = kpu.emu.bot_messages(kpu.dm(wayan))[before:]
    assert [m.text for m in new] == [await _expected(kpu, ids)]
    assert receipt_incident_ids(new[0].text) == ids
    assert (await kpu.emu.next_message(kpu.dm(wayan))).message_id == new[0].message_id
    clock.advance(minutes=11)
    assert await kpu.notifier.deliver_due() == 0  # each covered receipt marked sent: none again
    # the next report, alone, gets the receipt of one (attachments by reply work on it)
    answer = await kpu.say(wayan, "/lapor insiden sedang listrik padam di TPS 4")
    [new_id] = receipt_incident_ids(answer.text)
    assert answer.text == await kpu.receipt(new_id)


async def test_a_crash_between_the_send_and_the_mark_repeats_receipts_never_loses_them(kpu, clock, monkeypatch):
    wayan = await kpu.person("wayan")
    ids = await _held_back(kpu, wayan)
    mark = outbox_service.outbox_store.mark_sent_together

    async def disk_gone(*args, **kwargs):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(outbox_service.outbox_store, "mark_sent_together", disk_gone)
    clock.advance(minutes=11)
    with pytest.raises(sqlite3.OperationalError):
        await kpu.notifier.deliver_due()
    monkeypatch.setattr(outbox_service.outbox_store, "mark_sent_together", mark)
    await kpu.restart()  # as after the crash
    clock.advance(minutes=11)
    await kpu.notifier.deliver_due()
    await kpu.notifier.drain()
    got = Counter(i for m in kpu.emu.bot_messages(kpu.dm(wayan)) for i in receipt_incident_ids(m.text))
    assert set(ids) <= set(got) and all(got[i] == 2 for i in ids)  # repeated once, none lost
    unsent = await kpu.rt.db.fetchone("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
    assert unsent[0] == 0


async def test_a_file_in_reply_to_a_coalesced_receipt_goes_to_the_report_its_caption_names(kpu, clock):
    wayan = await kpu.person("wayan")
    ids = await _held_back(kpu, wayan)
    clock.advance(minutes=11)
    await kpu.notifier.deliver_due()
    coalesced = await kpu.emu.next_message(kpu.dm(wayan))
    assert receipt_incident_ids(coalesced.text) == ids
    await wayan.send_photo(kpu.bot, png(), reply_to=coalesced)  # which report? not said
    assert (await kpu.emu.next_message(kpu.dm(wayan))).text == shown(ti.attach_which(ids))
    await wayan.send_location(kpu.bot, -8.7237, 115.1752, reply_to=coalesced)  # a location has no caption
    assert (await kpu.emu.next_message(kpu.dm(wayan))).text == shown(ti.attach_which(ids))
    await wayan.send_photo(kpu.bot, png(), caption="#999999", reply_to=coalesced)  # not one of them
    assert (await kpu.emu.next_message(kpu.dm(wayan))).text == shown(ti.attach_which(ids))
    await wayan.send_photo(kpu.bot, png(), caption=f"#{ids[1]} genset", reply_to=coalesced)
    assert (await kpu.emu.next_message(kpu.dm(wayan))).text == shown(ti.attached(ids[1], "foto"))
    await wayan.send_document(
        kpu.bot, b"%PDF-1.4 ba", "ba.pdf", "application/pdf", caption=str(ids[2]), reply_to=coalesced
    )
    assert (await kpu.emu.next_message(kpu.dm(wayan))).text == shown(ti.attached(ids[2], "dokumen"))
    kinds = {i: [a.kind for a in await incident_store.attachments(kpu.rt.db, i)] for i in ids}
    assert kinds == {ids[0]: [], ids[1]: ["foto"], ids[2]: ["dokumen"]}
