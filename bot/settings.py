"""Settings: environment variables or a `.env` file, names and defaults as in spec.md.

A bad or missing value is reported as one line naming the variable (see `load_settings`);
the CLI turns that into exit code 78 (a configuration error), never a traceback.
"""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.domain.regions import NATIONAL, province_codes

TOKEN_RE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{30,64}$")
REGION_ROOT_RE = re.compile(r"^(ID|\d{2})$")


class SettingsError(Exception):
    """A setting is missing or malformed; the message is one line naming the variable."""


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, int):
        return [value]
    return value


class Settings(BaseSettings):
    """Every setting of the bot. Environment variables win over `.env`."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=True,
        # `VAR=` (as in .env.example) means "not set": the default applies, never a failed check
        env_ignore_empty=True,
    )

    TELEGRAM_BOT_TOKEN: str | None = None
    TELEGRAM_API_URL: str = "https://api.telegram.org"
    DATABASE_PATH: Path = Path("data/bot.sqlite3")
    BOT_TIMEZONE: str = "Asia/Makassar"
    BOT_ADMIN_IDS: Annotated[list[int], NoDecode] = Field(default_factory=list)
    REGION_ROOT: str = "51"
    ELECTION_DAY: date = date(2024, 2, 14)
    DIGEST_TIMES: Annotated[list[time], NoDecode] = Field(default_factory=lambda: [time(7, 0)])
    AUTO_ESCALATE_KRITIS_MIN: int = Field(default=30, ge=1)
    AUTO_ESCALATE_TINGGI_MIN: int = Field(default=120, ge=1)
    LOGISTICS_DEADLINE_DAYS: int = Field(default=2, ge=0)
    REMIND_TAKEN_MIN: int = Field(default=60, ge=1)
    #: from H until a kecamatan's counting is complete: no counting report for this long lists it
    #: in digests and reminds its petugas (once per period, at most hourly, not at night)
    COUNTING_SILENCE_MIN: int = Field(default=180, ge=1)
    #: processes drawing the digests' charts: empty, one per core less one (at least one); 0, a
    #: thread of the bot's process
    CHART_WORKERS: int | None = Field(default=None, ge=0)
    LOG_LEVEL: str = "INFO"
    LOG_FORMAT: str = "text"
    OPS_CHAT_ID: int | None = None
    HEALTH_PORT: int = Field(default=0, ge=0, le=65535)
    HEALTH_LISTEN: str = "127.0.0.1"
    #: an outbound proxy for every Bot API request (http://host:port, with user:password@ if needed)
    TELEGRAM_PROXY_URL: str | None = None
    #: a self-hosted Bot API server started with --local: files come as local paths
    TELEGRAM_LOCAL_MODE: bool = False

    WEBHOOK_URL: str | None = None
    WEBHOOK_LISTEN: str = "127.0.0.1"
    WEBHOOK_PORT: int = Field(default=8443, ge=1, le=65535)
    WEBHOOK_SECRET: str | None = None

    @field_validator("TELEGRAM_BOT_TOKEN")
    @classmethod
    def _token(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        value = value.strip()
        if not TOKEN_RE.match(value):
            raise ValueError("bentuk token salah (harus seperti 123456789:ABC..., dari BotFather)")
        return value

    @field_validator("TELEGRAM_API_URL")
    @classmethod
    def _api_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("harus URL http(s), misalnya https://api.telegram.org")
        return value

    @field_validator("BOT_TIMEZONE")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"zona waktu tidak dikenal: {value!r} (contoh: Asia/Makassar)") from exc
        return value

    @field_validator("BOT_ADMIN_IDS", mode="before")
    @classmethod
    def _admins(cls, value: object) -> object:
        parts = _split_csv(value)
        if isinstance(parts, list):
            for part in parts:
                if isinstance(part, str) and not part.isdigit():
                    raise ValueError(f"{part!r} bukan id pengguna Telegram (angka), pisahkan dengan koma")
        return parts

    @field_validator("DIGEST_TIMES", mode="before")
    @classmethod
    def _times(cls, value: object) -> object:
        parts = _split_csv(value)
        if isinstance(parts, list):
            out = []
            for part in parts:
                if isinstance(part, str):
                    if not re.match(r"^([01]?\d|2[0-3]):[0-5]\d$", part):
                        raise ValueError(f"jam {part!r} bukan HH:MM")
                    hh, mm = part.split(":")
                    out.append(time(int(hh), int(mm)))
                else:
                    out.append(part)
            return out
        return parts

    @field_validator("REGION_ROOT")
    @classmethod
    def _root(cls, value: str) -> str:
        value = value.strip().upper()
        if not REGION_ROOT_RE.match(value):
            raise ValueError("harus kode provinsi dua angka (misalnya 51) atau ID untuk seluruh Indonesia")
        if value != NATIONAL and value not in province_codes():
            raise ValueError(f"{value!r} bukan kode provinsi yang dikenal (misalnya 51 Bali, 36 Banten) atau ID")
        return value

    @field_validator("DATABASE_PATH", mode="before")
    @classmethod
    def _db_path_text(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("kosong; beri nama berkas SQLite, misalnya data/bot.sqlite3")
        return value

    @field_validator("DATABASE_PATH")
    @classmethod
    def _db_path(cls, value: Path) -> Path:
        if str(value) in ("", ".") or value.is_dir():
            raise ValueError(f"{str(value)!r} adalah folder; beri nama berkas, misalnya {value / 'bot.sqlite3'}")
        return value

    @field_validator("LOG_FORMAT")
    @classmethod
    def _log_format(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in {"text", "json"}:
            raise ValueError("harus text atau json")
        return value

    @field_validator("TELEGRAM_PROXY_URL")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("harus URL proxy http(s), misalnya http://127.0.0.1:3128")
        return value

    @field_validator("LOG_LEVEL")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("harus DEBUG, INFO, WARNING, ERROR atau CRITICAL")
        return value

    @model_validator(mode="after")
    def _webhook(self) -> Settings:
        if self.WEBHOOK_URL and not self.WEBHOOK_SECRET:
            raise ValueError("WEBHOOK_SECRET: wajib diisi jika WEBHOOK_URL dipakai")
        if self.WEBHOOK_SECRET is not None and not re.match(r"^[A-Za-z0-9_-]{1,256}$", self.WEBHOOK_SECRET):
            raise ValueError("WEBHOOK_SECRET: hanya boleh A-Z, a-z, 0-9, _ dan -, 1-256 karakter")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.BOT_TIMEZONE)

    def require_token(self) -> str:
        if not self.TELEGRAM_BOT_TOKEN:
            raise SettingsError("TELEGRAM_BOT_TOKEN: belum diisi (token dari BotFather, lihat README)")
        return self.TELEGRAM_BOT_TOKEN


def _one_line(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = err.get("loc", ())
        msg = str(err.get("msg", "nilai salah")).removeprefix("Value error, ")
        parts.append(f"{loc[0]}: {msg}" if loc else msg)
    return "; ".join(parts)


def load_settings(**overrides: object) -> Settings:
    """Build the settings; raise `SettingsError` with one line naming the bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None
