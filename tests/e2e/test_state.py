"""Election-week state end to end (issue 11): a staged delivery is one incident that is updated in
place and closes itself; a shortfall becomes a problem only from the logistics deadline; counting
refuses totals above the imported number of TPS; a figure that goes down waits for Benar."""

from datetime import UTC, datetime

import pytest

import bot.texts.digest
import bot.texts.incidents
import bot.texts.reporting
from bot.services import baselines
from bot.services.digest import digest_now
from tests.e2e.conftest import shown

#: H = 14 February 2024; LOGISTICS_DEADLINE_DAYS = 2 (default): logistics due from H-2.
H = datetime(2024, 2, 14, 2, 0, tzinfo=UTC)  # 10:00 WITA


def day(offset: int) -> datetime:
    return H.replace(day=14 + offset) if offset >= -13 else H


async def open_logistics(db) -> int:
    return await db.fetchvalue("SELECT count(*) FROM incidents WHERE kind = 'logistik' AND status <> 'selesai'")


async def posts_in(kpu, chat) -> list:
    """The incident cards the bot posted to a group (its messages naming an incident)."""
    return [m for m in kpu.emu.messages(chat) if m.from_bot and "#" in (m.text or "")]


@pytest.fixture
async def story(kpu_factory, clock):
    clock.now = day(-7)
    kpu = await kpu_factory(AUTO_ESCALATE_TINGGI_MIN=120)
    wayan = await kpu.person("wayan")
    komang = await kpu.person("komang")
    nyoman = await kpu.person("nyoman")
    badung = await kpu.coordination_group("KPU Badung", "51.03", komang)
    bali = await kpu.coordination_group("KPU Bali", "51", nyoman)
    await baselines.import_plan(kpu.rt, b"kode_wilayah,barang,jumlah\n51.03.01,kotak_suara,1025\n", None)
    await baselines.import_tps(kpu.rt, b"kode_wilayah,jumlah_tps\n51.03.01,205\n", None)
    return kpu, wayan, nyoman, badung, bali


async def escalate_due(kpu) -> None:
    [job] = [j for j in kpu.app.job_queue.jobs() if j.name == "eskalasi_otomatis"]
    await job.run(kpu.app)


async def test_a_staged_delivery_is_one_incident_that_closes_itself(story, clock):
    kpu, wayan, nyoman, badung, bali = story
    first = await kpu.say(wayan, "/lapor logistik kotak suara 700")
    incident_id = bot.texts.incidents.receipt_incident_id(first.text)
    assert incident_id is not None and "1.025" in first.text  # the imported kebutuhan
    clock.now = day(-5)
    await escalate_due(kpu)
    second = await kpu.say(wayan, "/lapor logistik kotak suara 900")
    assert bot.texts.incidents.receipt_incident_id(second.text) == incident_id  # the receipt names it
    assert shown(bot.texts.incidents.RECEIPT_UPDATED.format(number=2, id=incident_id)) in second.text
    clock.now = day(-3)
    await escalate_due(kpu)
    third = await kpu.say(wayan, "/lapor logistik kotak suara 1.025")
    assert shown(bot.texts.incidents.RECEIPT_CLOSED.format(id=incident_id, number=3)) in third.text
    await kpu.settled(wayan)
    await escalate_due(kpu)
    db = kpu.rt.db
    assert await db.fetchvalue("SELECT count(*) FROM incidents WHERE kind = 'logistik'") == 1
    row = await db.fetchone("SELECT status, escalations, received FROM incidents WHERE id = ?", (incident_id,))
    assert (row["status"], row["escalations"], row["received"]) == ("selesai", 0, 1025)
    actions = [
        r[0] for r in await db.fetchall("SELECT action FROM incident_events WHERE incident_id = ?", (incident_id,))
    ]
    assert actions == ["lapor", "laporan", "laporan", "selesai_otomatis"]
    # tracked before the deadline: never posted, never escalated
    assert await db.fetchvalue("SELECT count(*) FROM outbox WHERE purpose = 'posting'") == 0
    assert await posts_in(kpu, badung) == [] and await posts_in(kpu, bali) == []
    assert await open_logistics(db) == 0
    # the H-3 digest: nothing open in logistics, the delivery not listed, Kuta counted as ready
    d = await digest_now(kpu.rt, "51")
    assert d.open.by_kind().get("logistik", 0) == 0 and d.kecamatan_ready == 1
    digest = await kpu.say(nyoman, "/ringkasan")
    assert f"#{incident_id} " not in digest.text
    assert shown(bot.texts.digest.LOGISTIK_READY.format(ready="1", total="1")) in digest.text


async def test_the_same_shortfall_past_the_deadline_is_tinggi_and_posted(story, clock):
    kpu, wayan, nyoman, badung, bali = story
    clock.now = day(-1)
    receipt = await kpu.say(wayan, "/lapor logistik kotak suara 700")
    incident_id = bot.texts.incidents.receipt_incident_id(receipt.text)
    row = await kpu.rt.db.fetchone("SELECT severity FROM incidents WHERE id = ?", (incident_id,))
    assert row["severity"] == "tinggi"
    post = await kpu.next(badung)
    assert f"#{incident_id} " in post.text
    # a later report edits that card instead of posting again, and completing closes it
    await kpu.say(wayan, "/lapor logistik kotak suara 1025")
    await kpu.settled(wayan)
    assert await kpu.rt.db.fetchvalue("SELECT count(*) FROM outbox WHERE purpose = 'posting'") == 1
    assert await kpu.rt.db.fetchvalue("SELECT count(*) FROM outbox WHERE purpose = 'edit'") >= 1
    assert await open_logistics(kpu.rt.db) == 0
    # the group is told the bot closed it, the report showing it complete: nobody "resolved" it
    # (it said "diselesaikan oleh koordinator")
    await kpu.settled(wayan)
    notices = [m.text for m in kpu.emu.bot_messages(badung, kpu.bot) if m.text and m.text.startswith("✅ Laporan")]
    assert notices == [shown(bot.texts.incidents.auto_resolved_notice(incident_id, "2"))]
    assert "lengkap, laporan ke-2" in notices[0] and "oleh" not in notices[0]


async def test_damage_is_a_problem_at_once(story, clock):
    kpu, wayan, nyoman, badung, bali = story
    receipt = await kpu.say(wayan, "/lapor logistik kotak suara 1025 rusak 5 penyok")
    incident_id = bot.texts.incidents.receipt_incident_id(receipt.text)
    assert f"#{incident_id} " in (await kpu.next(badung)).text
    replaced = await kpu.say(wayan, "/lapor logistik kotak suara 1025 rusak 0 sudah diganti")
    assert shown(bot.texts.incidents.RECEIPT_CLOSED.format(id=incident_id, number=2)) in replaced.text


async def test_counting_above_the_imported_tps_is_refused_naming_it(story):
    kpu, wayan, *_ = story
    answer = await kpu.say(wayan, "/lapor hitung 208/210")
    expected = bot.texts.reporting.ERRORS["tps_over_baseline"].format(token="208", bound="205")
    assert answer.text.startswith(shown(expected))
    assert await kpu.rt.db.fetchvalue("SELECT count(*) FROM incidents") == 0
    taken = await kpu.say(wayan, "/lapor hitung 180")  # the imported total
    assert "180 dari 205 TPS" in taken.text


async def test_a_count_that_goes_down_waits_for_benar(story, clock):
    kpu, wayan, *_ = story
    clock.now = H.replace(hour=12)
    await kpu.say(wayan, "/lapor hitung 180 sirekap 150")
    question = await kpu.say(wayan, "/lapor hitung 18")
    assert question.text.startswith(shown(bot.texts.reporting.HELD.split("\n")[0]))
    state = await kpu.rt.db.fetchone("SELECT tps_done FROM counting_state WHERE region_code = '51.03.01'")
    assert state["tps_done"] == 180  # not current before Benar
    await wayan.press_button(question, bot.texts.reporting.HELD_CONFIRM_BUTTON)
    edited = await kpu.emu.next_edit(kpu.dm(wayan))
    assert "18 dari 205 TPS" in edited.text
    state = await kpu.rt.db.fetchone("SELECT tps_done FROM counting_state WHERE region_code = '51.03.01'")
    assert state["tps_done"] == 18
    question = await kpu.say(wayan, "/lapor hitung 10")
    await wayan.press_button(question, bot.texts.reporting.HELD_CANCEL_BUTTON)
    assert (await kpu.emu.next_edit(kpu.dm(wayan))).text == shown(bot.texts.reporting.HELD_CANCELLED)
    state = await kpu.rt.db.fetchone("SELECT tps_done FROM counting_state WHERE region_code = '51.03.01'")
    assert state["tps_done"] == 18


async def test_the_h_plus_1_digest_lists_an_open_kritis_first(story, clock):
    kpu, wayan, nyoman, badung, bali = story
    clock.now = day(-1)
    shortfall = await kpu.say(wayan, "/lapor logistik kotak suara 700")  # tinggi, the older one
    clock.now = day(1)
    kritis = await kpu.say(wayan, "/lapor insiden kritis Sirekap gagal unggah di 60 TPS")
    await kpu.settled(wayan)
    digest = await kpu.say(nyoman, "/ringkasan")
    urgent = digest.text.split(shown(bot.texts.digest.INSIDEN_OLDEST), 1)[1].split("\n")[1:3]
    assert f"#{bot.texts.incidents.receipt_incident_id(kritis.text)} " in urgent[0] and "kritis" in urgent[0]
    assert f"#{bot.texts.incidents.receipt_incident_id(shortfall.text)} " in urgent[1] and "tinggi" in urgent[1]
    # from H+1 the rekapitulasi comes first, then penghitungan; logistics last
    order = [digest.text.index(shown(t)) for t in (bot.texts.digest.REKAP_TITLE, bot.texts.digest.HITUNG_TITLE)]
    assert order == sorted(order) and digest.text.index(shown(bot.texts.digest.HITUNG_TITLE)) < digest.text.index(
        shown(bot.texts.digest.LOGISTIK_TITLE)
    )


async def test_without_a_tps_baseline_the_total_is_needed(kpu_factory, clock):
    kpu = await kpu_factory()
    wayan = await kpu.person("wayan")
    answer = await kpu.say(wayan, "/lapor hitung 180")
    expected = bot.texts.reporting.ERRORS["missing_tps_total"].format(token="180", bound="")
    assert answer.text.startswith(shown(expected))
    assert await kpu.rt.db.fetchvalue("SELECT count(*) FROM incidents") == 0
