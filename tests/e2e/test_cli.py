"""The CLI verbs that are not `run`: migrate, invite, backup (while the bot runs)."""

import os
import sqlite3
import subprocess
import sys


def run(tmp_path, *args, **env):
    full_env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
                "DATABASE_PATH": str(tmp_path / "bot.sqlite3"), **env}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=tmp_path, env=full_env,
                          capture_output=True, text=True, timeout=120)


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
