"""The CLI verbs that are not `run`: migrate, invite, backup (while the bot runs)."""

import os
import sqlite3
import subprocess
import sys

import pytest

from bot.emulator import BotApiEmulator


def run(tmp_path, *args, **env):
    full_env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),  # the code under test, not an installed copy
        "HOME": str(tmp_path),
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        **env,
    }
    if os.environ.get("PYTHONPATH"):  # the code under test, not whatever the venv has installed
        full_env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=full_env, capture_output=True, text=True, timeout=120
    )


def test_migrate_invite_and_backup(tmp_path):
    first = run(tmp_path, "migrate")
    assert first.returncode == 0 and "0001_foundation.sql" in first.stdout
    assert "skema sudah terbaru" in run(tmp_path, "migrate").stdout
    invite = run(tmp_path, "invite", "--role", "komisioner", "--region", "51.03", "--bot-username", "kpu_bot")
    assert invite.returncode == 0, invite.stderr
    assert invite.stdout.startswith("https://t.me/kpu_bot?start=") and "51.03 Badung" in invite.stdout
    bad = run(tmp_path, "invite", "--role", "komisioner", "--region", "52.01", "--bot-username", "kpu_bot")
    assert bad.returncode == 2 and "REGION_ROOT=51" in bad.stderr and "Traceback" not in bad.stderr
    # a backup while another connection holds the database open (as the running bot does)
    holder = sqlite3.connect(tmp_path / "bot.sqlite3")
    holder.execute("BEGIN")
    holder.execute("SELECT count(*) FROM invites").fetchone()
    backup = run(tmp_path, "backup", str(tmp_path / "copy.sqlite3"))
    holder.rollback()
    holder.close()
    assert backup.returncode == 0, backup.stderr
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert copy.execute("SELECT count(*) FROM invites").fetchone()[0] == 1
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()
    again = run(tmp_path, "backup", str(tmp_path / "copy.sqlite3"))
    assert again.returncode == 2 and "sudah ada" in again.stderr


def test_backup_without_database(tmp_path):
    result = run(tmp_path, "backup", str(tmp_path / "copy.sqlite3"))
    assert result.returncode == 2 and "belum ada" in result.stderr


def _one_line(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


VERB_ARGS = {
    "migrate": [],
    "invite": ["--role", "petugas", "--region", "51", "--bot-username", "kpu_bot"],
    "backup": ["{tmp}/copy.sqlite3"],
    "import-plan": ["{tmp}/plan.csv"],
    "import-tps": ["{tmp}/tps.csv"],
}


@pytest.mark.parametrize(
    ("verb", "kind"),
    [
        (verb, kind)
        for verb in VERB_ARGS
        for kind in ("not_a_database", "under_a_file", "newer_schema")
        # backup checks first that the file exists ('belum ada', above), and copies any schema
        if not (verb == "backup" and kind != "not_a_database")
    ],
)
def test_a_database_that_cannot_be_used_is_one_line_for_every_verb(tmp_path, verb, kind):
    (tmp_path / "plain_file").write_bytes(b"not SQLite at all " * 100)
    db_path = {
        "not_a_database": tmp_path / "plain_file",
        "under_a_file": tmp_path / "plain_file" / "bot.sqlite3",
        "newer_schema": tmp_path / "new.sqlite3",
    }[kind]
    if kind == "newer_schema":
        raw = sqlite3.connect(db_path)
        raw.execute("PRAGMA user_version = 9999")
        raw.close()
    (tmp_path / "plan.csv").write_text("kode_wilayah,barang,jumlah\n51.03.01,tinta,10\n")
    (tmp_path / "tps.csv").write_text("kode_wilayah,jumlah_tps\n51.03.01,10\n")
    args = [arg.format(tmp=tmp_path) for arg in VERB_ARGS[verb]]
    result = run(tmp_path, verb, *args, DATABASE_PATH=str(db_path))
    assert result.returncode == 69, result.stderr
    line = _one_line(result)
    assert line.startswith(f"error: DATABASE_PATH: {db_path}"), line
    if kind == "newer_schema":
        assert "lebih baru" in line


def test_invite_without_a_token_points_to_bot_username(tmp_path):
    result = run(tmp_path, "invite", "--role", "petugas", "--region", "51")
    assert result.returncode == 78
    line = _one_line(result)
    assert line.startswith("error: TELEGRAM_BOT_TOKEN: ") and "--bot-username" in line


async def test_invite_with_a_token_the_server_rejects_says_so_without_the_token(tmp_path):
    import asyncio

    token = "123456:" + "Q" * 35
    async with BotApiEmulator() as emu:
        result = await asyncio.to_thread(
            run,
            tmp_path,
            "invite",
            "--role",
            "petugas",
            "--region",
            "51",
            TELEGRAM_BOT_TOKEN=token,
            TELEGRAM_API_URL=emu.url,
        )
    assert result.returncode == 78
    line = _one_line(result)
    assert line.startswith("error: TELEGRAM_BOT_TOKEN: ditolak") and "--bot-username" in line
    assert "tidak terjangkau" not in line
    assert token not in result.stderr + result.stdout and "Q" * 35 not in result.stderr
