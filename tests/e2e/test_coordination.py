"""Coordination end to end: groups, routing to the nearest group, buttons and commands with their
rights, edits, escalation with history, resolution fan-out, automatic escalation, delivery retries."""

import asyncio

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

import bot.texts.common
import bot.texts.groups
import bot.texts.incidents
import bot.texts.messages
from bot.domain.access import Reason
from bot.domain.privacy import mask_niks
from bot.emulator import parse_html
from bot.emulator.entities import utf16_len
from tests.e2e.conftest import shown


def refusal(reason: Reason) -> str:
    return shown(bot.texts.common.REFUSAL[reason])


def done(move: str) -> str:
    """The answer to a lifecycle move, as a template of `id` (and `to`) in the shown text."""
    return shown(bot.texts.incidents.MOVE_DONE[move])


def refused(why: str, **values) -> str:
    """A refused move as shown, filled with plain `values` (as an alert shows them)."""
    return shown(bot.texts.incidents.MOVE_REFUSED[why]).format(**values)


def registered(
    path_text: str, *, topic: bool = False, moved_from_chat: bool = False, previous_region: str | None = None
) -> str:
    return shown(bot.texts.groups.grup_registered(path_text, topic, moved_from_chat, previous_region))


async def outbox_counts(db) -> dict[str, int]:
    """Group notifications sent, pending and given up, read in SQL (the bot only asks for the due
    ones); receipts, which go through the outbox too, are not counted."""
    row = await db.fetchone(
        "SELECT sum(sent_at IS NOT NULL) AS sent, sum(sent_at IS NULL AND failed_at IS NULL) AS pending,"
        " sum(failed_at IS NOT NULL) AS failed FROM outbox WHERE purpose != 'tanda_terima'"
    )
    return {k: int(row[k] or 0) for k in ("sent", "pending", "failed")}


BUTTON_LABELS = [
    bot.texts.incidents.BUTTON_TAKE,
    bot.texts.incidents.BUTTON_ESCALATE,
    bot.texts.incidents.BUTTON_RESOLVE,
]


@pytest.fixture
async def groups(kpu, people):
    badung = await kpu.group("KPU Badung", people["made"], people["komang"], people["wayan"])
    bali = await kpu.group("KPU Bali", people["nyoman"], people["made"], forum=True)
    topic = bali.create_topic("Laporan")
    assert registered("Bali › Badung") in (await kpu.say(people["komang"], "/grup 51.03", badung)).text
    answer = await kpu.say(people["nyoman"], "/grup 51", bali, thread_id=topic)
    assert registered("Bali", topic=True) in answer.text and answer.thread_id == topic
    return {"badung": badung, "bali": bali, "topic": topic}


async def report_kritis(kpu, people, text="gudang logistik tergenang banjir"):
    receipt = await kpu.say(people["wayan"], f"/lapor insiden kritis {text}")
    return bot.texts.incidents.receipt_incident_id(receipt.text)


async def registered_region(kpu, chat):
    row = await kpu.rt.db.fetchone("SELECT region_code FROM groups WHERE chat_id = ?", (chat.id,))
    return row[0] if row else None


async def schedules_of(kpu, chat):
    rows = await kpu.rt.db.fetchall(
        "SELECT at_time, region_code FROM schedules WHERE chat_id = ? ORDER BY at_time", (chat.id,)
    )
    return [(r[0], r[1]) for r in rows]


def digest_jobs(kpu, chat):
    """The times of a chat's daily digest jobs in the JobQueue (named ringkasan:<chat>:<HH:MM>)."""
    prefix = f"ringkasan:{chat.id}:"
    return sorted(
        j.name[len(prefix) :]
        for j in kpu.app.job_queue.jobs()
        if j.name and j.name.startswith(prefix) and not j.removed
    )


async def test_group_registration_rights(kpu, people):
    group = await kpu.group("KPU Badung", people["made"], people["komang"], people["ketut"])
    assert (await kpu.say(people["made"], "/grup 51.03", group)).text == refusal(Reason.ROLE)
    assert (await kpu.say(people["komang"], "/grup 51.71", group)).text == refusal(Reason.SCOPE)
    assert (await kpu.say(people["komang"], "/grup 99.99", group)).text == shown(
        bot.texts.groups.grup_bad_region("99.99")
    )
    assert (await kpu.say(people["komang"], "/grup 51.03")).text == shown(bot.texts.groups.GRUP_GROUPS_ONLY)
    assert await registered_region(kpu, group) is None  # refusals changed nothing
    answer = await kpu.say(people["komang"], "/grup 51.03", group)
    assert "grup koordinasi <b>Bali › Badung</b>" in answer.html and "07:00" in answer.text
    assert registered("Bali › Badung") in answer.text
    assert await registered_region(kpu, group) == "51.03"


async def test_group_registration_by_a_komisioner_from_above_and_by_an_admin(kpu, people):
    badung = await kpu.group("KPU Badung", people["nyoman"])
    answer = await kpu.say(people["nyoman"], "/grup 51.03", badung)  # a province commissioner, for a regency
    assert registered("Bali › Badung") in answer.text
    denpasar = await kpu.group("KPU Denpasar", people["admin"])
    assert registered("Bali › Kota Denpasar") in (await kpu.say(people["admin"], "/grup 51.71", denpasar)).text
    assert (await registered_region(kpu, badung), await registered_region(kpu, denpasar)) == ("51.03", "51.71")


async def test_a_region_moved_to_another_group_stops_everything_in_the_old_one(kpu, people):
    old = await kpu.group("KPU Badung lama", people["komang"], people["made"])
    await kpu.say(people["komang"], "/grup 51.03", old)
    assert "06:30" in (await kpu.say(people["komang"], "/jadwal 06:30", old)).text
    new = await kpu.group("KPU Badung", people["komang"])
    answer = await kpu.say(people["komang"], "/grup 51.03", new)
    assert registered("Bali › Badung", moved_from_chat=True) in answer.text
    told = await kpu.next(old)  # one message in the old group says where the region went
    assert told.text == shown(bot.texts.groups.grup_moved_away("Bali › Badung", "KPU Badung"))
    assert await registered_region(kpu, old) is None
    assert await schedules_of(kpu, old) == [] and digest_jobs(kpu, old) == []
    assert await schedules_of(kpu, new) == [("07:00", "51.03")] and digest_jobs(kpu, new) == ["07:00"]
    # reports go to the new group only
    incident_id = await report_kritis(kpu, people)
    assert f"#{incident_id} " in (await kpu.next(new)).text
    await kpu.settled(people["wayan"])
    assert not any(f"#{incident_id} " in (m.text or "") for m in kpu.emu.bot_messages(old))


async def test_a_group_moved_to_another_region_takes_its_schedules_along(kpu, people):
    group = await kpu.group("KPU", people["admin"])
    denpasar = await kpu.group("KPU Denpasar", people["admin"])
    await kpu.say(people["admin"], "/grup 51.03", group)
    await kpu.say(people["admin"], "/jadwal 06:30,18:00", group)
    await kpu.say(people["admin"], "/grup 51.71", denpasar)
    answer = await kpu.say(people["admin"], "/grup 51.71", group)  # the same chat, another region (held by another)
    assert registered("Bali › Kota Denpasar", moved_from_chat=True, previous_region="Kabupaten Badung") in answer.text
    assert await registered_region(kpu, group) == "51.71"
    assert await schedules_of(kpu, group) == [("06:30", "51.71"), ("18:00", "51.71")]
    assert digest_jobs(kpu, group) == ["06:30", "18:00"]
    assert (await kpu.next(denpasar)).text == shown(bot.texts.groups.grup_moved_away("Bali › Kota Denpasar", "KPU"))
    assert await schedules_of(kpu, denpasar) == [] and digest_jobs(kpu, denpasar) == []


async def test_new_kritis_goes_to_the_nearest_group_with_buttons(kpu, people, groups):
    incident_id = await report_kritis(kpu, people)
    post = await kpu.next(groups["badung"])
    assert f"#{incident_id} Insiden — kritis" in post.text and "Bali › Badung › Kuta" in post.text
    assert [text for row in post.buttons for text, _ in row] == BUTTON_LABELS
    assert all(len(d.encode()) <= 64 for d in post.callback_data)
    # a sedang incident is not posted; the next post in the group is the next kritis one
    await kpu.say(people["wayan"], "/lapor insiden sedang lampu padam")
    second = await report_kritis(kpu, people, "atap roboh")
    assert f"#{second} " in (await kpu.next(groups["badung"])).text
    # only the nearest group: the province got none of them
    await kpu.settled(people["wayan"])
    assert not any("#" in (m.text or "") for m in kpu.emu.bot_messages(groups["bali"]))


async def test_nearest_group_up_the_tree(kpu, people):
    bali = await kpu.coordination_group("KPU Bali", "51", people["nyoman"])
    incident_id = await report_kritis(kpu, people)
    assert f"#{incident_id} " in (await kpu.next(bali)).text


async def test_buttons_check_rights_and_edit_the_post(kpu, people, groups):
    incident_id = await report_kritis(kpu, people)
    post = await kpu.next(groups["badung"])
    press = await people["wayan"].press(post, f"i1:t:{incident_id}")
    alert = await press.answer()
    assert alert.show_alert and alert.text == refusal(Reason.ROLE)
    stored = await kpu.rt.db.fetchone("SELECT status FROM incidents WHERE id = ?", (incident_id,))
    assert stored[0] == "baru"
    press = await people["made"].press(post, f"i1:t:{incident_id}")
    assert (await press.answer()).text == done("tangani").format(id=incident_id)
    edited = await kpu.emu.next_edit(groups["badung"])
    assert "sedang ditangani oleh Made" in edited.text and len(edited.buttons[0]) == 3
    press = await people["komang"].press(edited, f"i1:t:{incident_id}")
    answer = await press.answer()
    assert answer.show_alert and answer.text == refused("already_taken", id=incident_id, who="Made")


async def test_escalate_resolve_and_fan_out(kpu, people, groups):
    incident_id = await report_kritis(kpu, people)
    post = await kpu.next(groups["badung"])
    await (await people["made"].press(post, f"i1:t:{incident_id}")).answer()
    await kpu.emu.next_edit(groups["badung"])
    assert (await kpu.say(people["made"], f"/eskalasi {incident_id} pompa tidak cukup", groups["badung"])).text == done(
        "eskalasi"
    ).format(id=incident_id, to="KPU Provinsi Bali")
    upper = await kpu.next(groups["bali"], thread_id=groups["topic"])
    assert f"#{incident_id} " in upper.text and "mengeskalasi ke KPU Provinsi Bali: pompa tidak cukup" in upper.text
    assert "Eskalasi ke-1" in upper.text and len(upper.buttons[0]) == 3
    old = await kpu.emu.next_edit(groups["badung"])
    # the lower group's card keeps its buttons while the incident is open
    assert "Dieskalasi ke KPU Provinsi Bali" in old.text and len(old.buttons[0]) == 3
    # the province resolves it by button
    press = await people["nyoman"].press(upper, f"i1:s:{incident_id}")
    assert (await press.answer()).text == done("selesai").format(id=incident_id)
    for chat in (groups["badung"], groups["bali"]):
        notice = await kpu.next(chat)
        assert notice.text == shown(bot.texts.incidents.resolved_notice(incident_id, "Nyoman", ""))
    private = await kpu.next(people["wayan"])
    assert private.text == shown(bot.texts.incidents.resolved_to_reporter(incident_id, "Nyoman", ""))
    history = await kpu.say(people["made"], f"/status {incident_id}")
    for line in (
        "Wayan melapor",
        "Made menangani",
        "Made mengeskalasi ke KPU Provinsi Bali: pompa tidak cukup",
        "Nyoman menyelesaikan",
    ):
        assert line in history.text


ROLE, SCOPE = refusal(Reason.ROLE), refusal(Reason.SCOPE)
TAKEN, ESCALATED, RESOLVED, NOTED = done("tangani"), done("eskalasi"), done("selesai"), done("catatan")
NOTE_REQUIRED = shown(bot.texts.incidents.MOVE_REFUSED["note_required"])
USAGE = shown(bot.texts.incidents.LIFECYCLE_USAGE["tangani"])
NOT_FOUND = refused("not_found", id=9999)
HISTORY = "Riwayat"  # the heading of /status's history (a section title, not a sentence)


@pytest.mark.parametrize(
    ("who", "command", "expected"),
    [
        ("wayan", "/tangani {id}", ROLE),
        ("wayan", "/selesai {id}", ROLE),
        ("wayan", "/catatan {id} air naik", NOTED),
        ("wayan", "/eskalasi {id}", ESCALATED),
        ("ketut", "/tangani {id}", SCOPE),
        ("ketut", "/catatan {id} ikut pantau", SCOPE),
        ("made", "/tangani {id}", TAKEN),
        ("made", "/selesai {id} beres", RESOLVED),
        ("made", "/catatan {id}", NOTE_REQUIRED),
        ("made", "/tangani", USAGE),
        ("made", "/tangani 9999", NOT_FOUND),
        ("made", "/eskalasi {id}", ESCALATED),
        ("made", "/status {id}", HISTORY),
        ("wayan", "/status {id}", HISTORY),
        ("ketut", "/selesai {id}", SCOPE),
        ("ketut", "/eskalasi {id} tolong", SCOPE),
        ("ketut", "/status {id}", SCOPE),
        # komisioner of the region, of the province above it, of another regency
        ("komang", "/tangani {id}", TAKEN),
        ("komang", "/eskalasi {id}", ESCALATED),
        ("komang", "/selesai {id} beres", RESOLVED),
        ("komang", "/catatan {id} dipantau", NOTED),
        ("nyoman", "/tangani {id}", TAKEN),
        ("nyoman", "/selesai {id}", RESOLVED),
        ("nyoman", "/eskalasi {id}", ESCALATED),
        ("gede", "/tangani {id}", SCOPE),
        ("gede", "/eskalasi {id}", SCOPE),
        ("gede", "/selesai {id}", SCOPE),
        ("gede", "/catatan {id} lihat", SCOPE),
        ("gede", "/status {id}", SCOPE),
        # admin: everything, everywhere
        ("admin", "/tangani {id}", TAKEN),
        ("admin", "/eskalasi {id}", ESCALATED),
        ("admin", "/selesai {id} beres", RESOLVED),
        ("admin", "/catatan {id} dicek", NOTED),
        ("admin", "/status {id}", HISTORY),
    ],
)
async def test_commands_by_role_and_scope(kpu, people, groups, who, command, expected):
    incident_id = await report_kritis(kpu, people)
    answer = await kpu.say(people[who], command.format(id=incident_id))
    expected = expected.format(id=incident_id, to="KPU Provinsi Bali")  # the escalation goes to Bali's group
    if expected == HISTORY:  # /status: the incident and its history
        assert f"#{incident_id} " in answer.text and HISTORY in answer.text
    else:
        assert answer.text == expected
    events = await kpu.rt.db.fetchall("SELECT action FROM incident_events WHERE incident_id = ?", (incident_id,))
    if expected in (ROLE, SCOPE, NOTE_REQUIRED.format(id=incident_id)):  # a refusal changes nothing
        assert [e[0] for e in events] == ["lapor"]


async def test_petugas_cannot_touch_someone_elses_report(kpu, people, groups):
    incident_id = await report_kritis(kpu, people)
    putu = await kpu.person("putu")
    assert (await kpu.say(putu, f"/eskalasi {incident_id}")).text == refusal(Reason.NOT_OWN)
    assert (await kpu.say(putu, f"/catatan {incident_id} lihat")).text == refusal(Reason.NOT_OWN)


async def test_automatic_escalation(kpu_factory, clock):
    kpu = await kpu_factory(AUTO_ESCALATE_KRITIS_MIN=1)
    wayan = await kpu.person("wayan")
    komang = await kpu.person("komang")
    nyoman = await kpu.person("nyoman")
    badung = await kpu.coordination_group("KPU Badung", "51.03", komang)
    bali = await kpu.coordination_group("KPU Bali", "51", nyoman)
    receipt = await kpu.say(wayan, "/lapor insiden kritis kotak suara hilang")
    incident_id = bot.texts.incidents.receipt_incident_id(receipt.text)
    await kpu.next(badung)
    [job] = [j for j in kpu.app.job_queue.jobs() if j.name == "eskalasi_otomatis"]
    await job.run(kpu.app)  # before the minute: nothing
    clock.advance(minutes=1)
    await job.run(kpu.app)
    upper = await kpu.next(bali)
    note = bot.texts.incidents.AUTO_ESCALATION_NOTE.format(minutes=1)
    assert f"#{incident_id} " in upper.text and f"eskalasi otomatis ke KPU Provinsi Bali: {note}" in upper.text
    await kpu.restart()  # the state is in the database: a restart does not escalate again
    [job] = [j for j in kpu.app.job_queue.jobs() if j.name == "eskalasi_otomatis"]
    await job.run(kpu.app)
    events = await kpu.rt.db.fetchall("SELECT action FROM incident_events WHERE incident_id = ?", (incident_id,))
    assert [e[0] for e in events].count("eskalasi_otomatis") == 1


async def test_a_failed_notification_is_retried_and_delivered(kpu, people, groups, clock):
    kpu.emu.fail_next("sendMessage", error_code=502, description="Bad Gateway", chat_id=groups["badung"].id)
    incident_id = await report_kritis(kpu, people)
    await kpu.settled(people["wayan"])
    pending = await outbox_counts(kpu.rt.db)
    assert pending == {"sent": 0, "pending": 1, "failed": 0}
    clock.advance(seconds=6)
    assert await kpu.notifier.deliver_due() == 1
    assert f"#{incident_id} " in (await kpu.next(groups["badung"])).text
    assert (await outbox_counts(kpu.rt.db))["sent"] == 1


async def test_flood_control_retry_after_is_honoured(kpu_factory, clock):
    kpu = await kpu_factory(flood_retries=0)  # the outbox, not the limiter, waits out retry_after here
    komang = await kpu.person("komang")
    wayan = await kpu.person("wayan")
    badung = await kpu.coordination_group("KPU Badung", "51.03", komang)
    # short: the rate limiter also pauses the chat for it, in real time
    kpu.emu.fail_next("sendMessage", error_code=429, retry_after=3, chat_id=badung.id)
    await report_kritis(kpu, {"wayan": wayan})
    await kpu.settled(wayan)
    row = await kpu.rt.db.fetchone("SELECT attempts, last_error FROM outbox WHERE purpose = 'posting'")
    assert row["attempts"] == 1 and "Retry in 3 seconds" in row["last_error"]
    clock.advance(seconds=2)
    assert await kpu.notifier.deliver_due() == 0  # not before retry_after
    clock.advance(seconds=2)
    assert await kpu.notifier.deliver_due() == 1
    assert "#1 " in (await kpu.next(badung)).text


async def test_bot_removed_from_group_unregisters_it(kpu, people, groups):
    groups["badung"].remove_bot(kpu.bot, by=people["komang"])
    # added back: once it greets the group, the removal before it (same chat, in order) was handled
    groups["badung"].add_bot(kpu.bot, by=people["komang"])
    assert (await kpu.next(groups["badung"])).text == shown(bot.texts.groups.WELCOME_IN_GROUP)
    row = await kpu.rt.db.fetchone("SELECT count(*) FROM groups WHERE chat_id = ?", (groups["badung"].id,))
    assert row[0] == 0
    assert (await kpu.rt.db.fetchone("SELECT count(*) FROM schedules WHERE chat_id = ?", (groups["badung"].id,)))[
        0
    ] == 0


async def test_incident_list_pages(kpu, people):
    for n in range(12):
        await kpu.say(people["wayan"], f"/lapor data ganda {n + 1} daftar {n}")
    first = await kpu.say(people["made"], "/insiden data")
    assert "12 laporan, halaman 1/2" in first.text and "#12" in first.text and "#3 " in first.text
    assert [text for row in first.buttons for text, _ in row] == [bot.texts.incidents.PAGE_NEXT]
    await people["made"].press(first, first.callback_data[0])
    second = await kpu.emu.next_edit(kpu.dm(people["made"]))
    assert "halaman 2/2" in second.text and "#1 " in second.text
    own = await kpu.say(people["wayan"], "/insiden semua")
    assert "12 laporan" in own.text
    ketut_view = await kpu.say(people["ketut"], "/insiden")
    assert ketut_view.text.startswith(shown(bot.texts.incidents.incident_list([], 1, 1, 0, None, True, None)))
    assert (await kpu.say(people["made"], "/insiden gosip")).text == shown(bot.texts.incidents.INSIDEN_USAGE)


async def test_export_is_csv_for_excel_with_niks_masked(kpu, people):
    import csv
    import io

    await kpu.say(people["wayan"], "/lapor data nik_invalid 1 NIK 5103011234560001 salah ketik")
    await kpu.say(people["wayan"], "/lapor rekap 10/20")
    answer = await kpu.say(people["made"], "/ekspor 7")
    assert answer.document_name.endswith(".csv") and "2 laporan 7 hari terakhir" in answer.caption
    data = answer.document_bytes
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["jenis"] for r in rows] == ["Data pemilih", "Penghitungan suara"]
    assert rows[0]["uraian"] == "NIK 5103**********01 salah ketik" and rows[1]["tps_total"] == "20"
    assert "5103011234560001" not in data.decode("utf-8-sig")
    assert (await kpu.next(people["made"])).document_name.endswith(".xlsx")  # beside it: tests/e2e/test_excel.py
    assert (await kpu.say(people["wayan"], "/ekspor")).text == refusal(Reason.ROLE)
    assert (await kpu.say(people["made"], "/ekspor 365")).text == shown(bot.texts.incidents.EKSPOR_USAGE)
    outside = await kpu.say(people["ketut"], "/ekspor")
    assert "0 laporan" in outside.caption
    assert (await kpu.next(people["ketut"])).document_name.endswith(".xlsx")


async def test_bot_added_to_a_group_says_how_to_register_it(kpu, people):
    group = kpu.emu.group("Grup Baru", members=[people["komang"]], supergroup=True)
    group.add_bot(kpu.bot, by=people["komang"])
    welcome = await kpu.next(group)
    assert welcome.text == shown(bot.texts.groups.WELCOME_IN_GROUP)


# --- buttons ---------------------------------------------------------------------------------------


async def actions_of(kpu, incident_id):
    rows = await kpu.rt.db.fetchall(
        "SELECT action FROM incident_events WHERE incident_id = ? ORDER BY id", (incident_id,)
    )
    return [r[0] for r in rows]


async def test_buttons_from_outside_the_scope_or_without_the_right_change_nothing(kpu, people, groups):
    incident_id = await report_kritis(kpu, people)
    post = await kpu.next(groups["badung"])
    groups["badung"].add_member(people["ketut"])  # a Denpasar coordinator in Badung's group
    for action in "tes":
        alert = await (await people["ketut"].press(post, f"i1:{action}:{incident_id}")).answer()
        assert alert.show_alert and alert.text == refusal(Reason.SCOPE)
    alert = await (await people["wayan"].press(post, f"i1:s:{incident_id}")).answer()
    assert alert.show_alert and alert.text == refusal(Reason.ROLE)
    assert await actions_of(kpu, incident_id) == ["lapor"]
    await kpu.settled(people["made"])
    assert all(m.edit_date is None for m in kpu.emu.bot_messages(groups["badung"]))  # no post was edited


async def test_the_escalate_button_moves_the_post_up(kpu, people, groups):
    incident_id = await report_kritis(kpu, people)
    post = await kpu.next(groups["badung"])
    answer = await (await people["made"].press(post, f"i1:e:{incident_id}")).answer()
    assert not answer.show_alert and answer.text == done("eskalasi").format(id=incident_id, to="KPU Provinsi Bali")
    upper = await kpu.next(groups["bali"], thread_id=groups["topic"])
    assert f"#{incident_id} " in upper.text and "Made mengeskalasi ke KPU Provinsi Bali" in upper.text
    assert len(upper.buttons[0]) == 3
    old = await kpu.emu.next_edit(groups["badung"])
    # the lower group's card keeps its buttons while the incident is open
    assert "Dieskalasi ke KPU Provinsi Bali" in old.text and len(old.buttons[0]) == 3
    assert await actions_of(kpu, incident_id) == ["lapor", "eskalasi"]


async def test_old_or_invalid_button_data_is_answered_with_an_alert(kpu, people, groups):
    incident_id = await report_kritis(kpu, people)
    await kpu.next(groups["badung"])
    outdated = bot.texts.incidents.BUTTON_OUTDATED
    expected = {
        "i0:t:1": outdated,  # an older version's buttons
        "i1:x:1": outdated,
        "i1:t:abc": outdated,
        "i1:t:9999": refused("not_found", id=9999),
        "il1:*:o:2": outdated,  # an older /insiden list
        "il2:200:gosip:o:2": outdated,
    }
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(data, callback_data=data)] for data in expected])
    await kpu.app.bot.send_message(groups["badung"].id, "pesan dari versi lama", reply_markup=markup)
    old = await kpu.next(groups["badung"])
    for data, text in expected.items():
        alert = await (await people["made"].press(old, data)).answer()
        assert alert.show_alert and alert.text == text, data
    assert await actions_of(kpu, incident_id) == ["lapor"]


async def test_alerts_are_plain_text(kpu, people, groups):
    ayu = await kpu.register(kpu.emu.user(202, "Ayu & <Tim>"), "koordinator", "51.03")
    groups["badung"].add_member(ayu)
    incident_id = await report_kritis(kpu, people)
    post = await kpu.next(groups["badung"])
    await (await ayu.press(post, f"i1:t:{incident_id}")).answer()
    alert = await (await people["made"].press(post, f"i1:t:{incident_id}")).answer()
    assert alert.show_alert and alert.text == refused("already_taken", id=incident_id, who="Ayu & <Tim>")
    edited = await kpu.emu.next_edit(groups["badung"])
    assert "sedang ditangani oleh Ayu & <Tim>" in edited.text  # HTML in the card, shown as typed


async def test_the_escalation_answer_names_the_level_whose_group_received_it(kpu, people):
    kuta = await kpu.coordination_group("PPK Kuta", "51.03.01", people["komang"], people["made"])
    first = await report_kritis(kpu, people)
    await kpu.next(kuta)
    answer = await kpu.say(people["made"], f"/eskalasi {first}", kuta)
    no_group = shown(bot.texts.incidents.ESCALATED_NO_GROUP)
    assert answer.text == done("eskalasi").format(id=first, to="KPU Kabupaten Badung") + no_group
    bali = await kpu.coordination_group("KPU Bali", "51", people["nyoman"])
    second = await report_kritis(kpu, people, "atap roboh")
    await kpu.next(kuta)
    answer = await kpu.say(people["made"], f"/eskalasi {second}", kuta)  # Badung has no group: Bali gets it
    assert answer.text == done("eskalasi").format(id=second, to="KPU Provinsi Bali")
    assert f"#{second} " in (await kpu.next(bali)).text


# --- posts and their edits --------------------------------------------------------------------------


class HeldSends:
    """The bot the notifier sends with, except that a message to one chat waits until released —
    as a send waiting in the rate limiter (20 a minute per group) does."""

    def __init__(self, bot, chat_id: int) -> None:
        self._bot, self._chat_id = bot, chat_id
        self.waiting, self.release = asyncio.Event(), asyncio.Event()

    def __getattr__(self, name):
        return getattr(self._bot, name)

    async def send_message(self, chat_id, *args, **kwargs):
        if chat_id == self._chat_id and not self.release.is_set():
            self.waiting.set()
            await self.release.wait()
        return await self._bot.send_message(chat_id, *args, **kwargs)


async def test_a_change_while_the_post_is_on_its_way_is_edited_in(kpu, people, groups):
    held = HeldSends(kpu.notifier.bot, groups["badung"].id)
    kpu.notifier.bot = held
    incident_id = await report_kritis(kpu, people)
    await asyncio.wait_for(held.waiting.wait(), 5)  # the card is drawn; its message is not sent yet
    assert (await kpu.say(people["made"], f"/tangani {incident_id}")).text == done("tangani").format(id=incident_id)
    held.release.set()
    post = await kpu.next(groups["badung"])
    assert "Status: baru" in post.text  # drawn before the take
    edited = await kpu.emu.next_edit(groups["badung"])
    assert edited.message_id == post.message_id and "sedang ditangani oleh Made" in edited.text


async def test_long_notes_are_limited_and_every_notification_still_arrives(kpu_factory):
    kpu = await kpu_factory()
    emu = kpu.emu
    # the longest names Telegram allows (64 + 64 characters), some of them HTML-special
    wayan = await kpu.register(emu.user(100, "W" * 64, "Wijaya" * 10 + "Dhar"), "petugas", "51.03.01")
    made = await kpu.register(emu.user(200, "M" * 64, "&<" * 32), "koordinator", "51.03")
    nyoman = await kpu.register(emu.user(400, "N" * 64, "O" * 64), "komisioner", "51")
    komang = await kpu.person("komang")
    badung = await kpu.coordination_group("KPU Badung", "51.03", komang, made)
    bali = await kpu.coordination_group("KPU Bali", "51", nyoman)
    nik = "5103011234560001"
    description = (f"NIK {nik} " + "gudang & <logistik> tergenang banjir ") * 30
    receipt = await kpu.say(wayan, "/lapor insiden kritis " + description[:1000])
    incident_id = bot.texts.incidents.receipt_incident_id(receipt.text)
    await kpu.next(badung)

    def note(n, length=1000):  # a note of exactly `length` characters, with a NIK and HTML-special text
        return ((f"catatan {n}: NIK {nik} " + "air naik & <pompa> belum datang ") * 40)[: length - 1] + "."

    too_long = refused("note_too_long", id=incident_id, length="1.001", limit="1.000")
    assert (await kpu.say(made, f"/catatan {incident_id} {note(0, 1001)}", badung)).text == too_long
    assert (await kpu.say(made, f"/eskalasi {incident_id} {note(0, 1001)}", badung)).text == too_long
    assert (await kpu.say(made, f"/selesai {incident_id} {note(0, 1001)}", badung)).text == too_long
    assert await actions_of(kpu, incident_id) == ["lapor"]
    for n in range(1, 4):
        answer = await kpu.say(made, f"/catatan {incident_id} {note(n)}", badung)
        assert answer.text == done("catatan").format(id=incident_id)
    answer = await kpu.say(made, f"/eskalasi {incident_id} {note(4)}", badung)
    assert answer.text == done("eskalasi").format(id=incident_id, to="KPU Provinsi Bali")
    upper = await kpu.next(bali)
    assert f"#{incident_id} " in upper.text and "…" in upper.text and nik not in upper.text
    assert (await kpu.say(nyoman, f"/catatan {incident_id} {note(5)}", bali)).text == done("catatan").format(
        id=incident_id
    )
    edited = await kpu.emu.next_edit(bali)
    assert "catatan 5" in edited.text and f"(+1 lainnya — /status {incident_id})" in edited.text  # 4 of 5 shown
    assert (await kpu.say(nyoman, f"/selesai {incident_id} {note(6)}", bali)).text == done("selesai").format(
        id=incident_id
    )
    nyoman_name = "N" * 64 + " " + "O" * 64
    for chat in (badung, bali):
        notice = await kpu.next(chat)
        assert notice.text == mask_niks(shown(bot.texts.incidents.resolved_notice(incident_id, nyoman_name, note(6))))
        assert len(notice.text) < 600
    private = await kpu.next(wayan)  # the NIK is the one Wayan wrote: shown to him as typed
    assert private.text == shown(bot.texts.incidents.resolved_to_reporter(incident_id, nyoman_name, note(6)))
    await kpu.settled(wayan)
    assert (await outbox_counts(kpu.rt.db))["failed"] == 0
    for message in kpu.emu.bot_messages(badung) + kpu.emu.bot_messages(bali):
        assert utf16_len(message.text) < 4096


async def test_status_with_a_long_history_comes_in_several_messages(kpu, people):
    incident_id = await report_kritis(kpu, people)
    notes = [f"catatan ke-{n} " + "tim lapangan melaporkan air terus naik dan pompa belum tiba " * 16 for n in range(5)]
    for note in notes:
        answer = await kpu.say(people["made"], f"/catatan {incident_id} {note[:980]}")
        assert answer.text == done("catatan").format(id=incident_id)
    first = await kpu.say(people["made"], f"/status {incident_id}")
    second = await kpu.next(people["made"])
    assert f"#{incident_id} " in first.text and "Riwayat" in first.text
    assert shown("<b>Riwayat</b>" + bot.texts.messages.CONTINUED) in second.text
    both = first.text + second.text
    assert all(note[:980].strip() in both for note in notes)
    assert all(len(parse_html(m.html)[0]) < 4096 for m in (first, second))


async def test_the_card_points_to_status_for_older_history(kpu, people, groups):
    incident_id = await report_kritis(kpu, people)
    await kpu.next(groups["badung"])
    for n in range(5):
        await kpu.say(people["made"], f"/catatan {incident_id} langkah {n}", groups["badung"])
    await kpu.settled(people["made"])
    last = kpu.emu.messages(groups["badung"])
    card = [m for m in last if m.text and m.text.startswith("🔴")][-1]
    assert "langkah 4" in card.text and "langkah 0" not in card.text
    assert f"(+1 lainnya — /status {incident_id})" in card.text


# --- delivery ---------------------------------------------------------------------------------------


async def test_a_broken_row_is_retried_and_does_not_block_the_others(kpu, people, groups, clock, monkeypatch):
    from bot.telegram import outbox as notify

    real = notify.card_for

    async def broken(rt, incident, group_region):
        if incident.id == 1:
            raise RuntimeError("kartu rusak")
        return await real(rt, incident, group_region)

    monkeypatch.setattr(notify, "card_for", broken)
    first = await report_kritis(kpu, people)
    await kpu.settled(people["wayan"])
    second = await report_kritis(kpu, people, "atap roboh")
    assert f"#{second} " in (await kpu.next(groups["badung"])).text
    row = await kpu.rt.db.fetchone(
        "SELECT attempts, last_error, sent_at, failed_at FROM outbox WHERE incident_id = ? AND purpose = 'posting'",
        (first,),
    )
    assert row["attempts"] >= 1 and "RuntimeError: kartu rusak" in row["last_error"]
    assert row["sent_at"] is None and row["failed_at"] is None  # waiting for its retry
    monkeypatch.setattr(notify, "card_for", real)
    clock.advance(minutes=11)
    await kpu.notifier.deliver_due()  # (or the repeating outbox job, whichever comes first)
    assert f"#{first} " in (await kpu.next(groups["badung"])).text


async def test_a_deleted_topic_gets_its_posts_in_the_general_chat(kpu, people, groups):
    bali, topic = groups["bali"], groups["topic"]
    del bali.chat.topics[topic]  # someone deleted the forum topic the group was registered in
    incident_id = await report_kritis(kpu, people)
    await kpu.next(groups["badung"])
    await kpu.say(people["made"], f"/eskalasi {incident_id}", groups["badung"])
    upper = await kpu.next(bali)
    assert f"#{incident_id} " in upper.text and upper.thread_id is None and len(upper.buttons[0]) == 3
    await kpu.say(people["nyoman"], f"/selesai {incident_id}", bali)
    notice = await kpu.next(bali)
    assert notice.text == shown(bot.texts.incidents.resolved_notice(incident_id, "Nyoman", ""))
    assert notice.thread_id is None
    await kpu.settled(people["wayan"])
    assert (await outbox_counts(kpu.rt.db))["failed"] == 0


async def test_overdue_while_stopped_is_escalated_after_start_and_only_once(kpu, people, groups, clock):
    incident_id = await report_kritis(kpu, people)
    await kpu.next(groups["badung"])
    await kpu.stop()
    clock.advance(minutes=45)  # kritis: 30 minutes; the bot was down meanwhile
    await kpu.start()
    upper = await kpu.next(groups["bali"], timeout=20)  # the escalation job's first run after start
    assert f"#{incident_id} " in upper.text and "eskalasi otomatis ke KPU Provinsi Bali" in upper.text
    for _ in range(2):
        [job] = [j for j in kpu.app.job_queue.jobs() if j.name == "eskalasi_otomatis"]
        await job.run(kpu.app)
        await kpu.restart()
    await kpu.settled(people["wayan"])
    assert (await actions_of(kpu, incident_id)).count("eskalasi_otomatis") == 1
    posts = [m for m in kpu.emu.bot_messages(groups["bali"]) if f"#{incident_id} " in (m.text or "")]
    assert len(posts) == 1


# --- /insiden pages -----------------------------------------------------------------------------------


async def test_only_the_requester_turns_the_pages_of_a_list(kpu, people, groups):
    badung = groups["badung"]
    badung.add_member(people["ketut"])
    for n in range(12):
        await kpu.say(people["wayan"], f"/lapor data ganda {n + 1} daftar {n}")
    first = await kpu.say(people["made"], "/insiden data", badung)
    assert "12 laporan, halaman 1/2" in first.text
    [forward] = first.callback_data
    assert forward.startswith("il2:200:") and len(forward.encode()) <= 64
    alert = await (await people["ketut"].press(first, forward)).answer()
    assert alert.show_alert and alert.text == bot.texts.incidents.LIST_NOT_YOURS
    await kpu.settled(people["made"])
    [stored] = [m for m in kpu.emu.bot_messages(badung) if m.message_id == first.message_id]
    assert stored.edit_date is None and "halaman 1/2" in stored.text  # unchanged
    await (await people["made"].press(first, forward)).answer()
    second = await kpu.emu.next_edit(badung)
    assert "halaman 2/2" in second.text and [t for row in second.buttons for t, _ in row] == [
        bot.texts.incidents.PAGE_PREV
    ]
    await (await people["made"].press(second, second.callback_data[0])).answer()
    back = await kpu.emu.next_edit(badung)
    assert "halaman 1/2" in back.text and "#12" in back.text


async def test_open_incidents_leave_out_routine_progress_reports(kpu, people):
    """/insiden lists what needs handling, as the digest counts it: penghitungan or a complete
    delivery (closed at once) is progress, listed when asked for by kind or with 'semua'."""
    wayan, made = people["wayan"], people["made"]
    rekap = await kpu.say(wayan, "/lapor rekap 100/205")
    complete = await kpu.say(wayan, "/lapor logistik tinta 40/40")
    problem = await kpu.say(wayan, "/lapor insiden sedang genset PPK mati")
    ids = [bot.texts.incidents.receipt_incident_id(m.text) for m in (rekap, complete, problem)]
    listed = await kpu.say(made, "/insiden")
    assert f"#{ids[2]}" in listed.text and f"#{ids[0]}" not in listed.text and f"#{ids[1]}" not in listed.text
    left_out = shown(bot.texts.incidents.PROGRESS_LEFT_OUT)
    assert left_out in listed.text
    assert f"#{ids[0]}" in (await kpu.say(made, "/insiden hitung")).text
    every = await kpu.say(made, "/insiden semua")
    assert all(f"#{i}" in every.text for i in ids) and left_out not in every.text


def test_the_progress_rule_is_the_same_in_sql_and_python():
    import sqlite3

    from bot.domain.digest import is_progress
    from storage.incidents import PROGRESS_SQL

    conn = sqlite3.connect(":memory:")
    for kind in ("logistik", "data", "hitung", "rekap", "insiden"):
        for severity in ("rendah", "sedang", "tinggi", "kritis"):
            [(sql,)] = conn.execute(f"SELECT {PROGRESS_SQL} FROM (SELECT ? AS kind, ? AS severity)", (kind, severity))
            assert bool(sql) == is_progress(kind, severity), (kind, severity)
