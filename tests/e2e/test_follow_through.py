"""Follow-through end to end (issue 13): a taken incident nobody updates is chased, a wrong report is
rejected out of every figure and can be reopened, every card of an open incident keeps its buttons,
a petugas cannot escalate routine progress, /insiden names labels and figures."""

from datetime import timedelta

import pytest

import bot.texts.digest
import bot.texts.incidents as ti
from bot.domain.access import Reason
from bot.domain.digest import sections_for
from bot.texts.common import REFUSAL
from bot.texts.formatting import date_time
from storage import incidents as incident_store
from storage import regions as region_store
from tests.e2e.conftest import shown

BUTTONS = [ti.BUTTON_TAKE, ti.BUTTON_ESCALATE, ti.BUTTON_RESOLVE]


def labels(message) -> list[str]:
    return [text for row in message.buttons for text, _ in row]


def done(move: str, **values) -> str:
    return shown(ti.MOVE_DONE[move]).format(**values)


def refused(why: str, **values) -> str:
    return shown(ti.MOVE_REFUSED[why]).format(**values)


async def actions_of(kpu, incident_id: int) -> list[str]:
    return [e.action for e in await incident_store.events(kpu.rt.db, incident_id)]


async def run_follow_up_job(kpu) -> None:
    """One run of the repeating job that escalates untaken incidents and chases taken ones."""
    [job] = [j for j in kpu.app.job_queue.jobs() if j.name == "eskalasi_otomatis"]
    await job.run(kpu.app)
    await kpu.notifier.drain()


@pytest.fixture
async def badung(kpu):
    made, komang = await kpu.person("made"), await kpu.person("komang")
    wayan = await kpu.person("wayan")
    chat = await kpu.coordination_group("KPU Badung", "51.03", komang, made, wayan)
    return {"chat": chat, "made": made, "komang": komang, "wayan": wayan}


# --- 1. reminders of taken incidents ------------------------------------------------------------------


async def test_a_taken_kritis_without_update_is_reminded_then_flagged_and_a_note_resets_it(kpu, badung, clock):
    made, wayan, chat = badung["made"], badung["wayan"], badung["chat"]
    minutes = kpu.settings.REMIND_TAKEN_MIN
    receipt = await kpu.say(wayan, "/lapor insiden kritis gudang logistik PPK Kuta tergenang banjir")
    incident_id = ti.receipt_incident_id(receipt.text)
    await kpu.next(chat)
    assert (await kpu.say(made, f"/tangani {incident_id}")).text == done("tangani", id=incident_id)
    await kpu.emu.next_edit(chat)
    taken_at = clock()

    clock.advance(minutes=minutes - 1)
    await run_follow_up_job(kpu)
    assert "pengingat" not in await actions_of(kpu, incident_id)

    clock.advance(minutes=1)  # REMIND_TAKEN_MIN without an update: a private reminder
    await run_follow_up_job(kpu)
    incident = await incident_store.get(kpu.rt.db, incident_id)
    path = await region_store.path(kpu.rt.db, incident.region_code)
    reminder = await kpu.next(made)
    assert reminder.text == shown(ti.reminder(incident, path, minutes))
    assert (await actions_of(kpu, incident_id))[-1] == "pengingat"
    await run_follow_up_job(kpu)  # once per period, however often the job runs
    assert (await actions_of(kpu, incident_id)).count("pengingat") == 1

    clock.advance(minutes=minutes)  # twice REMIND_TAKEN_MIN: the group card says so
    await run_follow_up_job(kpu)
    flagged = await kpu.emu.next_edit(chat)
    stale = shown(ti.CARD_STALE.format(since=date_time(taken_at, kpu.settings.tz)))
    assert stale in flagged.text and labels(flagged) == BUTTONS
    assert (await actions_of(kpu, incident_id))[-2:] == ["pengingat", "belum_diperbarui"]
    await run_follow_up_job(kpu)
    assert (await actions_of(kpu, incident_id)).count("belum_diperbarui") == 1

    # a note resets the clock: the card loses the flag, and the next reminder is a period later
    assert (await kpu.say(made, f"/catatan {incident_id} pompa air sudah dikirim")).text == done(
        "catatan", id=incident_id
    )
    note_card = await kpu.emu.next_edit(chat)
    assert stale not in note_card.text
    clock.advance(minutes=minutes - 1)
    await run_follow_up_job(kpu)
    assert (await actions_of(kpu, incident_id))[-1] == "catatan"
    clock.advance(minutes=1)
    await run_follow_up_job(kpu)
    assert (await kpu.next(made)).text == shown(ti.reminder(incident, path, minutes))
    history = await kpu.say(made, f"/status {incident_id}")
    assert shown(ti.REMINDER_TAIL.format(minutes=minutes)) in history.text
    assert shown(ti.REMINDER_TAIL.format(minutes=2 * minutes)) in history.text


async def test_reminders_survive_a_restart_without_repeating(kpu, badung, clock):
    made, wayan, chat = badung["made"], badung["wayan"], badung["chat"]
    incident_id = ti.receipt_incident_id((await kpu.say(wayan, "/lapor insiden kritis kotak suara hilang")).text)
    await kpu.next(chat)
    await kpu.say(made, f"/tangani {incident_id}")
    await kpu.stop()
    clock.advance(minutes=kpu.settings.REMIND_TAKEN_MIN + 5)  # the bot was down when it was due
    await kpu.start()
    for _ in range(2):
        await run_follow_up_job(kpu)
        await kpu.restart()
    await kpu.settled(made)
    assert (await actions_of(kpu, incident_id)).count("pengingat") == 1
    reminders = [m for m in kpu.emu.bot_messages(kpu.dm(made)) if (m.text or "").startswith("⏰")]
    assert len(reminders) == 1


# --- 2. /tolak and /buka ------------------------------------------------------------------------------


async def digest_text(kpu, who) -> str:
    """`who`'s private /ringkasan (H-2: logistics and incidents), its charts taken off the chat too."""
    text = (await kpu.say(who, "/ringkasan")).text
    for _ in sections_for(-2):  # one chart per section
        assert (await kpu.next(who, timeout=30)).photo_bytes
    return text


async def test_tolak_takes_a_misread_report_out_of_the_figures_and_buka_brings_it_back(kpu, badung, clock):
    made, komang, wayan, chat = badung["made"], badung["komang"], badung["wayan"], badung["chat"]
    nyoman = await kpu.person("nyoman")
    complete = await kpu.say(wayan, "/lapor logistik kotak suara 1025/1025")
    first_id = ti.receipt_incident_id(complete.text)
    assert shown(ti.RECEIPT_CLOSED_FIRST.format(id=first_id)) in complete.text
    clock.advance(minutes=20)
    misread = await kpu.say(wayan, "/lapor logistik kotak suara 1025/1025 rusak 300")  # it was 3
    wrong_id = ti.receipt_incident_id(misread.text)
    assert wrong_id != first_id
    card = await kpu.next(chat)
    assert card.text.startswith(f"🟠 #{wrong_id} ") and labels(card) == BUTTONS

    damaged = shown(bot.texts.digest.LOGISTIK_DAMAGED.format(n="300"))
    before = await digest_text(kpu, made)
    assert damaged in before
    assert shown(bot.texts.digest.INSIDEN_OPEN_NOW.format(open=1)) in before

    # refusals: a petugas has no right, a reason is required, a number must exist
    assert (await kpu.say(wayan, f"/tolak {wrong_id} salah")).text == shown(REFUSAL[Reason.ROLE])
    assert (await kpu.say(made, f"/tolak {wrong_id}")).text == refused("reason_required", id=wrong_id)
    assert (await kpu.say(made, "/tolak")).text == shown(ti.LIFECYCLE_USAGE["tolak"])
    assert (await kpu.say(made, f"/buka {wrong_id}")).text == refused("not_closed", id=wrong_id)

    answer = await kpu.say(made, f"/tolak {wrong_id} salah ketik, rusak hanya 3")
    assert answer.text == done("tolak", id=wrong_id)
    rejected_card = await kpu.emu.next_edit(chat)
    assert shown(ti.CARD_REJECTED.format(id=wrong_id)) in rejected_card.text
    assert "ditolak oleh Made" in rejected_card.text and rejected_card.buttons == []
    told = await kpu.next(wayan)
    assert told.text == shown(ti.rejected_to_reporter(wrong_id, "Made", "salah ketik, rusak hanya 3"))
    assert (await kpu.say(made, f"/tolak {wrong_id} lagi")).text == refused("already_rejected", id=wrong_id)
    assert (await kpu.say(made, f"/tangani {wrong_id}")).text == refused("already_rejected", id=wrong_id)

    # the next digest (a region's digest is computed at most once a minute): the previous figure is
    # current again, nothing open, the rejection named apart
    clock.advance(minutes=1)
    after = await digest_text(kpu, komang)
    assert damaged not in after
    item = bot.texts.digest.LOGISTIK_ITEM.format(label="Kotak suara", received="1.025", planned="1.025", share="100,0%")
    assert shown(item) in after
    assert shown(bot.texts.digest.LOGISTIK_READY.format(ready=1, total=1)) in after
    assert shown(bot.texts.digest.INSIDEN_OPEN_NOW.format(open=0)) in after
    assert shown(bot.texts.digest.INSIDEN_REJECTED.format(rejected=1)) in after
    state = await kpu.rt.db.fetchone(
        "SELECT received, damaged, incident_id FROM logistics_state WHERE region_code = '51.03.01'"
    )
    assert tuple(state) == (1025, 0, first_id)
    audit = await kpu.rt.db.fetchall("SELECT actor_id, action, target FROM audit_log WHERE action IN ('tolak', 'buka')")
    assert [tuple(r) for r in audit] == [(made.id, "tolak", f"#{wrong_id}")]

    # reopened: counted again, its card gets its buttons back, the reporter is told
    assert (await kpu.say(made, f"/buka {wrong_id} ternyata memang 300 rusak")).text == done("buka", id=wrong_id)
    reopened = await kpu.emu.next_edit(chat)
    assert labels(reopened) == BUTTONS and shown(ti.CARD_REJECTED.format(id=wrong_id)) not in reopened.text
    assert (await kpu.next(wayan)).text == shown(ti.reopened_to_reporter(wrong_id, "Made", "ternyata memang 300 rusak"))
    state = await kpu.rt.db.fetchone("SELECT damaged, incident_id FROM logistics_state WHERE region_code = '51.03.01'")
    assert tuple(state) == (300, wrong_id)
    clock.advance(minutes=1)
    assert shown(bot.texts.digest.INSIDEN_OPEN_NOW.format(open=1)) in await digest_text(kpu, nyoman)
    assert (await actions_of(kpu, wrong_id))[-2:] == ["tolak", "buka"]
    history = await kpu.say(made, f"/status {wrong_id}")
    assert "Made menolak: salah ketik, rusak hanya 3" in history.text
    assert "Made membuka kembali: ternyata memang 300 rusak" in history.text


async def test_a_rejected_count_gives_way_to_the_next_report(kpu, badung, clock):
    made, wayan = badung["made"], badung["wayan"]
    clock.now = clock.now + timedelta(days=2)  # H: penghitungan
    first = ti.receipt_incident_id((await kpu.say(wayan, "/lapor hitung 20/205")).text)
    assert (await kpu.say(made, f"/tolak {first} uji coba")).text == done("tolak", id=first)
    assert await kpu.rt.db.fetchone("SELECT * FROM counting_state") is None  # as if never reported
    assert (await kpu.next(wayan)).text == shown(ti.rejected_to_reporter(first, "Made", "uji coba"))
    # the kecamatan is free again: the next report opens a new incident, and the same figures are no repeat
    again = await kpu.say(wayan, "/lapor hitung 20/205")
    second = ti.receipt_incident_id(again.text)
    assert second != first
    state = await kpu.rt.db.fetchone("SELECT tps_done, incident_id FROM counting_state")
    assert tuple(state) == (20, second)
    # a reopening that would make two open incidents of the kecamatan is refused, naming the other
    assert (await kpu.say(made, f"/buka {first}")).text == refused("state_open", id=first, other=second)


async def test_buka_reopens_a_resolved_incident_with_its_buttons(kpu, badung):
    made, wayan, chat = badung["made"], badung["wayan"], badung["chat"]
    incident_id = ti.receipt_incident_id((await kpu.say(wayan, "/lapor insiden tinggi genset mati")).text)
    await kpu.next(chat)
    await kpu.say(made, f"/selesai {incident_id} genset diganti")
    resolved = await kpu.emu.next_edit(chat)
    assert resolved.buttons == []
    await kpu.next(wayan)  # told it was resolved
    assert (await kpu.say(wayan, f"/buka {incident_id}")).text == shown(REFUSAL[Reason.ROLE])
    assert (await kpu.say(made, f"/buka {incident_id} genset pengganti rusak juga")).text == done(
        "buka", id=incident_id
    )
    card = await kpu.emu.next_edit(chat)
    assert labels(card) == BUTTONS and "Status: baru" in card.text
    incident = await incident_store.get(kpu.rt.db, incident_id)
    assert incident.status.value == "baru" and incident.resolved_at is None and incident.awaiting_since is not None


# --- 3. buttons on every card; progress is not escalated ------------------------------------------------


async def test_after_an_automatic_escalation_both_cards_have_working_buttons(kpu_factory, clock):
    kpu = await kpu_factory(AUTO_ESCALATE_KRITIS_MIN=1)
    wayan, made, komang, nyoman = [await kpu.person(n) for n in ("wayan", "made", "komang", "nyoman")]
    badung = await kpu.coordination_group("KPU Badung", "51.03", komang, made)
    bali = await kpu.coordination_group("KPU Bali", "51", nyoman)
    incident_id = ti.receipt_incident_id((await kpu.say(wayan, "/lapor insiden kritis kotak suara hilang")).text)
    await kpu.next(badung)
    clock.advance(minutes=1)
    await run_follow_up_job(kpu)
    upper = await kpu.next(bali)
    lower = await kpu.emu.next_edit(badung)
    assert "Dieskalasi ke KPU Provinsi Bali" in lower.text
    assert labels(upper) == BUTTONS and labels(lower) == BUTTONS
    # the kabupaten's coordinator takes it from the kabupaten's card
    answer = await (await made.press(lower, f"i1:t:{incident_id}")).answer()
    assert not answer.show_alert and answer.text == done("tangani", id=incident_id)
    for chat in (badung, bali):
        edited = await kpu.emu.next_edit(chat)
        assert "sedang ditangani oleh Made" in edited.text and labels(edited) == BUTTONS
    # and the province resolves it from its card
    answer = await (await nyoman.press(upper, f"i1:s:{incident_id}")).answer()
    assert answer.text == done("selesai", id=incident_id)
    for chat in (badung, bali):
        assert (await kpu.emu.next_edit(chat)).buttons == []


async def test_a_petugas_cannot_escalate_a_progress_report(kpu, badung, clock):
    made, wayan = badung["made"], badung["wayan"]
    clock.now = clock.now + timedelta(days=2)  # H
    incident_id = ti.receipt_incident_id((await kpu.say(wayan, "/lapor hitung 180/205 sirekap 150")).text)
    assert (await kpu.say(wayan, f"/eskalasi {incident_id} tolong")).text == refused("progress", id=incident_id)
    assert await actions_of(kpu, incident_id) == ["lapor"]
    # a problem reported as an insiden still goes up
    problem = ti.receipt_incident_id((await kpu.say(wayan, "/lapor insiden rendah sirekap lambat")).text)
    assert (await kpu.say(wayan, f"/eskalasi {problem}")).text.startswith("⬆️")
    # a coordinator still may, knowing why
    assert (await kpu.say(made, f"/eskalasi {incident_id} perlu perhatian provinsi")).text.startswith("⬆️")


# --- 6. /insiden: labels and figures ----------------------------------------------------------------------


async def test_insiden_lists_labels_and_figures(kpu, badung):
    made, wayan = badung["made"], badung["wayan"]
    await kpu.say(wayan, "/lapor logistik kotak_suara 700/1025")
    listing = await kpu.say(made, "/insiden semua")
    assert "Kotak suara diterima 700/1.025" in listing.text and "kotak_suara" not in listing.text
    incident = (
        await incident_store.list_in_scope(
            kpu.rt.db, scope="51.03", reporter_id=None, kind=None, open_only=False, offset=0, limit=1
        )
    )[0][0]
    assert shown(ti.list_summary(incident)) in listing.text


async def test_more_taken_incidents_than_a_run_takes_are_all_chased(kpu, badung, clock):
    """A run looks at the longest waiting first, a limited number of them: the ones already flagged
    (nothing more to do until their next update) must not fill that number run after run, or the
    others are never reminded."""
    made, wayan = badung["made"], badung["wayan"]
    minutes = kpu.settings.REMIND_TAKEN_MIN
    ids = []
    for n in range(3):
        receipt = await kpu.say(wayan, f"/lapor insiden kritis genset TPS {n} terbakar")
        ids.append(ti.receipt_incident_id(receipt.text))
        await kpu.say(made, f"/tangani {ids[-1]}")
        clock.advance(minutes=1)  # the first taken waits longest
    clock.advance(minutes=2 * minutes)
    first = await incident_store.taken_without_update(kpu.rt.db, since_before=clock(), limit=2)
    assert [w.incident.id for w in first] == ids[:2]
    for _ in range(2):  # reminded, then flagged
        for waiting in first:
            await incident_store.apply_change(
                kpu.rt.db,
                waiting.incident.id,
                expect_status=("ditangani",),
                expect_handling=None,
                changes={},
                actor_id=None,
                action="pengingat" if _ == 0 else "belum_diperbarui",
                at=clock(),
            )
    later = await incident_store.taken_without_update(kpu.rt.db, since_before=clock(), limit=2)
    assert [w.incident.id for w in later] == [ids[2]]
    await run_follow_up_job(kpu)  # the job, with its own limit, gets to the third as well
    assert "pengingat" in await actions_of(kpu, ids[2])


async def test_a_nik_in_a_coordinators_note_is_masked_in_the_reporters_notice(kpu, badung):
    """The reporter is told of a resolution, rejection or reopening with the coordinator's note;
    a NIK in that note is the coordinator's writing, readable only in the coordinator's own chat
    (the fuzz test found one in clear: the notice was treated as the reporter's own text)."""
    from bot.domain.privacy import find_niks, mask_niks

    made, wayan, chat = badung["made"], badung["wayan"], badung["chat"]
    nik = "5103 0112 3456 0001"
    first = ti.receipt_incident_id((await kpu.say(wayan, "/lapor insiden kritis kotak suara hilang")).text)
    await kpu.next(chat)
    await kpu.say(made, f"/selesai {first} pemilik NIK {nik} sudah dihubungi")
    resolved = await kpu.next(wayan)
    assert resolved.text == shown(
        ti.resolved_to_reporter(first, "Made", mask_niks(f"pemilik NIK {nik} sudah dihubungi"))
    )
    second = ti.receipt_incident_id((await kpu.say(wayan, "/lapor insiden tinggi segel rusak di TPS 3")).text)
    await kpu.next(chat)
    await kpu.say(made, f"/tolak {second} laporan ganda dari NIK {nik}")
    rejected = await kpu.next(wayan)
    assert find_niks(rejected.text) == [] and mask_niks(nik) in rejected.text
    await kpu.say(made, f"/buka {second} NIK {nik} benar")
    reopened = await kpu.next(wayan)
    assert find_niks(reopened.text) == [] and mask_niks(nik) in reopened.text
