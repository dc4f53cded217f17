"""Digests end to end: /jadwal, schedules surviving a restart, once-only sending, on-demand
digests with their charts (each answered, computed once a minute), /impor of baselines by chat."""

import asyncio
import logging
import os
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

import bot.texts.baselines
import bot.texts.common
import bot.texts.digest
import bot.texts.groups
import bot.texts.incidents
import bot.texts.messages
from bot.domain.access import Reason
from bot.domain.models import Role
from bot.telegram import ops
from storage import schedules as schedule_store
from tests.e2e.conftest import shown

PLAN = b"kode_wilayah,barang,jumlah\n51.03.01,kotak_suara,120\n51.03.02,kotak_suara,80\n"
NOT_ALLOWED = shown(bot.texts.common.REFUSAL[Reason.ROLE])


def heading(title: str) -> str:
    """The first line of a digest of the region called `title`."""
    return shown(bot.texts.digest.HEADER_TITLE.format(title=title))


DIGEST = heading("")  # how every digest begins
BADUNG_DIGEST = heading("Kabupaten Badung")


def help_title(role: Role) -> str:
    return shown(bot.texts.common.help_text(role, []))


def jadwal_set(*times: str) -> str:
    return shown(bot.texts.groups.jadwal_set(list(times), "WITA", "Bali › Badung"))


@pytest.fixture
async def badung(kpu, people):
    return await kpu.coordination_group("KPU Badung", "51.03", people["komang"], people["made"], people["wayan"])


def jobs(kpu, chat) -> list[str]:
    return sorted(j.name for j in kpu.app.job_queue.jobs() if (j.name or "").startswith(f"ringkasan:{chat.id}:"))


async def test_registration_applies_the_default_times(kpu, badung):
    assert jobs(kpu, badung) == [f"ringkasan:{badung.id}:07:00"]


async def test_jadwal_sets_and_turns_off(kpu, people, badung):
    answer = await kpu.say(people["komang"], "/jadwal 06.30,18:00", badung)
    assert answer.text == jadwal_set("06:30", "18:00")
    assert jobs(kpu, badung) == [f"ringkasan:{badung.id}:06:30", f"ringkasan:{badung.id}:18:00"]
    assert shown(bot.texts.groups.JADWAL_USAGE) in (await kpu.say(people["komang"], "/jadwal 25:00", badung)).text
    assert (await kpu.say(people["made"], "/jadwal 05:00", badung)).text == NOT_ALLOWED
    assert (await kpu.say(people["komang"], "/jadwal mati", badung)).text == shown(bot.texts.groups.JADWAL_OFF)
    assert jobs(kpu, badung) == []
    assert await schedule_store.for_chat(kpu.rt.db, badung.id) == []


async def test_jadwal_needs_a_registered_group_and_personal_digest_in_private(kpu, people):
    loose = await kpu.group("Grup Lain", people["komang"])
    answer = await kpu.say(people["komang"], "/jadwal 07:00", loose)
    assert answer.text == shown(bot.texts.groups.JADWAL_GROUP_NOT_REGISTERED)
    assert (await kpu.say(people["wayan"], "/jadwal 07:00")).text == NOT_ALLOWED
    answer = await kpu.say(people["made"], "/jadwal 19:00")
    assert answer.text == jadwal_set("19:00")
    [schedule] = await schedule_store.for_chat(kpu.rt.db, people["made"].id)
    assert schedule.region_code == "51.03"


async def test_schedule_survives_a_restart_and_sends_once(kpu, people, badung, clock, caught_up):
    await kpu.say(people["komang"], "/jadwal 10:00", badung)
    await kpu.say(people["wayan"], "/lapor rekap 100/205 sirekap 50")
    await kpu.restart()
    await caught_up()  # (nothing was due at start)
    [name] = jobs(kpu, badung)
    [job] = [j for j in kpu.app.job_queue.jobs() if j.name == name]
    assert job.job.misfire_grace_time >= 60 and job.job.coalesce
    clock.now = datetime(2024, 2, 14, 2, 3, tzinfo=UTC)  # 10:03 WITA: a few minutes late
    await job.run(kpu.app)
    await job.run(kpu.app)  # the same occurrence again (e.g. a coalesced misfire): not sent twice
    first = await kpu.next(badung)
    assert first.text.startswith(BADUNG_DIGEST) and "Rabu, 14 Februari 2024" in first.text
    assert "H\n" in first.text or "· H" in first.text
    photos = [m for m in kpu.emu.bot_messages(badung) if m.photo_bytes]
    await kpu.settled(people["komang"])
    assert len([m for m in kpu.emu.bot_messages(badung) if m.text and m.text.startswith(DIGEST)]) == 1
    assert len(photos) == 3 and len({m.media_group_id for m in photos}) == 1


async def test_a_digest_missed_during_a_restart_is_sent_late(kpu, people, badung, clock, caught_up):
    await kpu.say(people["komang"], "/jadwal 09:00", badung)
    await kpu.stop()
    clock.now = datetime(2024, 2, 14, 1, 10, tzinfo=UTC)  # the bot was down at 09:00; back at 09:10
    await kpu.start()
    assert (await kpu.next(badung)).text.startswith(BADUNG_DIGEST)
    await caught_up()
    await kpu.restart()  # and a second restart within the grace time does not send it again
    await caught_up()
    await kpu.settled(people["komang"])
    assert len([m for m in kpu.emu.bot_messages(badung) if (m.text or "").startswith(DIGEST)]) == 1


async def test_on_demand_digests_are_each_answered_and_computed_once_a_minute(kpu, people, badung, clock):
    await kpu.say(people["wayan"], "/lapor logistik kotak 110/120")
    post = await kpu.next(badung)  # H-2: the logistics deadline has come, a shortfall is posted
    assert post.text.startswith("🟠 #1 ")
    computed, drawn = ops.COUNTERS["digests_computed"], ops.COUNTERS["digest_charts_drawn"]
    await people["made"].send(badung, "/progres")
    progres = await kpu.next(badung)
    assert shown(bot.texts.digest.HITUNG_TITLE) in progres.text and shown(bot.texts.digest.REKAP_TITLE) in progres.text
    assert shown(bot.texts.digest.LOGISTIK_TITLE) not in progres.text
    chart = await kpu.next(badung)
    assert chart.photo_bytes and chart.photo_size[0] >= 1000
    # /logistik right after, by someone else: answered (no waiting), from the same computation
    await people["komang"].send(badung, "/logistik")
    logistik = await kpu.next(badung)
    item = bot.texts.digest.LOGISTIK_ITEM.format(label="Kotak suara", received="110", planned="120", share="91,7%")
    assert shown(item) in logistik.text
    assert (await kpu.next(badung)).photo_bytes
    # /progres again within the minute: the same digest, its chart sent again by file_id
    await people["made"].send(badung, "/progres")
    assert (await kpu.next(badung)).text == progres.text
    assert (await kpu.next(badung)).photo_bytes == chart.photo_bytes
    own = await kpu.say(people["made"], "/ringkasan")  # his private chat, the same region
    assert own.text.startswith(BADUNG_DIGEST)
    assert ops.COUNTERS["digests_computed"] - computed == 1
    assert ops.COUNTERS["digest_charts_drawn"] - drawn == 3  # hitung, logistik, insiden: once each
    # a minute later the digest is computed again, with what came in meanwhile
    clock.advance(seconds=60)
    await kpu.say(people["wayan"], "/lapor logistik kotak 120/120")
    await people["made"].send(badung, "/logistik")
    messages = [await kpu.next(badung) for _ in range(3)]  # the resolution's post, then the digest
    fresh = next(m for m in messages if (m.text or "").startswith(BADUNG_DIGEST))
    assert shown(item) not in fresh.text
    assert ops.COUNTERS["digests_computed"] - computed == 2
    # a PPK's petugas gets their own kecamatan's digest in a private chat
    kuta = await kpu.say(people["wayan"], "/ringkasan")
    assert kuta.text.startswith(heading("Kecamatan Kuta"))


async def test_other_users_are_answered_while_a_digest_renders(kpu, people, badung, monkeypatch):
    """The charts of Badung's /ringkasan are held back (the renderer waits on an event): meanwhile
    Wayan's /lapor in his private chat is handled and answered; then the charts follow."""
    from bot import charts

    loop = asyncio.get_running_loop()
    rendering, release = asyncio.Event(), threading.Event()
    real = charts.render_all

    def held(*args, **kwargs):  # runs in the chart thread
        loop.call_soon_threadsafe(rendering.set)
        release.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(charts, "render_all", held)
    try:
        await people["made"].send(badung, "/ringkasan")
        assert (await kpu.next(badung)).text.startswith(BADUNG_DIGEST)
        await asyncio.wait_for(rendering.wait(), timeout=5)
        receipt = await kpu.say(people["wayan"], "/lapor rekap 100/205 sirekap 50")
        assert bot.texts.incidents.receipt_incident_id(receipt.text) is not None
        assert not [m for m in kpu.emu.bot_messages(badung) if m.photo_bytes]  # still drawing
    finally:
        release.set()
    photos = [await kpu.next(badung) for _ in range(2)]  # before H: logistics and incidents, no counting
    assert all(m.photo_bytes for m in photos)


async def test_a_digest_that_fails_in_the_background_is_apologised_for_and_may_be_asked_again(kpu, people, badung):
    kpu.emu.fail_next("sendMessage", 400, "Bad Request: test fault", chat_id=badung.id)
    await people["made"].send(badung, "/ringkasan")
    assert (await kpu.next(badung)).text == shown(bot.texts.common.ERROR_APOLOGY)
    await people["made"].send(badung, "/ringkasan")  # nothing was sent: no waiting
    assert (await kpu.next(badung)).text.startswith(BADUNG_DIGEST)


async def test_impor_by_chat(kpu, people):
    komang, made = people["komang"], people["made"]
    doc = await komang.send_document(kpu.bot, PLAN, "rencana.csv", "text/csv")
    done = bot.texts.baselines.PLAN_DONE.format(rows=2, regions=2, items=1, added=2, replaced=0)
    assert (await kpu.say(komang, "/impor", reply_to=doc)).text == bot.texts.baselines.sentence(done)
    bad = await komang.send_document(kpu.bot, PLAN + b"51.71.01,tinta,5\n51.03.01,kursi,-1\n", "salah.csv", "text/csv")
    answer = await kpu.say(komang, "/impor", reply_to=bad)
    assert answer.text.startswith(bot.texts.baselines.FAILED.format(label="Kebutuhan logistik", count=3))
    outside = bot.texts.baselines.ERRORS["out_of_scope"].format(code="51.71.01", scope="51.03")
    assert bot.texts.baselines.LINE_PREFIX.format(line=4, message=outside) in answer.text and "baris 5:" in answer.text
    doc = await made.send_document(kpu.bot, PLAN, "rencana.csv", "text/csv")
    assert (await kpu.say(made, "/impor", reply_to=doc)).text == NOT_ALLOWED
    assert (await kpu.say(komang, "/impor")).text == shown(bot.texts.baselines.IMPOR_USAGE_HTML)
    rows = await kpu.rt.db.fetchall("SELECT region_code, quantity FROM logistics_plan ORDER BY region_code")
    assert [tuple(r) for r in rows] == [("51.03.01", 120), ("51.03.02", 80)]


async def test_impor_reports_every_bad_line_however_many(kpu, people):
    komang = people["komang"]
    # an unknown item makes a line of about 140 characters: 45 of them never fit one message
    bad = b"kode_wilayah,barang,jumlah\n" + b"".join(b"51.03.01,kursi_%d,1\n" % i for i in range(45))
    doc = await komang.send_document(kpu.bot, bad, "salah.csv", "text/csv")
    answer = await kpu.say(komang, "/impor", reply_to=doc)
    failed = bot.texts.baselines.FAILED.format(label="Kebutuhan logistik", count=45)
    assert answer.document_name == bot.texts.baselines.IMPOR_ERRORS_FILE
    assert answer.caption == shown(bot.texts.baselines.IMPOR_ERRORS_CAPTION_HTML.format(summary=failed))
    listed = answer.document_bytes.decode("utf-8").splitlines()
    assert listed[0] == failed
    assert [line.split(":")[0] for line in listed[1:]] == [f"baris {n}" for n in range(2, 47)]
    unknown = bot.texts.baselines.ERRORS["unknown_item"].partition(" (")[0]  # before the list of items
    assert unknown.format(token=bot.texts.baselines.quote("kursi_44")) in listed[-1]

    # 30 of them (over 4,096 characters together) still come as messages, split below the limit
    doc = await komang.send_document(kpu.bot, bad[: bad.index(b"51.03.01,kursi_30")], "salah.csv", "text/csv")
    first = await kpu.say(komang, "/impor", reply_to=doc)
    second = await kpu.next(komang)
    failed = bot.texts.baselines.FAILED.format(label="Kebutuhan logistik", count=30)
    assert first.text.startswith(failed + "\nbaris 2: ")
    assert second.text.startswith(shown(failed + bot.texts.messages.CONTINUED) + "\n")
    lines = (first.text + "\n" + second.text).splitlines()
    assert [line.split(":")[0] for line in lines if line.startswith("baris")] == [f"baris {n}" for n in range(2, 32)]
    assert all(len(m.text) < 4096 for m in (first, second))
    assert await kpu.rt.db.fetchall("SELECT * FROM logistics_plan") == []


# --- scheduled digests: who still gets them, failures, catch-up -------------------------------------

WITA = ZoneInfo("Asia/Makassar")


def wita(day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2024, 2, day, hour, minute, second, tzinfo=WITA).astimezone(UTC)


def job(kpu, chat_id: int, prefix: str = "ringkasan"):
    [found] = [j for j in kpu.app.job_queue.jobs() if (j.name or "").startswith(f"{prefix}:{chat_id}:")]
    return found


def digests(kpu, chat) -> list:
    return [m for m in kpu.emu.bot_messages(chat) if (m.text or "").startswith(DIGEST)]


async def test_a_revoked_user_gets_no_more_personal_digests(kpu, people, clock):
    made, komang = people["made"], people["komang"]
    assert (await kpu.say(made, "/jadwal 19:00")).text == jadwal_set("19:00")
    daily = job(kpu, made.id)
    assert (await kpu.say(komang, f"/cabut {made.id}")).text == shown(bot.texts.common.cabut_done("Made", made.id))
    assert await schedule_store.for_chat(kpu.rt.db, made.id) == []  # in the revocation's transaction
    assert [j for j in kpu.app.job_queue.jobs() if (j.name or "").startswith(f"ringkasan:{made.id}:")] == []
    [audit] = await kpu.rt.db.fetchall("SELECT detail FROM audit_log WHERE action = 'cabut'")
    assert '"jadwal_dihapus": 1' in audit["detail"]
    clock.now = wita(12, 19, 5)
    await daily.run(kpu.app)  # a job that fired anyway sends nothing
    await kpu.settled(komang)
    assert digests(kpu, kpu.dm(made)) == []


async def test_a_scheduled_digest_goes_where_the_data_says_now(kpu, people, badung, clock):
    made, komang = people["made"], people["komang"]
    db = kpu.rt.db
    await kpu.say(made, "/jadwal 10:00")
    await kpu.say(komang, "/jadwal 10:00")
    await kpu.say(komang, "/jadwal 10:00", badung)
    clock.now = wita(12, 10, 3)

    # Made is now a petugas (an active user's role is not changed by an invite link): no personal digest any more
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE users SET role = 'petugas', region_code = '51.03.01' WHERE telegram_id = ?", (made.id,)
        )
    await job(kpu, made.id).run(kpu.app)
    # Komang was revoked before revocations dropped schedules: the digest checks and drops it
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE users SET revoked_at = '2024-02-12T01:00:00.000000+00:00' WHERE telegram_id = ?", (komang.id,)
        )
    await job(kpu, komang.id).run(kpu.app)
    # the group now coordinates another region (moved without its schedule): the current one is used
    async with db.transaction() as conn:
        await conn.execute("UPDATE groups SET region_code = '51.71' WHERE chat_id = ?", (badung.id,))
    await job(kpu, badung.id).run(kpu.app)
    assert (await kpu.next(badung)).text.startswith(heading("Kota Denpasar"))
    await kpu.settled(people["wayan"])
    assert digests(kpu, kpu.dm(made)) == [] and digests(kpu, kpu.dm(komang)) == []
    for user in (made, komang):
        assert await schedule_store.for_chat(db, user.id) == []
        assert not [j for j in kpu.app.job_queue.jobs() if (j.name or "").startswith(f"ringkasan:{user.id}:")]

    # the group is no longer registered: nothing is sent, its schedule is dropped
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM groups WHERE chat_id = ?", (badung.id,))
    clock.now = wita(13, 10, 1)
    await job(kpu, badung.id).run(kpu.app)
    await kpu.settled(people["wayan"])
    assert len(digests(kpu, badung)) == 1 and await schedule_store.for_chat(db, badung.id) == []


async def test_a_failed_scheduled_send_is_retried_within_the_grace_time(kpu, people, badung, clock, caplog):
    await kpu.say(people["komang"], "/jadwal 10:00", badung)
    clock.now = wita(12, 10, 3)
    kpu.emu.fail_next("sendMessage", 502, chat_id=badung.id)  # Telegram fails once
    daily = job(kpu, badung.id)
    with caplog.at_level(logging.WARNING, logger="bot.telegram.digests"):
        await daily.run(kpu.app)
    assert "could not be sent; trying again in 0:05:00" in caplog.text
    [schedule] = await schedule_store.for_chat(kpu.rt.db, badung.id)
    assert schedule.last_run_at is None  # the claim was given back
    assert digests(kpu, badung) == []
    retry = job(kpu, badung.id, "ringkasan-ulang")
    clock.advance(minutes=5)
    await retry.run(kpu.app)
    assert (await kpu.next(badung)).text.startswith(BADUNG_DIGEST)
    await retry.run(kpu.app)  # neither the retry again nor the daily job sends it twice
    await daily.run(kpu.app)
    await kpu.settled(people["komang"])
    assert len(digests(kpu, badung)) == 1
    [schedule] = await schedule_store.for_chat(kpu.rt.db, badung.id)
    assert schedule.last_run_at == wita(12, 10, 0)

    # at the very end of the grace time there is no time left to try again: said in the log
    clock.now = wita(13, 10, 30)
    kpu.emu.fail_next("sendMessage", 502, chat_id=badung.id)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="bot.telegram.digests"):
        await daily.run(kpu.app)
    assert "could not be sent and is not retried: skipped until tomorrow" in caplog.text


@pytest.fixture
def caught_up(monkeypatch):
    """`await caught_up()` returns once the next catch-up after a start has finished."""
    from bot.telegram import digests as digest_delivery

    finished: asyncio.Queue = asyncio.Queue()
    real = digest_delivery.catch_up

    async def traced(*args, **kwargs):
        try:
            return await real(*args, **kwargs)
        finally:
            finished.put_nowait(True)

    monkeypatch.setattr(digest_delivery, "catch_up", traced)
    return lambda: asyncio.wait_for(finished.get(), timeout=5)


async def test_catch_up_skips_an_occurrence_due_before_the_schedule_existed(kpu, people, badung, clock, caught_up):
    clock.now = wita(12, 9, 2)
    await kpu.say(people["komang"], "/jadwal 09:00", badung)  # set at 09:02: today's 09:00 is not owed
    await kpu.stop()
    clock.now = wita(12, 9, 10)
    await kpu.start()
    await caught_up()
    await kpu.settled(people["komang"])
    assert digests(kpu, badung) == []
    await kpu.stop()
    clock.now = wita(13, 9, 10)  # tomorrow's 09:00 was missed: owed
    await kpu.start()
    assert (await kpu.next(badung)).text.startswith(BADUNG_DIGEST)
    await caught_up()


async def test_catch_up_runs_in_the_background_and_coalesces_a_chats_missed_times(
    kpu, people, badung, clock, monkeypatch
):
    from bot import charts

    await kpu.say(people["komang"], "/jadwal 09:00,09:10", badung)
    await kpu.stop()
    clock.now = wita(12, 9, 20)  # both missed while the bot was down
    loop = asyncio.get_running_loop()
    rendering, release = asyncio.Event(), threading.Event()
    real = charts.render_all

    def held(*args, **kwargs):
        loop.call_soon_threadsafe(rendering.set)
        release.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(charts, "render_all", held)
    starting = asyncio.create_task(kpu.start())
    try:
        assert (await kpu.next(badung)).text.startswith(BADUNG_DIGEST)
        await asyncio.wait_for(rendering.wait(), timeout=5)
        # the catch-up is still drawing its charts, and the bot already answers
        assert (await kpu.say(people["made"], "/bantuan")).text.startswith(help_title(Role.KOORDINATOR))
    finally:
        release.set()
        await starting
    photos = [await kpu.next(badung) for _ in range(2)]  # before H: logistics and incidents, no counting
    assert all(m.photo_bytes for m in photos)
    await kpu.settled(people["komang"])
    assert len(digests(kpu, badung)) == 1  # 09:00 and 09:10 in one digest
    assert [s.last_run_at for s in await schedule_store.for_chat(kpu.rt.db, badung.id)] == [
        wita(12, 9, 0),
        wita(12, 9, 10),
    ]


async def test_charts_are_drawn_in_the_drawing_workers(kpu_factory):
    """As in production (CHART_WORKERS, here a pool of one): the charts of a /ringkasan come from a
    worker process, and the pool stops with the bot."""
    from bot import chart_pool

    kpu = await kpu_factory(CHART_WORKERS=1)
    made = await kpu.person("made")
    await kpu.say(made, "/ringkasan")  # the text, then the charts
    photos = [await kpu.next(kpu.emu.private_chat(made, kpu.bot)) for _ in range(2)]  # before H: logistik, insiden
    assert all(m.photo_bytes for m in photos)
    workers = chart_pool.worker_pids()
    assert len(workers) == 1 and os.getpid() not in workers
    assert set(chart_pool.slowest_chart_s()) == set(workers)  # drawn there, timed there
    await kpu.stop()
    assert chart_pool.worker_pids() == []
