"""Operations, in process against the emulator: the outbox claimed with a lease (two senders, one
database), /healthz and /metrics, alerts to the operators' chat, command menus per scope, and
409 Conflict when another poller uses the token."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
from datetime import timedelta

import aiohttp
from telegram import Bot
from telegram.error import Conflict

import bot.texts.common
import bot.texts.ops
from bot.app import ALERTS_KEY, MENUS_KEY, open_runtime
from bot.domain.models import Role
from bot.logging_setup import setup_logging
from bot.services import registration
from bot.telegram import outbox as outbox_telegram
from bot.telegram.http import AiohttpRequest
from bot.telegram.outbox import Notifier
from bot.texts import commands
from storage import outbox as outbox_store
from storage.outbox import OutboxRow
from tests.architecture.test_deploy import healthcheck_command
from tests.e2e.conftest import shown


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _with_ops_chat(kpu):
    """An operators' group with the bot in it, set as OPS_CHAT_ID (the bot restarts to read it)."""
    ops = await kpu.group("Ops KPU Bali", kpu.admin)
    kpu.settings = kpu.settings.model_copy(update={"OPS_CHAT_ID": ops.id})
    await kpu.restart()
    return ops


def _alerts(kpu, ops):
    """What the bot sent to the operators' chat, its welcome to the group left out."""
    return [m for m in kpu.emu.bot_messages(ops) if m.text.startswith("⚠️")]


# --- the outbox: rows claimed in the database -----------------------------------------------------


async def test_two_senders_on_one_database_deliver_each_row_exactly_once(kpu, clock, monkeypatch):
    # one chat at a time each: the first sender would otherwise claim all three groups at once
    monkeypatch.setattr(outbox_telegram, "CHATS_AT_ONCE", 1)
    wayan = await kpu.person("wayan")
    komang = await kpu.person("komang")
    # three groups of ten rows: within a group's 20 messages a minute, so nothing waits for Telegram
    groups = [await kpu.group(f"Posko {n}", komang) for n in range(3)]
    answer = await kpu.say(wayan, "/lapor insiden sedang genset kantor PPK mati")  # sedang: no group post
    incident_id = int(answer.text.split("#", 1)[1].split()[0])
    later = clock() + timedelta(hours=1)
    rows = [
        OutboxRow("selesai", groups[n % 3].id, f"uji-{n}:{{id}}", region_code="51.03", note=f"catatan {n}")
        for n in range(30)
    ]
    await outbox_store.queue(kpu.rt.db, incident_id, rows, later)  # due in an hour
    other = await open_runtime(kpu.settings, clock)  # a second process's connection and sender
    try:
        first, second = kpu.notifier, Notifier(other, kpu.app.bot)
        clock.advance(hours=2)
        sent = await asyncio.gather(first.deliver_due(), second.deliver_due(), first.deliver_due())
    finally:
        await other.db.close()
    notes = [m.text for group in groups for m in kpu.emu.bot_messages(group) if "catatan " in m.text]
    assert sum(sent) == 30 and len(notes) == 30
    assert len(set(notes)) == 30  # each row once
    assert all(n > 0 for n in sent[:2])  # both senders took part
    assert await outbox_store.due(kpu.rt.db, clock()) == []


async def test_a_claimed_row_is_given_back_when_the_sender_stops(kpu, clock):
    await kpu.person("wayan")
    komang = await kpu.person("komang")
    group = await kpu.coordination_group("KPU Badung", "51.03", komang)
    answer = await kpu.say(await kpu.person("putu"), "/lapor insiden sedang printer rusak")
    incident_id = int(answer.text.split("#", 1)[1].split()[0])
    await outbox_store.queue(
        kpu.rt.db, incident_id, [OutboxRow("selesai", group.id, "uji:{id}", region_code="51.03")], clock()
    )
    [row] = await outbox_store.claim(kpu.rt.db, clock(), clock() + timedelta(minutes=5))
    assert await outbox_store.claim(kpu.rt.db, clock(), clock() + timedelta(minutes=5)) == []  # leased
    clock.advance(minutes=6)  # the sender died: the lease runs out, the row is due again
    [again] = await outbox_store.claim(kpu.rt.db, clock(), clock() + timedelta(minutes=5))
    assert again.id == row.id
    await outbox_store.release(kpu.rt.db, [again.id], clock())
    assert [r.id for r in await outbox_store.due(kpu.rt.db, clock())] == [row.id]


# --- /healthz and /metrics ------------------------------------------------------------------------


async def test_healthz_follows_the_bot_api_and_metrics_have_the_figures(kpu_factory, emulator):
    port = _free_port()
    kpu = await kpu_factory(HEALTH_PORT=port)
    wayan = await kpu.person("wayan")
    await kpu.say(wayan, "/lapor insiden kritis gudang logistik PPK Kuta tergenang banjir")
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200, await response.text()
            assert (await response.json())["status"] == "ok"
        async with http.get(f"{base}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            metrics = await response.text()
        assert "kpu_outbox_pending " in metrics
        assert 'kpu_incidents{status="baru"} 1' in metrics
        assert "kpu_reports_received_total 1" in metrics
        assert "# TYPE kpu_handler_errors_total counter" in metrics
        assert await _docker_healthcheck(port) == 0  # the Dockerfile's HEALTHCHECK, run here
        await emulator.stop()  # the Bot API is gone
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while True:
            async with http.get(f"{base}/healthz") as response:
                if response.status == 503:
                    body = await response.json()
                    break
            assert loop.time() < deadline, "/healthz still 200 a minute after the Bot API stopped"
            await asyncio.sleep(0.2)  # the bot's next long poll fails within its 1 s timeout
    assert body["status"] == "error" and "getUpdates" in body["reason"]
    assert await _docker_healthcheck(port) != 0


async def _docker_healthcheck(port: int) -> int:
    proc = await asyncio.create_subprocess_exec(
        *healthcheck_command(port), stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    return await asyncio.wait_for(proc.wait(), timeout=30)


# --- alerts to the operators' chat ----------------------------------------------------------------


async def test_a_hundred_handler_errors_give_at_most_two_alerts(kpu, monkeypatch):
    ops = await _with_ops_chat(kpu)
    made = await kpu.person("made")

    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    async def broken_too(*args, **kwargs):  # another place: another alert (not deduplicated with the first)
        raise ValueError("disk full")

    monkeypatch.setattr(registration, "create_invite", broken)
    monkeypatch.setattr(registration, "revoke", broken_too)
    for n in range(50):
        await kpu.say(made, f"/undang petugas 51.03.0{n % 9 + 1}")
        await kpu.say(kpu.admin, "/cabut 200")
    await kpu.app.bot_data[ALERTS_KEY].drain()
    alerts = _alerts(kpu, ops)
    assert 1 <= len(alerts) <= 2, [a.text for a in alerts]
    assert alerts[0].text.startswith("⚠️ Galat saat memproses pesan") and "database on fire" in alerts[0].text


async def test_a_notification_given_up_is_told_to_the_operators(kpu, clock):
    ops = await _with_ops_chat(kpu)
    komang = await kpu.person("komang")
    wayan = await kpu.person("wayan")
    group = await kpu.coordination_group("KPU Badung", "51.03", komang)
    kpu.emu.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat", chat_id=group.id)
    answer = await kpu.say(wayan, "/lapor insiden kritis kotak suara hilang di PPK Kuta")
    incident_id = int(answer.text.split("#", 1)[1].split()[0])
    await kpu.notifier.drain()
    await kpu.app.bot_data[ALERTS_KEY].drain()
    [alert] = _alerts(kpu, ops)
    assert alert.text.startswith(f"⚠️ Notifikasi laporan #{incident_id} tidak terkirim ke chat {group.id}")


async def test_another_poller_on_the_token_is_one_log_line_and_one_alert(kpu, caplog):
    ops = await _with_ops_chat(kpu)
    caplog.set_level(logging.INFO)
    # the same token, polling from "another process": each long poll cuts the other one off
    request = AiohttpRequest(connection_pool_size=2)
    rogue = Bot(kpu.bot.token, base_url=f"{kpu.emu.url}/bot", request=request, get_updates_request=request)
    async with rogue:
        for _ in range(4):
            with contextlib.suppress(Conflict):
                await rogue.get_updates(timeout=1)
    await kpu.say(kpu.admin, "/bantuan")  # the bot polls on
    await kpu.app.bot_data[ALERTS_KEY].drain()
    conflicts = [r for r in caplog.records if "409 Conflict" in r.getMessage()]
    assert len(conflicts) == 1 and not conflicts[0].exc_info
    assert [m.text for m in _alerts(kpu, ops)] == [shown(bot.texts.ops.polling_conflict())]


# --- command menus --------------------------------------------------------------------------------


def _menu(kpu, chat) -> set[str]:
    """The menu Telegram shows in `chat`: the chat's own, else all private chats' / all groups', else
    the default (the Bot API's scope rules)."""
    scopes = [f"chat:{chat.id}", "all_private_chats" if chat.id > 0 else "all_group_chats", "default"]
    for scope in scopes:
        if shown := kpu.bot.commands(scope):
            return {c["command"] for c in shown}
    return set()


async def test_menus_fit_the_chat_and_the_role(kpu):
    wayan = await kpu.person("wayan")
    made = await kpu.person("made")
    await kpu.say(kpu.admin, "/start")  # the bootstrap admin's chat now exists: their menu is set
    await kpu.app.bot_data[MENUS_KEY]
    group = await kpu.group("PPK Kuta", wayan)
    petugas, koordinator, admin = _menu(kpu, kpu.dm(wayan)), _menu(kpu, kpu.dm(made)), _menu(kpu, kpu.dm(kpu.admin))
    assert "lapor" in petugas and not {"cabut", "undang", "impor"} & petugas
    assert "undang" in koordinator and "cabut" not in koordinator
    assert {"cabut", "undang", "impor"} <= admin
    in_group = _menu(kpu, group)
    assert "lapor" in in_group and not {"undang", "cabut", "impor"} & in_group
    assert admin == {name for name, _ in commands.private_menu(Role.ADMIN)}
    # revoked: back to the plain menu; the admin's is kept over a restart
    await kpu.say(kpu.admin, "/cabut 200")
    assert _menu(kpu, kpu.dm(made)) == {name for name, _ in commands.private_menu(Role.PETUGAS)}
    await kpu.restart()
    await kpu.app.bot_data[MENUS_KEY]
    assert _menu(kpu, kpu.dm(kpu.admin)) == admin


# --- logs -------------------------------------------------------------------------------------------


async def test_json_log_has_one_line_per_report_and_change_with_its_ids(kpu, capsys):
    wayan = await kpu.person("wayan")
    made = await kpu.person("made")
    setup_logging("INFO", kpu.bot.token, "json")
    nik = "5103011234560001"
    answer = await kpu.say(wayan, f"/lapor insiden tinggi pemilih NIK {nik} ditolak di TPS 3")
    incident_id = int(answer.text.split("#", 1)[1].split()[0])
    await kpu.say(made, f"/tangani {incident_id}")
    await kpu.settled(made)
    raw = capsys.readouterr().err
    lines = [json.loads(line) for line in raw.splitlines() if line.startswith("{")]
    stored = [e for e in lines if e["message"].startswith(f"report stored: incident {incident_id},")]
    taken = [e for e in lines if e["message"].startswith(f"incident {incident_id}: tangani")]
    assert len(stored) == 1 and len(taken) == 1, raw
    assert stored[0]["incident_id"] == incident_id and stored[0]["chat_id"] == wayan.id and stored[0]["update_id"]
    assert taken[0]["incident_id"] == incident_id and taken[0]["chat_id"] == made.id and taken[0]["user_id"] == made.id
    assert taken[0]["update_id"] > stored[0]["update_id"]
    assert nik not in raw and kpu.bot.token not in raw


async def test_local_mode_reaches_the_application(kpu_factory):
    kpu = await kpu_factory(TELEGRAM_LOCAL_MODE="true")
    assert kpu.app.bot.local_mode is True  # files of a --local Bot API server are read as local paths
    answer = await kpu.say(kpu.admin, "/start")
    assert answer.text == shown(bot.texts.common.greeting_again("Admin", Role.ADMIN, "Bali"))
