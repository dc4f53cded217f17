"""One bot per database: the lock next to it, and files created for their owner only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from storage.db import connect
from storage.instance import InstanceLock, InstanceRunning, lock_path

ROOT = Path(__file__).resolve().parents[3]


TRY_LOCK = """
import sys
from pathlib import Path
from storage.instance import InstanceLock, InstanceRunning
try:
    InstanceLock(Path(sys.argv[1])).acquire()
except InstanceRunning as exc:
    print("refused", exc.pid)
else:
    print("taken")
"""


def _other_process_tries(database) -> str:
    result = subprocess.run(
        [sys.executable, "-c", TRY_LOCK, str(database)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_another_process_is_refused_with_the_holder_pid(tmp_path):
    database = tmp_path / "bot.sqlite3"
    with InstanceLock(database) as first:
        assert first.held and lock_path(database).read_text().strip() == str(os.getpid())
        assert InstanceLock(database).acquire().held  # this process again (the entry point, then `run`): shared
        assert _other_process_tries(database) == f"refused {os.getpid()}"
    assert _other_process_tries(database) == "taken"  # released: a stale file never blocks
    assert stat.S_IMODE(lock_path(database).stat().st_mode) == 0o600


def test_the_message_names_the_pid():
    assert "pid 4242" in str(InstanceRunning(Path("/x/bot.sqlite3"), 4242))


async def test_a_new_database_and_its_wal_are_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        conn = await connect(tmp_path / "data" / "bot.sqlite3")
        await conn.execute("CREATE TABLE t (x)")
        await conn.execute("INSERT INTO t VALUES (1)")
        modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "data").iterdir()}
        await conn.close()
    finally:
        os.umask(old)
    assert modes["bot.sqlite3"] == 0o600 and modes.get("bot.sqlite3-wal", 0o600) == 0o600
