"""`Database.open` refuses a read-only database at once, naming the file (exit 69 in the CLI)."""

from __future__ import annotations

import os
import sqlite3

import pytest

from storage.db import Database, DatabaseUnavailable


async def test_a_read_only_file_is_refused_naming_it(tmp_path, monkeypatch):
    path = tmp_path / "bot.sqlite3"
    sqlite3.connect(path).close()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(path) else real_access(p, mode))
    with pytest.raises(DatabaseUnavailable, match=rf"^{path}: hanya-baca"):
        await Database.open(path)


async def test_a_healthy_database_opens(tmp_path):
    db = await Database.open(tmp_path / "bot.sqlite3")
    await db.close()
