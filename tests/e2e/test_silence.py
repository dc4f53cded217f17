"""Counting silence chased by phase: from H until counting is complete, a kecamatan without a
counting report for COUNTING_SILENCE_MIN is listed in the digest under its own heading and its
petugas get one private reminder per period; before the logistics deadline, an item a kecamatan
has never reported is listed as such."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import bot.texts.broadcasts as tb
import bot.texts.digest as td
from bot.services import baselines
from bot.texts.formatting import duration
from storage import silence as silence_store
from tests.e2e.conftest import shown

WITA = ZoneInfo("Asia/Makassar")


def wita(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 2, day, hour, minute, tzinfo=WITA).astimezone(UTC)


async def run_job(kpu) -> None:
    [job] = [j for j in kpu.app.job_queue.jobs() if j.name == "penghitungan_sunyi"]
    await job.run(kpu.app)
    await kpu.notifier.drain()


async def digest_of(kpu, user, command: str = "/progres") -> str:
    """The text of a digest asked for privately (every part), its charts consumed."""
    texts = [(await kpu.say(user, command)).text]
    while (message := await kpu.next(user)).photo_bytes is None:
        texts.append(message.text)
    while True:  # the rest of an album
        try:
            await kpu.next(user, timeout=0.3)
        except AssertionError:
            return "\n".join(texts)


def reminders_to(kpu, user) -> list:
    return [m for m in kpu.emu.bot_messages(kpu.dm(user)) if m.text.startswith("⏰")]


async def test_a_silent_kecamatan_is_listed_and_its_petugas_reminded_once_per_period(kpu_factory, clock):
    kpu = await kpu_factory(COUNTING_SILENCE_MIN=180)
    kpu.emu.world.clock = lambda: clock.now.timestamp()  # the messages' own time follows the test's clock
    wayan, putu, made = await kpu.person("wayan"), await kpu.person("putu"), await kpu.person("made")
    await baselines.import_tps(kpu.rt, b"kode_wilayah,jumlah_tps\n51.03.01,205\n51.03.02,300\n", None)

    clock.now = wita(14, 12, 0)  # H, before the polls close: nothing is chased yet
    await run_job(kpu)
    assert "Tanpa laporan penghitungan" not in await digest_of(kpu, made)
    clock.now = wita(14, 14, 0)
    await kpu.say(wayan, "/lapor hitung 20/205 sirekap 5")

    clock.now = wita(14, 16, 1)  # 3 h after counting began: Kuta reported an hour ago, the others never
    await run_job(kpu)
    assert reminders_to(kpu, wayan) == []
    digest = await digest_of(kpu, made)
    period = duration(timedelta(minutes=180))
    assert shown(td.COUNTING_SILENT_TITLE.format(period=period, n=5, total=6)) in digest
    assert "Mengwi (Badung) — belum pernah melapor penghitungan" in digest and "• Kuta (" not in digest

    clock.now = wita(14, 17, 2)  # Kuta silent for 3 h since its report
    await run_job(kpu)
    last = datetime(2024, 2, 14, 14, 0, tzinfo=WITA)
    expected = shown(tb.counting_reminder("Kuta", last, timedelta(hours=3, minutes=2), WITA))
    assert [m.text for m in reminders_to(kpu, wayan)] == [expected]
    assert [m.text for m in reminders_to(kpu, putu)] == [expected]
    digest = await digest_of(kpu, made)
    assert shown(td.COUNTING_SILENT_TITLE.format(period=period, n=6, total=6)) in digest
    assert "• Kuta (Badung) — terakhir 14 Feb 14:00" in digest

    await run_job(kpu)  # the same period: no second reminder, not after a restart either
    await kpu.restart()
    kpu.emu.world.clock = lambda: clock.now.timestamp()
    clock.advance(minutes=90)
    await run_job(kpu)
    assert len(reminders_to(kpu, wayan)) == 1
    assert len(await silence_store.reminders(kpu.rt.db, "51.03.01")) == 1

    clock.now = wita(14, 20, 3)  # a whole period later, still silent: the next reminder
    await run_job(kpu)
    assert len(reminders_to(kpu, wayan)) == 2

    for reminder in reminders_to(kpu, wayan):  # read, so that the next message is the report's receipt
        assert (await kpu.next(wayan)).text == reminder.text
    receipt = await kpu.say(wayan, "/lapor hitung 205/205 sirekap 205")  # counting complete: no longer chased
    assert receipt.text.startswith("✅")  # stored before the clock moves on
    clock.now = wita(14, 23, 30)
    await run_job(kpu)
    assert len(reminders_to(kpu, wayan)) == 2
    digest = await digest_of(kpu, made)
    assert shown(td.COUNTING_SILENT_TITLE.format(period=period, n=5, total=6)) in digest
    assert "• Kuta (Badung) — terakhir" not in digest


async def test_night_reminders_only_where_counting_is_running(kpu_factory, clock):
    kpu = await kpu_factory(COUNTING_SILENCE_MIN=180)
    kpu.emu.world.clock = lambda: clock.now.timestamp()
    wayan = await kpu.person("wayan")  # Kuta: counting running
    mengwi = await kpu.register(kpu.emu.user(150, "Ayu"), "petugas", "51.03.02")  # never reported
    await baselines.import_tps(kpu.rt, b"kode_wilayah,jumlah_tps\n51.03.01,205\n51.03.02,300\n", None)
    clock.now = wita(14, 20, 0)
    await kpu.say(wayan, "/lapor hitung 150/205")
    clock.now = wita(14, 23, 30)  # night, 3.5 h after Kuta's report, 10.5 h after counting began
    await run_job(kpu)
    assert len(reminders_to(kpu, wayan)) == 1  # running: someone is awake there
    assert reminders_to(kpu, mengwi) == []  # never reported: it waits for the morning
    clock.now = wita(15, 5, 0)
    await run_job(kpu)
    assert len(reminders_to(kpu, mengwi)) == 1


async def test_items_never_reported_are_listed_before_the_deadline(kpu, people):
    komang, wayan, made = people["komang"], people["wayan"], people["made"]
    plan = b"kode_wilayah,barang,jumlah\n51.03.01,tinta,410\n51.03.01,segel,900\n51.03.02,tinta,300\n"
    await baselines.import_plan(kpu.rt, plan, None)
    await kpu.say(wayan, "/lapor logistik tinta 200/410")
    digest = await digest_of(kpu, made, "/logistik")
    assert shown(td.LOGISTIK_NEVER) in digest
    assert "• Tinta: 1 PPK — Mengwi" in digest and "• Segel: 1 PPK — Kuta" in digest
    del komang
