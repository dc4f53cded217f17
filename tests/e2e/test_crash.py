"""`kill -9` during a burst of reports: nothing lost, nothing stored twice (durable intake).

Fifty officers send 400 one-line reports at once to `python -m bot run`; the process is killed with
SIGKILL once 40 receipts arrived, started again, killed again mid-way (after 220), and started a
third time. (Fifty, not ten: an officer's receipts that waited together come as one message, and
forty a head answered the rest of the burst in a dozen messages, before the second kill.) Every report must be stored exactly once and answered (a receipt repeated after a
crash — "sudah tercatat" — is acceptable; a missing one is not). Before the durable intake, PTB's
Updater had confirmed every fetched update to Telegram before handling it, and a kill lost them.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections import Counter

from bot.app import open_runtime
from bot.emulator import BotApiEmulator
from bot.services import registration
from bot.settings import Settings
from bot.texts.incidents import receipt_incident_ids
from storage import users as user_store

ADMIN_ID = 1
OFFICERS = 50
REPORTS = 400
KILL_AFTER = (40, 220)  # receipts seen before each kill -9
KECAMATAN = ("51.03.01", "51.03.02", "51.71.01", "51.71.02", "51.02.01")


def _env(tmp_path, bot, emu) -> dict:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "TELEGRAM_BOT_TOKEN": bot.token,
        "TELEGRAM_API_URL": emu.url,
        "BOT_ADMIN_IDS": str(ADMIN_ID),
        "LOG_LEVEL": "WARNING",
    }
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


async def _register_officers(settings: Settings) -> list[int]:
    rt = await open_runtime(settings)
    try:
        admin = await user_store.get(rt.db, ADMIN_ID)
        ids = []
        for i in range(OFFICERS):
            invite = await registration.create_invite(rt, admin, "petugas", KECAMATAN[i % len(KECAMATAN)])
            redeemed = await registration.redeem(rt, invite.code, 1_000 + i, f"Petugas {i + 1}", None)
            assert redeemed.user is not None, redeemed
            ids.append(1_000 + i)
        return ids
    finally:
        await rt.db.close()


class Receipts:
    """Incident numbers in the bot's receipts, as they arrive; `reached(n)` waits for n distinct."""

    def __init__(self) -> None:
        self.ids: Counter[int] = Counter()
        self.changed = asyncio.Event()

    def observe(self, snap) -> None:
        found = receipt_incident_ids(snap.text) if snap.event == "sent" and snap.chat_id > 0 else []
        for incident_id in found:  # receipts that waited together come as one message naming them all
            self.ids[incident_id] += 1
        if found:
            self.changed.set()

    async def reached(self, count: int, timeout: float) -> None:
        async def wait() -> None:
            while len(self.ids) < count:
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), timeout)


async def _start(tmp_path, bot, emu) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=_env(tmp_path, bot, emu),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_kill_9_twice_during_a_burst_loses_and_duplicates_nothing(tmp_path):
    db_path = tmp_path / "bot.sqlite3"
    async with BotApiEmulator() as emu:
        bot = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        settings = Settings(
            TELEGRAM_BOT_TOKEN=bot.token, TELEGRAM_API_URL=emu.url, DATABASE_PATH=db_path, BOT_ADMIN_IDS=str(ADMIN_ID)
        )
        officer_ids = await _register_officers(settings)
        officers = [emu.user(uid, f"Petugas {i + 1}") for i, uid in enumerate(officer_ids)]
        receipts = Receipts()
        emu.on_bot_message = receipts.observe

        sent: list[tuple[int, int]] = []
        for n in range(REPORTS):
            officer = officers[n % OFFICERS]
            message = await officer.send(bot, f"/lapor insiden sedang antrean panjang di TPS {n + 1}")
            sent.append((message.chat_id, message.message_id))

        proc = await _start(tmp_path, bot, emu)
        try:
            for moment in KILL_AFTER:
                await receipts.reached(moment, timeout=40)
                proc.send_signal(signal.SIGKILL)
                await proc.wait()
                assert proc.returncode == -signal.SIGKILL
                assert len(receipts.ids) < REPORTS, "the kill came after the burst was over: it proves nothing"
                proc = await _start(tmp_path, bot, emu)
            await receipts.reached(REPORTS, timeout=40)
        finally:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
                _, err = await asyncio.wait_for(proc.communicate(), timeout=20)
                assert proc.returncode == 0, err.decode()
                assert b"Traceback" not in err, err.decode()

    raw = sqlite3.connect(db_path)
    try:
        stored = Counter(
            (chat, message) for chat, message in raw.execute("SELECT source_chat_id, source_message_id FROM incidents")
        )
        incident_ids = {row[0] for row in raw.execute("SELECT id FROM incidents")}
        pending = raw.execute("SELECT count(*) FROM update_journal WHERE done_at IS NULL").fetchone()[0]
    finally:
        raw.close()
    assert sorted(stored) == sorted(sent), "a report was lost, or one never sent was stored"
    assert set(stored.values()) == {1}, "a report was stored twice"
    assert set(receipts.ids) == incident_ids, "a report was never answered, or a receipt names no report"
    assert pending == 0


async def test_sigterm_with_a_backlog_exits_within_10_s_and_the_next_start_takes_the_rest(tmp_path):
    db_path = tmp_path / "bot.sqlite3"
    backlog = 1_000
    async with BotApiEmulator() as emu:
        bot = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        settings = Settings(
            TELEGRAM_BOT_TOKEN=bot.token, TELEGRAM_API_URL=emu.url, DATABASE_PATH=db_path, BOT_ADMIN_IDS=str(ADMIN_ID)
        )
        officers = [emu.user(uid, f"Petugas {i + 1}") for i, uid in enumerate(await _register_officers(settings))]
        receipts = Receipts()
        emu.on_bot_message = receipts.observe
        for n in range(backlog):
            await officers[n % OFFICERS].send(bot, f"/lapor insiden rendah antrean di TPS {n + 1}")

        proc = await _start(tmp_path, bot, emu)
        await receipts.reached(20, timeout=40)
        loop = asyncio.get_running_loop()
        asked = loop.time()
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        took = loop.time() - asked
        assert proc.returncode == 0, err.decode()
        assert took < 10, f"stopping took {took:.1f} s"
        assert b"Traceback" not in err, err.decode()

        proc = await _start(tmp_path, bot, emu)
        try:
            await receipts.reached(backlog, timeout=60)
        finally:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.communicate(), timeout=20)
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute(
            "SELECT count(*), count(DISTINCT source_message_id || ':' || source_chat_id) FROM incidents"
        ).fetchone() == (backlog, backlog)
    finally:
        raw.close()
