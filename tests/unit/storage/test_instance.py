"""One bot per database: the lock next to it, and files created for their owner only."""

from __future__ import annotations

import os
import stat

import pytest

from storage.db import connect
from storage.instance import InstanceLock, InstanceRunning, lock_path


def test_the_second_holder_is_refused_with_the_first_pid(tmp_path):
    database = tmp_path / "bot.sqlite3"
    with InstanceLock(database) as first:
        assert first.held and lock_path(database).read_text().strip() == str(os.getpid())
        with pytest.raises(InstanceRunning) as refused:
            InstanceLock(database).acquire()
        assert refused.value.pid == os.getpid() and f"pid {os.getpid()}" in str(refused.value)
    with InstanceLock(database):  # released: the next one takes it (a stale file never blocks)
        pass
    assert stat.S_IMODE(lock_path(database).stat().st_mode) == 0o600


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
