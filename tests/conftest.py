"""Shared fixtures: settings on a tmp_path database, an opened runtime with Bali's regions, and
`register` to add a user to it the way an invite link does."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.settings import Settings

SETTING_NAMES = list(Settings.model_fields)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's environment or .env file."""
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(Settings.model_config, "env_file", None)


@pytest.fixture(autouse=True)
def _restore_logging():
    """Tests that configure logging (the demo, the logging tests) leave the root logger as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    levels = {name: logging.getLogger(name).level for name in ("httpx", "httpcore", "apscheduler")}
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
    for name, value in levels.items():
        logging.getLogger(name).setLevel(value)


@pytest.fixture
def make_settings(tmp_path):
    def make(**overrides) -> Settings:
        values = {"DATABASE_PATH": tmp_path / "bot.sqlite3"} | overrides
        return Settings(**values)

    return make


class FakeClock:
    """A clock tests move by hand: `clock.advance(minutes=31)`."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 2, 12, 1, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def rt(make_settings, clock):
    from bot.app import open_runtime

    runtime = await open_runtime(make_settings(BOT_ADMIN_IDS="1"), clock)
    runtime.bot_username = "kpu_test_bot"
    yield runtime
    await runtime.db.close()


@pytest.fixture
def register(rt):
    """`await register(uid, role, region)`: a user registered in `rt` through an invite from the admin
    (Telegram id 1), as opening the invite link does; returns the user."""
    from bot.services import registration
    from storage import users as user_store

    async def register(uid: int, role: str, region: str):
        admin = await user_store.get(rt.db, 1)
        invite = await registration.create_invite(rt, admin, role, region)
        return (await registration.redeem(rt, invite.code, uid, f"User {uid}", None)).user

    return register


async def audit_rows(db, *, action: str | None = None) -> list[dict]:
    """The audit trail, newest first (the bot only writes it: it is read here, in SQL)."""
    sql = "SELECT id, at, actor_id, action, target, detail FROM audit_log"
    params: tuple = (action,) if action else ()
    rows = await db.fetchall(sql + (" WHERE action = ?" if action else "") + " ORDER BY id DESC", params)
    return [dict(row) | {"detail": json.loads(row["detail"])} for row in rows]
