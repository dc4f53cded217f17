from datetime import date, time
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_are_those_of_the_spec():
    s = load_settings()
    assert s.TELEGRAM_BOT_TOKEN is None
    assert s.TELEGRAM_API_URL == "https://api.telegram.org"
    assert s.DATABASE_PATH == Path("data/bot.sqlite3")
    assert s.BOT_TIMEZONE == "Asia/Makassar"
    assert s.BOT_ADMIN_IDS == []
    assert s.REGION_ROOT == "51"
    assert s.ELECTION_DAY == date(2024, 2, 14)
    assert s.DIGEST_TIMES == [time(7, 0)]
    assert s.AUTO_ESCALATE_KRITIS_MIN == 30
    assert s.AUTO_ESCALATE_TINGGI_MIN == 120
    assert s.LOG_LEVEL == "INFO"


def test_values_from_environment(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:" + "A" * 35)
    monkeypatch.setenv("BOT_ADMIN_IDS", "11, 22,33")
    monkeypatch.setenv("DIGEST_TIMES", "07:00,18:30")
    monkeypatch.setenv("REGION_ROOT", "id")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    s = load_settings()
    assert s.BOT_ADMIN_IDS == [11, 22, 33]
    assert s.DIGEST_TIMES == [time(7), time(18, 30)]
    assert s.REGION_ROOT == "ID"
    assert s.TELEGRAM_API_URL == "http://127.0.0.1:8081"
    assert s.require_token().startswith("123456:")


def test_values_from_env_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("REGION_ROOT=36\nBOT_TIMEZONE=Asia/Jakarta\n")
    s = load_settings(_env_file=".env")
    assert (s.REGION_ROOT, s.BOT_TIMEZONE) == ("36", "Asia/Jakarta")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token"),
        ("BOT_TIMEZONE", "Mars/Olympus"),
        ("BOT_ADMIN_IDS", "12,abc"),
        ("REGION_ROOT", "5103"),
        ("REGION_ROOT", "99"),  # the right shape, but no such province
        ("DATABASE_PATH", "   "),
        ("DATABASE_PATH", "/"),
        ("ELECTION_DAY", "14-02-2024"),
        ("DIGEST_TIMES", "7 pagi"),
        ("DIGEST_TIMES", "25:00"),
        ("AUTO_ESCALATE_KRITIS_MIN", "0"),
        ("AUTO_ESCALATE_TINGGI_MIN", "dua"),
        ("LOG_LEVEL", "LOUD"),
        ("TELEGRAM_API_URL", "api.telegram.org"),
    ],
)
def test_bad_value_is_one_line_naming_the_variable(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(name + ":")
    assert "\n" not in message


def test_database_path_that_is_a_folder_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="^DATABASE_PATH: .*folder"):
        load_settings(DATABASE_PATH=tmp_path)
    with pytest.raises(SettingsError, match="^DATABASE_PATH: "):
        load_settings(DATABASE_PATH="")


def test_empty_values_mean_not_set(monkeypatch):
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "BOT_ADMIN_IDS",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "DATABASE_PATH",
        "REGION_ROOT",
        "DIGEST_TIMES",
        "LOG_LEVEL",
    ):
        monkeypatch.setenv(name, "")
    s = load_settings()
    assert s.TELEGRAM_BOT_TOKEN is None and s.WEBHOOK_URL is None and s.WEBHOOK_SECRET is None
    assert s.BOT_ADMIN_IDS == [] and s.DIGEST_TIMES == [time(7, 0)]
    assert (s.DATABASE_PATH, s.REGION_ROOT, s.LOG_LEVEL) == (Path("data/bot.sqlite3"), "51", "INFO")


def test_env_example_copied_to_env_works_for_every_verb(tmp_path, monkeypatch):
    example = Path(__file__).resolve().parents[2] / ".env.example"
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(example.read_text(encoding="utf-8"), encoding="utf-8")
    s = load_settings(_env_file=".env")
    assert s.WEBHOOK_SECRET is None and s.TELEGRAM_BOT_TOKEN is None and s.BOT_ADMIN_IDS == []
    assert s.REGION_ROOT == "51" and s.DATABASE_PATH == Path("data/bot.sqlite3")
    with pytest.raises(SettingsError, match="^TELEGRAM_BOT_TOKEN: "):
        s.require_token()


def test_missing_token_is_named_only_when_needed():
    s = load_settings()
    with pytest.raises(SettingsError, match="^TELEGRAM_BOT_TOKEN: "):
        s.require_token()


def test_webhook_needs_secret(monkeypatch):
    monkeypatch.setenv("WEBHOOK_URL", "https://kpu.example/bot")
    with pytest.raises(SettingsError, match="^WEBHOOK_SECRET: "):
        load_settings()
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret_value")
    assert load_settings().WEBHOOK_SECRET == "s3cret_value"


def test_webhook_path_is_the_urls_path():
    from bot.cli import webhook_path

    assert webhook_path("https://kpu.example.org/telegram/hook") == "telegram/hook"
    assert webhook_path("https://kpu.example.org/") == ""
    assert webhook_path("https://kpu.example.org:8443/bot") == "bot"


def test_run_asks_for_what_the_handlers_use():
    from bot.cli import ALLOWED_UPDATES

    # edited messages only to tell an officer that an edited /lapor changed nothing
    assert set(ALLOWED_UPDATES) == {"message", "edited_message", "callback_query", "my_chat_member"}
