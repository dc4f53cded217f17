"""Operations of `kpu-bot` as processes: one bot per database, restore after a crash, the webhook
(delivery, wrong secret, wrong path), an outbound proxy, `--version`."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

import bot.texts.ops
from bot import version
from bot.domain.models import Role
from bot.emulator import BotApiEmulator
from bot.texts.common import help_text
from storage.instance import InstanceLock
from tests.e2e.conftest import shown


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),  # the code under test, not an installed copy
        "HOME": str(tmp_path),
        "DATABASE_PATH": str(tmp_path / "data" / "bot.sqlite3"),
        **extra,
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _spawn(tmp_path: Path, *args: str, **env: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _stop(proc: asyncio.subprocess.Process) -> tuple[bytes, bytes]:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(proc.communicate(), timeout=30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


# --- one bot per database -------------------------------------------------------------------------


async def test_a_second_run_on_the_database_exits_at_once_naming_the_first(tmp_path):
    async with BotApiEmulator() as emu:
        kpu_bot = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        admin = emu.user(1, "Admin")
        ops = emu.group("Ops KPU", members=[admin], bots=[kpu_bot], supergroup=True, announce=False)
        env = dict(
            TELEGRAM_BOT_TOKEN=kpu_bot.token, TELEGRAM_API_URL=emu.url, BOT_ADMIN_IDS="1", OPS_CHAT_ID=str(ops.id)
        )
        first = await _spawn(tmp_path, "run", **env)
        try:
            await admin.send(kpu_bot, "/bantuan")
            answer = await emu.next_message(emu.private_chat(admin, kpu_bot), timeout=60)
            assert answer.text.startswith(shown(help_text(Role.ADMIN, [])))
            started = time.monotonic()
            second = await _spawn(tmp_path, "run", **env)
            out, err = await asyncio.wait_for(second.communicate(), timeout=30)
            took = time.monotonic() - started
            alert = await emu.next_message(ops, timeout=5)
        finally:
            await _stop(first)
    assert second.returncode == 2
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and f"(pid {first.pid})" in lines[0] and lines[0].startswith("error: DATABASE_PATH: ")
    assert out == b""
    assert took < 2.0, f"the second instance took {took:.2f} s to give up"
    assert alert.text.startswith(shown(bot.texts.ops.second_instance("x", first.pid, "h")).split("\n")[0])
    assert f"pid {first.pid}" in alert.text
    assert first.returncode == 0


# --- backup and restore ---------------------------------------------------------------------------

CRASH = """
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA wal_autocheckpoint=0")
conn.execute("INSERT INTO meta (key, value) VALUES ('uji', 'committed, in the -wal only')")
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO meta (key, value) VALUES ('uji-2', 'in flight')")
os.kill(os.getpid(), signal.SIGKILL)
"""


def _counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


def test_restore_after_a_crash_gives_the_backup_back_intact(tmp_path):
    database = tmp_path / "data" / "bot.sqlite3"
    assert _cli(tmp_path, "migrate").returncode == 0
    assert stat.S_IMODE(database.stat().st_mode) == 0o600  # it holds NIKs
    invite = _cli(tmp_path, "invite", "--role", "petugas", "--region", "51.03.01", "--bot-username", "kpu_bot")
    assert invite.returncode == 0, invite.stderr
    copy = tmp_path / "backups" / "bot-1.sqlite3"
    made = _cli(tmp_path, "backup", str(copy))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    expected = _counts(copy)
    assert expected["invites"] == 1
    # a process dies with a write in flight: its last commit lives in the -wal only
    crash = subprocess.run([sys.executable, "-c", CRASH, str(database)], capture_output=True, timeout=60)
    assert crash.returncode == -signal.SIGKILL
    assert database.with_name("bot.sqlite3-wal").stat().st_size > 0

    restored = _cli(tmp_path, "restore", str(copy))
    assert restored.returncode == 0, restored.stderr
    conn = sqlite3.connect(database)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert _counts(database) == expected
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    # what was there is kept aside, -wal included, and still opens with its last commit
    kept = sorted(p.name for p in database.parent.iterdir() if "sebelum-pulih" in p.name)
    assert kept[1:] == [kept[0] + "-shm", kept[0] + "-wal"], kept
    aside = database.parent / kept[0]
    old = sqlite3.connect(aside)
    assert old.execute("SELECT value FROM meta WHERE key LIKE 'uji%'").fetchall() == [("committed, in the -wal only",)]
    old.close()
    assert str(aside) in restored.stdout


def test_restore_refuses_a_running_bot_and_a_damaged_backup(tmp_path):
    database = tmp_path / "data" / "bot.sqlite3"
    assert _cli(tmp_path, "migrate").returncode == 0
    copy = tmp_path / "copy.sqlite3"
    assert _cli(tmp_path, "backup", str(copy)).returncode == 0
    with InstanceLock(database):  # as `run` holds it
        busy = _cli(tmp_path, "restore", str(copy))
    assert busy.returncode == 2 and f"(pid {os.getpid()})" in busy.stderr and "hentikan bot" in busy.stderr
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(copy.read_bytes()[:4096] + b"\0" * 8192)
    bad = _cli(tmp_path, "restore", str(damaged))
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert "tidak dipulihkan" in bad.stderr or "bukan basis data" in bad.stderr
    assert [p.name for p in database.parent.iterdir() if "sebelum-pulih" in p.name] == []  # nothing moved


# --- the webhook ----------------------------------------------------------------------------------


async def test_webhook_delivers_and_refuses_wrong_secret_and_wrong_path(tmp_path):
    port = _free_port()
    async with BotApiEmulator() as emu:
        kpu_bot = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        admin = emu.user(1, "Admin")
        hook = f"http://127.0.0.1:{port}/telegram/hook"
        proc = await _spawn(
            tmp_path,
            "run",
            "--webhook",
            TELEGRAM_BOT_TOKEN=kpu_bot.token,
            TELEGRAM_API_URL=emu.url,
            BOT_ADMIN_IDS="1",
            WEBHOOK_URL=hook,
            WEBHOOK_PORT=str(port),
            WEBHOOK_SECRET="rahasia-kpu",
        )
        try:
            await admin.send(kpu_bot, "/bantuan")  # delivered by the emulator to the webhook
            answer = await emu.next_message(emu.private_chat(admin, kpu_bot), timeout=60)
            assert answer.text.startswith(shown(help_text(Role.ADMIN, [])))
            update = {
                "update_id": 999999,
                "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}},
            }
            async with aiohttp.ClientSession() as http:
                wrong_secret = await http.post(hook, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "salah"})
                no_secret = await http.post(hook, json=update)
                wrong_path = await http.post(
                    f"http://127.0.0.1:{port}/hook",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": "rahasia-kpu"},
                )
            assert (wrong_secret.status, no_secret.status, wrong_path.status) == (403, 403, 404)
        finally:
            out, err = await _stop(proc)
    assert proc.returncode == 0, err.decode()
    assert kpu_bot.token not in (out + err).decode()


# --- an outbound proxy ----------------------------------------------------------------------------


class ForwardProxy:
    """A plain HTTP forward proxy on 127.0.0.1 (absolute-form requests), counting what it forwards."""

    def __init__(self) -> None:
        self.forwarded: list[str] = []
        self._runner: web.AppRunner | None = None
        self.port = _free_port()

    async def handle(self, request: web.Request) -> web.StreamResponse:
        target = str(request.url)
        self.forwarded.append(request.url.path.rsplit("/", 1)[-1])
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "proxy-connection", "connection")
        }
        async with aiohttp.ClientSession() as client:
            async with client.request(request.method, target, data=await request.read(), headers=headers) as upstream:
                body = await upstream.read()
                return web.Response(body=body, status=upstream.status, content_type=upstream.content_type)

    async def __aenter__(self) -> ForwardProxy:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


async def test_every_bot_api_request_goes_through_telegram_proxy_url(tmp_path):
    async with BotApiEmulator() as emu, ForwardProxy() as proxy:
        kpu_bot = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        admin = emu.user(1, "Admin")
        proc = await _spawn(
            tmp_path,
            "run",
            TELEGRAM_BOT_TOKEN=kpu_bot.token,
            TELEGRAM_API_URL=emu.url,
            BOT_ADMIN_IDS="1",
            TELEGRAM_PROXY_URL=f"http://127.0.0.1:{proxy.port}",
        )
        try:
            await admin.send(kpu_bot, "/bantuan")
            answer = await emu.next_message(emu.private_chat(admin, kpu_bot), timeout=60)
            assert answer.text.startswith(shown(help_text(Role.ADMIN, [])))
        finally:
            out, err = await _stop(proc)
    assert proc.returncode == 0, err.decode()
    assert {"getMe", "getUpdates", "sendMessage", "setMyCommands"} <= set(proxy.forwarded)


async def test_an_unreachable_proxy_is_one_line_and_exit_69(tmp_path):
    async with BotApiEmulator() as emu:
        kpu_bot = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        proc = await _spawn(
            tmp_path,
            "run",
            TELEGRAM_BOT_TOKEN=kpu_bot.token,
            TELEGRAM_API_URL=emu.url,
            TELEGRAM_PROXY_URL=f"http://127.0.0.1:{_free_port()}",
        )
        out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 69
    [line] = err.decode().strip().splitlines()
    assert line.startswith("error: TELEGRAM_API_URL: ") and "lewat proxy" in line


def test_version(tmp_path):
    result = _cli(tmp_path, "--version")
    assert result.returncode == 0 and result.stdout.strip() == f"kpu-bot {version()}"
    usage = _cli(tmp_path)
    assert usage.returncode == 2 and usage.stderr.startswith("usage: kpu-bot")
