"""`python -m bot run` as a process: answers over HTTP, stops cleanly on SIGTERM/SIGINT with exit
code 0, never logs the token; bad settings are one line and exit code 78, an unreachable Bot API
or an unusable database exit code 69."""

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.domain.models import Role
from bot.emulator import BotApiEmulator
from bot.texts.common import help_text
from tests.e2e.conftest import shown


def _env(tmp_path, **extra) -> dict:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),  # the code under test, not an installed copy
        "HOME": str(tmp_path),
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
    }
    env.update(extra)
    return env


def _children(pid: int) -> set[int]:
    """The processes whose parent is `pid` (Linux /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # exited meanwhile
            continue
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pids: set[int]) -> set[int]:
    """Those of `pids` still running (neither gone nor a zombie)."""
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


async def _gone(pids: set[int]) -> bool:
    """Whether every process of `pids` has exited, waiting up to 10 s."""
    for _ in range(200):
        if not _alive(pids):
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
async def test_run_answers_and_stops_cleanly(tmp_path, stop):
    """…and its chart-drawing worker (CHART_WORKERS=1, started with the bot) stops with it."""
    async with BotApiEmulator() as emu:
        bot = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        admin = emu.user(1, "Admin")
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=tmp_path,
            env=_env(
                tmp_path,
                TELEGRAM_BOT_TOKEN=bot.token,
                TELEGRAM_API_URL=emu.url,
                BOT_ADMIN_IDS="1",
                LOG_LEVEL="DEBUG",
                CHART_WORKERS="1",
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        # read the log while the bot runs: at DEBUG it outgrows a pipe's buffer (64 KiB) before the
        # first answer, and a bot blocked on writing its log answers nobody
        assert proc.stdout is not None
        reading = asyncio.create_task(proc.stdout.read())
        try:
            await admin.send(bot, "/bantuan")
            answer = await emu.next_message(emu.private_chat(admin, bot), timeout=60)
            assert answer.text.startswith(shown(help_text(Role.ADMIN, [])))  # (`bot` is the emulator's bot here)
            workers = _children(proc.pid)
            assert workers, "the drawing worker starts with the bot"
            proc.send_signal(stop)
            output = await asyncio.wait_for(reading, timeout=30)
            await asyncio.wait_for(proc.wait(), timeout=30)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        log = output.decode()
        assert proc.returncode == 0, log
        assert await _gone(workers), "the drawing worker outlived the bot"
        assert bot.token not in log and bot.token.split(":")[1] not in log
        assert "Traceback" not in log


async def test_run_without_token_is_one_line_and_exit_78(tmp_path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 78
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: TELEGRAM_BOT_TOKEN:")


async def test_run_with_bad_setting(tmp_path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=_env(tmp_path, TELEGRAM_BOT_TOKEN="123:" + "a" * 35, BOT_TIMEZONE="Bali/Kuta"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 78
    assert err.decode().strip().splitlines() == [err.decode().strip()]
    assert "BOT_TIMEZONE" in err.decode()


async def _run_until_exit(tmp_path, **env) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=_env(tmp_path, **env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=60)
    finally:
        if proc.returncode is None:  # it did not exit on its own: that is the failure
            proc.kill()
            await proc.wait()
    return proc.returncode, output.decode()


def _one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    return lines[0]


def _corrupt(db_path) -> None:
    """A database whose incidents' table has a page of garbage (as after a bad disk sector)."""
    raw = sqlite3.connect(db_path)
    raw.execute("PRAGMA journal_mode = DELETE")
    raw.execute("CREATE TABLE filler (x TEXT)")
    raw.executemany("INSERT INTO filler VALUES (?)", [("x" * 500,) for _ in range(200)])
    raw.commit()
    page_size = raw.execute("PRAGMA page_size").fetchone()[0]
    pages = raw.execute("PRAGMA page_count").fetchone()[0]
    raw.close()
    with open(db_path, "r+b") as f:
        f.seek(page_size * (pages - 5))
        f.write(b"\xff" * page_size)


@pytest.mark.parametrize("kind", ["corrupt", "emptied_beside_its_wal"])
async def test_run_refuses_a_database_it_would_damage_or_fail_on(tmp_path, kind):
    db_path = tmp_path / "bot.sqlite3"
    if kind == "corrupt":
        _corrupt(db_path)
        problem = "rusak"
    else:
        db_path.write_bytes(b"")
        (tmp_path / "bot.sqlite3-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\0" * 4092)
        problem = "berkas basis data kosong"
    async with BotApiEmulator() as emu:
        bot = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        rc, output = await _run_until_exit(tmp_path, TELEGRAM_BOT_TOKEN=bot.token, TELEGRAM_API_URL=emu.url)
    assert rc == 69, output
    line = _one_line(output)
    assert line.startswith(f"error: DATABASE_PATH: {db_path}: {problem}"), line
    assert "ready" not in output and "Traceback" not in output
    if kind == "emptied_beside_its_wal":
        assert (tmp_path / "bot.sqlite3-wal").stat().st_size == 4096  # the log is left for recovery


async def test_run_with_a_token_the_server_rejects_is_one_line_without_the_token(tmp_path):
    token = "123456:" + "Z" * 35  # well-formed, but no bot of the emulator has it
    async with BotApiEmulator() as emu:
        rc, output = await _run_until_exit(tmp_path, TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=emu.url)
    assert rc == 78, output
    assert _one_line(output).startswith("error: TELEGRAM_BOT_TOKEN: ditolak oleh server Bot API")
    assert token not in output and "Z" * 35 not in output


async def test_run_with_an_unreachable_bot_api_is_one_line_naming_the_url(tmp_path):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    token = "123:" + "a" * 35
    rc, output = await _run_until_exit(tmp_path, TELEGRAM_BOT_TOKEN=token, TELEGRAM_API_URL=f"http://127.0.0.1:{port}")
    assert rc == 69, output
    line = _one_line(output)
    assert line.startswith("error: TELEGRAM_API_URL: ") and "tidak terjangkau" in line
    assert token not in output


async def test_run_with_an_unknown_province_exits_78_at_once(tmp_path):
    rc, output = await _run_until_exit(tmp_path, TELEGRAM_BOT_TOKEN="123:" + "a" * 35, REGION_ROOT="99")
    assert rc == 78 and _one_line(output).startswith("error: REGION_ROOT: "), output


@pytest.mark.parametrize("kind", ["not_a_database", "newer_schema"])
async def test_run_with_a_database_it_cannot_use_is_one_line_and_exits(tmp_path, kind):
    db_path = tmp_path / "bot.sqlite3"
    if kind == "not_a_database":
        db_path.write_bytes(b"not SQLite at all " * 100)
    else:
        raw = sqlite3.connect(db_path)
        raw.execute("PRAGMA user_version = 9999")
        raw.close()
    async with BotApiEmulator() as emu:
        bot = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        rc, output = await _run_until_exit(tmp_path, TELEGRAM_BOT_TOKEN=bot.token, TELEGRAM_API_URL=emu.url)
    assert rc == 69, output
    assert _one_line(output).startswith(f"error: DATABASE_PATH: {db_path}")
    assert bot.token not in output


async def test_sandbox_talks_to_the_bot(tmp_path):
    script = "/start\n/undang petugas 51.03.01\n/as 100 Wayan\n/lapor\n/tekan 4\n/keluar\n"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        cwd=tmp_path,
        env=_env(tmp_path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(script.encode()), timeout=60)
    text = out.decode()
    assert proc.returncode == 0, text
    assert "Halo, Admin" in text and "https://t.me/kpu_koordinasi_bot?start=" in text
    assert "tautan undangan" in text  # Wayan is not registered yet
    assert "Traceback" not in text


async def test_ctrl_c_stops_the_sandbox_at_once_while_it_waits_for_input(tmp_path):
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        cwd=tmp_path,
        env=_env(tmp_path),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        # the prompt is shown: the sandbox now waits for a line that never comes (stdin stays open)
        shown = await asyncio.wait_for(proc.stdout.readuntil(b"@ pribadi] > "), timeout=60)
        assert b"Sandbox bot koordinasi KPU" in shown
        proc.send_signal(signal.SIGINT)
        rest = await asyncio.wait_for(proc.stdout.read(), timeout=20)
        await asyncio.wait_for(proc.wait(), timeout=20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, rest.decode()
    assert b"Traceback" not in rest
