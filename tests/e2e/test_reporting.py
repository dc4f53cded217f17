"""/lapor end to end: every row of the reporting table, refusals, the guided flow, attachments,
NIK masking outside the reporter's private chat, and duplicates."""

import asyncio
import re
import struct
import zlib

import pytest
from telegram import Update

import bot.texts.common
import bot.texts.incidents
import bot.texts.reporting
from bot.domain.access import Reason
from bot.domain.privacy import find_niks
from storage import incidents as incident_store
from storage import regions as region_store
from tests.e2e.conftest import shown

NIK_BALI = "5103011234560001"
NIK_JABAR = "3201011234560002"


def png(width=32, height=24) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * (width * 3) for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def error(code: str, **values) -> str:
    """The first sentence of a /lapor refusal, as the user reads it."""
    return shown(bot.texts.reporting.ERRORS[code].format(**values))


def summary(template: str, **values) -> str:
    """A line of a report restated (receipt, confirmation), as the user reads it."""
    return shown(template.format(**values))


#: the first line of the guided flow's confirmation ("Periksa laporan Anda:")
CONFIRM = shown(bot.texts.incidents.flow_confirm("", ())).partition("\n")[0]


def receipt_id(message) -> int | None:
    return bot.texts.incidents.receipt_incident_id(message.text)


async def count(kpu) -> int:
    return (await kpu.rt.db.fetchone("SELECT count(*) FROM incidents"))[0]


LOGISTIK_PLANNED = bot.texts.reporting.SUMMARY_LOGISTIK + bot.texts.reporting.SUMMARY_LOGISTIK_PLAN
SEVERITY = bot.texts.reporting.SUMMARY_SEVERITY


@pytest.mark.parametrize(
    ("line", "expected", "row"),
    [
        (
            "/lapor logistik kotak_suara 118/120 rusak 2 dua kotak penyok",
            [
                summary(
                    LOGISTIK_PLANNED + bot.texts.reporting.SUMMARY_LOGISTIK_DAMAGED,
                    label="Kotak suara",
                    received="118",
                    planned="120",
                    damaged="2",
                ),
                "dua kotak penyok",
                summary(SEVERITY, severity="tinggi"),  # damage is a problem at once
            ],
            {
                "kind": "logistik",
                "item": "kotak_suara",
                "received": 118,
                "planned": 120,
                "damaged": 2,
                "severity": "tinggi",
            },
        ),
        (
            "/lapor logistik surat 1.250/2.000",
            [
                summary(LOGISTIK_PLANNED, label="Surat suara", received="1.250", planned="2.000"),
                summary(SEVERITY, severity="tinggi"),
            ],
            {"kind": "logistik", "item": "surat_suara", "received": 1250, "planned": 2000, "severity": "tinggi"},
        ),
        (
            "/lapor logistik tinta 40/40",
            [
                summary(LOGISTIK_PLANNED, label="Tinta", received="40", planned="40"),
                summary(SEVERITY, severity="rendah"),
            ],
            {"kind": "logistik", "severity": "rendah", "status": "selesai"},  # complete: closed at once
        ),
        (
            "/lapor data ganda 14 pemilih ganda di Desa Kuta",
            [
                summary(bot.texts.reporting.SUMMARY_DATA, label="Ganda", count="14"),
                "pemilih ganda di Desa Kuta",
                summary(SEVERITY, severity="sedang"),
            ],
            {"kind": "data", "item": "ganda", "data_count": 14, "severity": "sedang"},
        ),
        (
            "/lapor rekap 180/205 sirekap 150",  # `rekap` followed by numbers: penghitungan
            [
                summary(
                    bot.texts.reporting.SUMMARY_HITUNG + bot.texts.reporting.SUMMARY_HITUNG_SIREKAP,
                    done="180",
                    total="205",
                    percent="87,8%",
                    sirekap="150",
                ),
                summary(SEVERITY, severity="rendah"),
            ],
            {"kind": "hitung", "tps_done": 180, "tps_total": 205, "sirekap": 150, "severity": "rendah"},
        ),
        (
            "/lapor rekap dpr 12/18",
            [
                summary(bot.texts.reporting.SUMMARY_REKAP, jenis="DPR", done="12", total="18", percent="66,7%"),
                summary(SEVERITY, severity="rendah"),
            ],
            {"kind": "rekap", "item": "dpr", "desa_done": 12, "desa_total": 18, "severity": "rendah"},
        ),
        (
            "/lapor insiden kritis gudang logistik PPK Kuta tergenang banjir",
            [
                summary(bot.texts.reporting.SUMMARY_INSIDEN, severity="kritis"),
                "gudang logistik PPK Kuta tergenang banjir",
            ],
            {"kind": "insiden", "severity": "kritis", "description": "gudang logistik PPK Kuta tergenang banjir"},
        ),
    ],
)
async def test_every_kind_in_one_line(kpu, wayan, line, expected, row):
    answer = await kpu.say(wayan, line)
    [incident_id] = [r["id"] for r in await kpu.rt.db.fetchall("SELECT id FROM incidents")]
    assert answer.text == await kpu.receipt(incident_id)
    assert "Bali › Badung › Kuta" in answer.text
    for fragment in expected:
        assert fragment in answer.text
    stored = await kpu.rt.db.fetchone("SELECT * FROM incidents WHERE id = ?", (incident_id,))
    for key, value in row.items():
        assert stored[key] == value, key
    assert stored["status"] == row.get("status", "baru")
    assert stored["reporter_id"] == 100 and stored["region_code"] == "51.03.01"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/lapor", shown(bot.texts.incidents.FLOW_CHOOSE_KIND)),  # no arguments: the guided flow starts
        ("/lapor gosip 3", error("unknown_kind", token="gosip")),
        ("/lapor logistik kursi 5", error("unknown_item", token="kursi")),
        ("/lapor logistik kotak 300/120", error("received_over_plan", token="300", bound="120")),
        ("/lapor logistik kotak -3", error("negative_number", token="-3")),
        ("/lapor data ganda banyak", error("invalid_number", token="banyak")),
        ("/lapor rekap 206/205", error("tps_done_over_total", token="206", bound="205")),
        (
            "/lapor @51.71.01 insiden tinggi banjir",
            "«@51.71.01» (Bali › Kota Denpasar › Denpasar Selatan) di luar wilayah kerja Anda (Bali › Badung › Kuta)",
        ),
        (
            "/lapor @atlantis insiden tinggi banjir",
            shown(bot.texts.incidents.target_unknown("atlantis", "insiden", "51.03.01")),
        ),
        ("/lapor @Kuta Selatan rekap 90/120", error("kind_after_target", token="@Kuta_Selatan")),
        ("/lapor insiden kritis", error("missing_description", token="kritis")),
    ],
)
async def test_refusals_store_nothing(kpu, wayan, line, expected):
    """Every refusal names what was wrong and gives the right form with an example."""
    answer = await kpu.say(wayan, line)
    assert expected in answer.text
    if line != "/lapor":
        lines = answer.text.splitlines()
        form = shown(bot.texts.reporting.FORM_LINE.format(form="/lapor"))
        example = shown(bot.texts.reporting.EXAMPLE_LINE.format(example="/lapor"))
        usage = shown(bot.texts.reporting.USAGE)
        assert any(x.startswith(form) for x in lines) or usage in answer.text, answer.text
        assert any(x.startswith(example) for x in lines), answer.text
    assert await count(kpu) == 0


async def test_region_targeting_and_ambiguity(kpu, made):
    answer = await kpu.say(made, "/lapor @kut data ganda 3")
    assert "cocok dengan beberapa wilayah" in answer.text and "@51.03.05" in answer.text
    answer = await kpu.say(made, "/lapor @kuta_selatan rekap 90/120")
    assert "Bali › Badung › Kuta Selatan" in answer.text
    answer = await kpu.say(made, "/lapor rekap 90/120")  # `rekap` and numbers: penghitungan
    badung = await region_store.get(kpu.rt.db, "51.03")
    assert answer.text == shown(bot.texts.incidents.needs_kecamatan("hitung", badung))


async def test_nik_is_masked_outside_the_reporters_private_chat(kpu, wayan, made):
    private = await kpu.say(wayan, f"/lapor data nik_invalid 1 NIK {NIK_BALI} dan {NIK_JABAR} salah")
    assert NIK_BALI in private.text  # his own private chat: as typed
    incident_id = (await kpu.rt.db.fetchone("SELECT id FROM incidents"))[0]
    # a warning about the NIK from elsewhere, not a refusal
    assert private.text == await kpu.receipt(incident_id, nik_warnings=(NIK_JABAR,))
    group = await kpu.coordination_group("PPK Kuta", "51.03.01", kpu.admin, wayan, made)
    in_group = await kpu.say(wayan, f"/lapor data ganda 2 NIK {NIK_BALI} dobel", group)
    assert NIK_BALI not in in_group.text and "5103**********01" in in_group.text
    seen_by_coordinator = await kpu.say(made, f"/status {incident_id}")
    assert NIK_BALI not in seen_by_coordinator.text and "5103**********01" in seen_by_coordinator.text
    assert "3201**********02" in seen_by_coordinator.text
    own_status = await kpu.say(wayan, f"/status {incident_id}")
    assert NIK_BALI in own_status.text
    stored = await kpu.rt.db.fetchone("SELECT description FROM incidents WHERE id = ?", (incident_id,))
    assert NIK_BALI in stored[0]  # stored as given


@pytest.mark.parametrize(
    "written",
    [
        "5103 0112 3456 0001",
        "5103-0112-3456-0001",
        "5103.0112.3456.0001",
        "5103\u200b0112\u200b3456\u200b0001",
        "５１０３０１１２３４５６０００１",
        "٥١٠٣٠١١٢٣٤٥٦٠٠٠١",
    ],
)
async def test_a_nik_written_in_groups_or_other_digits_is_masked_in_the_group(kpu, wayan, made, written):
    group = await kpu.coordination_group("PPK Kuta", "51.03.01", kpu.admin, wayan, made)
    in_group = await kpu.say(wayan, f"/lapor data ganda 2 NIK {written} dobel", group)
    incident_id = (await kpu.rt.db.fetchone("SELECT id FROM incidents"))[0]
    seen_by_coordinator = await kpu.say(made, f"/status {incident_id}")
    for text in (in_group.text, seen_by_coordinator.text):
        assert written not in text and find_niks(text) == [], text
    own_status = await kpu.say(wayan, f"/status {incident_id}")
    assert written in own_status.text  # his own private chat: as typed


async def test_the_same_update_twice_makes_one_incident(kpu, wayan):
    first = await kpu.say(wayan, "/lapor insiden tinggi jembatan putus")
    record = [r for r in kpu.emu.update_log(kpu.bot) if r.kind == "message"][-1]
    update = Update.de_json(record.json(), kpu.app.bot)
    await kpu.app.process_update(update)  # Telegram redelivers after a crash before the offset moved on
    await kpu.settled(wayan)
    incident_id = receipt_id(first)
    assert first.text == await kpu.receipt(incident_id)
    # the replay's receipt is the one queued with the report: it is not sent twice
    assert [m.text for m in kpu.emu.bot_messages(kpu.dm(wayan)) if "Laporan #" in (m.text or "")] == [first.text]
    assert await count(kpu) == 1


async def test_photo_with_caption_and_attachments_by_reply(kpu, wayan, made):
    receipt = await kpu.emu.user(100, "Wayan").send_photo(
        kpu.bot, png(), caption="/lapor insiden tinggi atap gudang bocor"
    )
    answer = await kpu.next(wayan)
    incident_id = receipt_id(answer)
    await wayan.send_photo(kpu.bot, png(64, 48), reply_to=answer)
    assert (await kpu.next(wayan)).text == shown(bot.texts.incidents.attached(incident_id, "foto"))
    await wayan.send_location(kpu.bot, -8.7237, 115.1752, reply_to=answer)
    assert (await kpu.next(wayan)).text == shown(bot.texts.incidents.attached(incident_id, "lokasi"))
    await wayan.send_document(kpu.bot, b"%PDF-1.4 berita acara", "berita_acara.pdf", "application/pdf", reply_to=answer)
    assert (await kpu.next(wayan)).text == shown(bot.texts.incidents.attached(incident_id, "dokumen"))
    attachments = await incident_store.attachments(kpu.rt.db, incident_id)
    assert [a.kind for a in attachments] == ["foto", "foto", "lokasi", "dokumen"]
    assert attachments[1].width == 64 and attachments[2].latitude == pytest.approx(-8.7237)
    status = await kpu.say(made, f"/status {incident_id}")
    assert "Lampiran (4)" in status.text and "berita_acara.pdf" in status.text and "-8.72370, 115.17520" in status.text
    assert receipt.caption.startswith("/lapor")


async def test_a_reply_to_a_receipt_attaches_after_a_restart_and_other_replies_do_nothing(kpu, wayan, made):
    """A receipt names its incident: no database row is kept for it, and a reply to it works
    whenever it comes. A reply to any other message of the bot attaches nothing (the file is
    answered as one without a caption)."""
    receipt = await kpu.say(wayan, "/lapor insiden sedang genset PPK mati")
    incident_id = receipt_id(receipt)
    help_answer = await kpu.say(wayan, "/bantuan")
    await kpu.restart()
    await wayan.send_photo(kpu.bot, png(), reply_to=receipt)
    assert (await kpu.next(wayan)).text == shown(bot.texts.incidents.attached(incident_id, "foto"))
    await wayan.send_photo(kpu.bot, png(), reply_to=help_answer)
    offered = await kpu.next(wayan)  # not attached, not lost: the buttons to attach it
    assert offered.text == shown(bot.texts.reporting.FILE_WITHOUT_CAPTION)
    assert [a.kind for a in await incident_store.attachments(kpu.rt.db, incident_id)] == ["foto"]
    rows = await kpu.rt.db.fetchone("SELECT count(*) FROM incident_messages WHERE purpose = 'tanda_terima'")
    assert rows[0] == 0


async def test_status_rights(kpu, wayan, made):
    await kpu.say(wayan, "/lapor insiden tinggi jalan putus")
    incident_id = (await kpu.rt.db.fetchone("SELECT id FROM incidents"))[0]
    putu = await kpu.person("putu")
    assert (await kpu.say(putu, f"/status {incident_id}")).text == shown(bot.texts.common.REFUSAL[Reason.NOT_OWN])
    ketut = await kpu.person("ketut")
    assert (await kpu.say(ketut, f"/status {incident_id}")).text == shown(bot.texts.common.REFUSAL[Reason.SCOPE])
    full = await kpu.say(made, f"/status {incident_id}")
    assert "Pelapor: Wayan" in full.text and "Riwayat" in full.text and "Wayan melapor" in full.text
    assert (await kpu.say(made, "/status 999")).text == shown(bot.texts.incidents.status_not_found(999))
    assert (await kpu.say(made, "/status abc")).text == shown(bot.texts.incidents.STATUS_USAGE)


async def test_guided_flow_in_private(kpu, wayan):
    menu = await kpu.say(wayan, "/lapor")
    await wayan.press(menu, "lp1:k:logistik")
    items = await kpu.emu.next_edit(kpu.dm(wayan))
    assert items.text == shown(bot.texts.incidents.FLOW_CHOOSE_ITEM)
    await wayan.press(items, "lp1:i:kotak_suara")
    ask = await kpu.emu.next_edit(kpu.dm(wayan))
    assert ask.text == shown(bot.texts.incidents.FLOW_ASK_LOGISTIK)
    wrong = await kpu.say(wayan, "banyak sekali")
    assert error("invalid_number", token="banyak") in wrong.text
    confirm = await kpu.say(wayan, "118/120 rusak 2 penyok")
    assert confirm.text.startswith(CONFIRM) and "Kuta" in confirm.text
    assert confirm.callback_data and all(len(data.encode()) <= 64 for data in confirm.callback_data)
    await wayan.press(confirm, "lp1:ok")
    receipt = await kpu.emu.next_edit(kpu.dm(wayan))
    assert receipt.text == await kpu.receipt(receipt_id(receipt))
    assert "Kotak suara: diterima 118 dari kebutuhan 120, rusak 2" in receipt.text
    stored = await kpu.rt.db.fetchone("SELECT kind, item, received FROM incidents")
    assert tuple(stored) == ("logistik", "kotak_suara", 118)
    # pressing "Kirim" again (a double tap) does not make a second incident
    assert receipt.buttons == []  # the receipt has no buttons left to press twice
    assert await count(kpu) == 1


async def test_guided_flow_cancel_and_group_link(kpu, wayan):
    menu = await kpu.say(wayan, "/lapor")
    await wayan.press(menu, "lp1:k:insiden")
    await kpu.emu.next_edit(kpu.dm(wayan))
    assert (await kpu.say(wayan, "/batal")).text == shown(bot.texts.incidents.FLOW_CANCELLED)
    assert (await kpu.say(wayan, "/batal")).text == shown(bot.texts.incidents.FLOW_NOTHING_TO_CANCEL)
    group = await kpu.coordination_group("PPK Kuta", "51.03.01", kpu.admin, wayan)
    link = await kpu.say(wayan, "/lapor", group)
    [[(_, url)]] = link.buttons
    assert url == "https://t.me/kpu_koordinasi_bot?start=lapor"
    assert link.text == shown(bot.texts.incidents.FLOW_IN_GROUP)
    started = await kpu.say(wayan, "/start lapor")
    assert started.text == shown(bot.texts.incidents.FLOW_CHOOSE_KIND)
    assert await count(kpu) == 0


async def test_guided_flow_times_out(kpu, wayan):
    menu = await kpu.say(wayan, "/lapor")
    await kpu.say(wayan, "/bantuan")  # updates are handled in order: /lapor has finished now
    [job] = [j for j in kpu.app.job_queue.jobs() if j.callback.__name__ == "_trigger_timeout"]
    await job.run(kpu.app)  # the 10-minute timeout, without waiting 10 minutes
    assert (await kpu.next(wayan)).text == shown(bot.texts.incidents.FLOW_TIMEOUT)
    press = await wayan.press(menu, "lp1:k:data")
    answer = await press.answer()
    assert (
        answer.show_alert and answer.text == bot.texts.incidents.FLOW_EXPIRED_BUTTON
    )  # the old keyboard no longer works
    assert await count(kpu) == 0


async def test_guided_flow_asks_a_coordinator_for_the_kecamatan(kpu, made):
    menu = await kpu.say(made, "/lapor")
    await made.press(menu, "lp1:k:rekap")
    ask = await kpu.emu.next_edit(kpu.dm(made))
    assert ask.text == shown(bot.texts.incidents.FLOW_ASK_REGION)
    badung = await region_store.get(kpu.rt.db, "51.03")
    not_kecamatan = shown(bot.texts.incidents.needs_kecamatan("rekap", badung))
    assert (await kpu.say(made, "badung")).text == not_kecamatan  # a kabupaten is not a kecamatan
    outside = await region_store.path(kpu.rt.db, "51.71.01")
    home = await region_store.path(kpu.rt.db, "51.03")
    assert (await kpu.say(made, "51.71.01")).text == shown(
        bot.texts.incidents.target_out_of_scope("51.71.01", outside, home, "rekap", "51.03.01")
    )
    details = await kpu.say(made, "kuta selatan")
    assert details.text == shown(bot.texts.incidents.FLOW_ASK_REKAP)
    confirm = await kpu.say(made, "90/120 sirekap 40")
    assert "Bali › Badung › Kuta Selatan" in confirm.text
    await made.press(confirm, "lp1:ok")
    receipt = await kpu.emu.next_edit(kpu.dm(made))
    assert receipt.text == await kpu.receipt(receipt_id(receipt))
    assert "Kuta Selatan" in receipt.text and "90 dari 120 TPS" in receipt.text


async def test_guided_flow_own_region_button_for_incidents(kpu, made):
    menu = await kpu.say(made, "/lapor")
    await made.press(menu, "lp1:k:insiden")
    ask = await kpu.emu.next_edit(kpu.dm(made))
    [[(label, data)], _cancel] = ask.buttons
    assert label == "Kabupaten Badung"
    await made.press(ask, data)
    severity = await kpu.emu.next_edit(kpu.dm(made))
    await made.press(severity, "lp1:s:tinggi")
    await kpu.emu.next_edit(kpu.dm(made))
    confirm = await kpu.say(made, "jalan ke gudang longsor")
    await made.press(confirm, "lp1:ok")
    receipt = await kpu.emu.next_edit(kpu.dm(made))
    assert receipt.text == await kpu.receipt(receipt_id(receipt))
    assert "Wilayah: Bali › Badung\n" in receipt.text and "tinggi" in receipt.text


async def test_reports_are_not_taken_in_an_unregistered_group(kpu, wayan):
    group = await kpu.group("Grup Keluarga", wayan)
    answer = await kpu.say(wayan, "/lapor insiden tinggi jembatan putus", group)
    assert answer.text == shown(bot.texts.incidents.FLOW_GROUP_NOT_REGISTERED)
    [[(_, url)]] = answer.buttons
    assert url.endswith("?start=lapor")
    assert await count(kpu) == 0


async def test_one_chat_in_order_while_another_chat_is_answered(kpu, wayan, monkeypatch):
    """Updates of different chats are processed at once, those of one chat in order: Ketut is
    answered while Wayan's first report waits, then Wayan's burst is answered in sending order."""
    from bot.services import reporting

    ketut = await kpu.register(kpu.emu.user(300, "Ketut"), "petugas", "51.03.02")
    held, release = asyncio.Event(), asyncio.Event()
    submit = reporting.submit_text

    async def slow_for_wayan(rt, actor, args, source):
        if actor.telegram_id == wayan.id and "tahan" in args:
            held.set()
            await release.wait()
        return await submit(rt, actor, args, source)

    monkeypatch.setattr(reporting, "submit_text", slow_for_wayan)
    answered_before = len(kpu.emu.bot_messages(kpu.dm(wayan)))
    await wayan.send(kpu.bot, "/lapor insiden rendah tahan dulu")
    for n in range(1, 6):
        await wayan.send(kpu.bot, f"/lapor rekap {n}/205")
    try:
        await asyncio.wait_for(held.wait(), 5)
        answer = await kpu.say(ketut, "/lapor rekap 90/120")
        assert "90 dari 120 TPS" in answer.text
        assert len(kpu.emu.bot_messages(kpu.dm(wayan))) == answered_before  # Wayan's chat waits its turn
    finally:
        release.set()
    assert "tahan dulu" in (await kpu.next(wayan)).text
    # the burst's receipts waited together: they may come as one message naming them all (a line
    # per report, each with the figure it was sent with; they all update the same incident)
    confirmed: list[int] = []
    while len(confirmed) < 5:
        text = (await kpu.next(wayan)).text
        assert bot.texts.incidents.receipt_incident_ids(text)
        confirmed += [int(n) for n in re.findall(r"(\d+)(?: dari |/)205 TPS", text)]
    assert confirmed == [1, 2, 3, 4, 5]  # in sending order


async def test_guided_flow_checks_the_imported_plan_before_kirim(kpu, wayan):
    """The confirm screen shows only what will be accepted: over twice the imported plan is
    refused at once and the figures are asked again, the flow goes on; the screen then shows
    the plan and the severity the report will get."""
    async with kpu.rt.db.transaction() as conn:
        await conn.execute("INSERT INTO logistics_plan VALUES ('51.03.01', 'tinta', 100, 't')")
    menu = await kpu.say(wayan, "/lapor")
    await wayan.press(menu, "lp1:k:logistik")
    items = await kpu.emu.next_edit(kpu.dm(wayan))
    await wayan.press(items, "lp1:i:tinta")
    await kpu.emu.next_edit(kpu.dm(wayan))
    refused = await kpu.say(wayan, "500")
    assert error("received_over_plan", token="500", bound="100") in refused.text and not refused.callback_data
    confirm = await kpu.say(wayan, "80")  # still in the flow: the figures again
    assert summary(LOGISTIK_PLANNED, label="Tinta", received="80", planned="100") in confirm.text
    assert summary(SEVERITY, severity="tinggi") in confirm.text
    await wayan.press(confirm, "lp1:ok")
    receipt = await kpu.emu.next_edit(kpu.dm(wayan))
    assert receipt.text == await kpu.receipt(receipt_id(receipt))
    assert "diterima 80 dari kebutuhan 100" in receipt.text
    assert await count(kpu) == 1


async def test_a_document_or_a_capitalised_caption_is_a_report_too(kpu, wayan):
    answer_doc = await wayan.send_document(
        kpu.bot,
        b"%PDF-1.4 berita acara serah terima",
        "ba.pdf",
        "application/pdf",
        caption="/lapor logistik segel 400/400",
    )
    receipt = await kpu.next(wayan)
    incident_id = receipt_id(receipt)
    assert receipt.text == await kpu.receipt(incident_id)
    assert "Segel: diterima 400 dari kebutuhan 400" in receipt.text and answer_doc.caption
    await wayan.send_photo(kpu.bot, png(), caption="/LAPOR insiden sedang tenda TPS roboh")
    second = await kpu.next(wayan)
    assert "tenda TPS roboh" in second.text
    second_id = receipt_id(second)
    assert [a.kind for a in await incident_store.attachments(kpu.rt.db, incident_id)] == ["dokumen"]
    assert [a.kind for a in await incident_store.attachments(kpu.rt.db, second_id)] == ["foto"]


async def test_a_photo_report_in_an_unregistered_group_points_to_the_private_chat(kpu, wayan):
    group = await kpu.group("Obrolan PPK", wayan)
    await wayan.send_photo(group, png(), caption="/lapor insiden tinggi atap bocor")
    answer = await kpu.next(group)
    assert answer.text == shown(bot.texts.incidents.FLOW_GROUP_NOT_REGISTERED) and answer.buttons
    assert answer.buttons[0][0][1].endswith("?start=lapor")
    assert await count(kpu) == 0


async def test_guided_data_flow_cancel_at_each_step_and_a_double_tap_on_kirim(kpu, made):
    """A coordinator's data report: kind, kecamatan typed, problem, count, confirm. /batal works at
    the region step and at the confirm step; two taps on Kirim make one incident."""
    for stop in ("region", "confirm", None):
        menu = await kpu.say(made, "/lapor")
        await made.press(menu, "lp1:k:data")
        ask_region = await kpu.emu.next_edit(kpu.dm(made))
        assert "wilayah" in ask_region.text.lower()
        if stop == "region":
            assert (await kpu.say(made, "/batal")).text == shown(bot.texts.incidents.FLOW_CANCELLED)
            continue
        problems = await kpu.say(made, "kuta_selatan")
        assert "lp1:p:ganda" in problems.callback_data
        await made.press(problems, "lp1:p:ganda")
        await kpu.emu.next_edit(kpu.dm(made))
        confirm = await kpu.say(made, "14 pemilih ganda di Desa Jimbaran")
        assert "Ganda: 14 orang" in confirm.text and "Kuta Selatan" in confirm.text
        if stop == "confirm":
            assert (await kpu.say(made, "/batal")).text == shown(bot.texts.incidents.FLOW_CANCELLED)
            continue
        first = await made.press(confirm, "lp1:ok")
        second = await made.press(confirm, "lp1:ok")  # before the bot edited the buttons away
        await first.answer()
        assert (await second.answer()).show_alert
        receipt = await kpu.emu.next_edit(kpu.dm(made))
        assert receipt.text == await kpu.receipt(receipt_id(receipt))
    rows = await kpu.rt.db.fetchall("SELECT kind, item, data_count, region_code FROM incidents")
    assert [tuple(r) for r in rows] == [("data", "ganda", 14, "51.03.05")]


async def test_the_same_message_in_a_new_update_makes_no_second_incident(kpu, wayan):
    """Telegram may deliver one message again under a new update_id: the (chat, message) key holds."""
    first = await kpu.say(wayan, "/lapor rekap 100/205")
    record = [r for r in kpu.emu.update_log(kpu.bot) if r.kind == "message"][-1]
    payload = record.json()
    payload["update_id"] += 1000
    await kpu.app.process_update(Update.de_json(payload, kpu.app.bot))
    again = await kpu.next(wayan)
    assert again.text == await kpu.receipt(receipt_id(first), duplicate=True)
    assert await count(kpu) == 1


async def test_a_nik_someone_else_wrote_is_masked_in_the_reporters_own_chat(kpu, wayan, made):
    receipt = await kpu.say(wayan, f"/lapor data tms 1 NIK {NIK_BALI} meninggal")
    incident_id = receipt_id(receipt)
    await kpu.say(made, f"/catatan {incident_id} dicocokkan dengan NIK {NIK_JABAR} di Dukcapil")
    [status] = [await kpu.say(wayan, f"/status {incident_id}")]
    assert NIK_BALI in status.text  # Wayan's own words, in Wayan's own chat
    assert NIK_JABAR not in status.text and "3201**********02" in status.text
