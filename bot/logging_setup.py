"""Logging (and every line we print) that never shows the bot token.

Bot API URLs contain the token. The bot's client (aiohttp, `bot.telegram.http`) logs no URLs;
httpx, PTB's default client, logs every one at INFO, so httpx and httpcore are raised to WARNING
for whatever still uses it. On top of that a filter on the root handler replaces the token (and any
`<id>:<secret>` shaped string) in every record we emit, and masks every NIK (`bot.domain.privacy`):
at DEBUG PTB logs each update whole, and a log is read by more people than the reporter. `redact` does the same for text the
command line prints, and `install_excepthook` for a traceback nobody caught (PTB's InvalidToken,
for one, puts the token in its message).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType

from bot.domain.privacy import mask_niks

_TOKEN_SHAPE = re.compile(r"(?<![0-9])\d{1,20}:[A-Za-z0-9_-]{30,64}")
#: `extra=` fields a record may carry, written as their own keys in JSON lines
CONTEXT_FIELDS = ("update_id", "chat_id", "user_id", "incident_id")
#: the ids of the update being handled, for every record logged while it is (see `bind_ids`)
_IDS: ContextVar[tuple[tuple[str, int], ...]] = ContextVar("kpu_log_ids", default=())


def bind_ids(**ids: int | None) -> None:
    """From here on in this task (the handling of one update), records carry these ids."""
    _IDS.set(tuple((name, value) for name, value in ids.items() if value is not None))


class ContextIds(logging.Filter):
    """Adds the ids bound with `bind_ids` to each record that does not carry its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in _IDS.get():
            if getattr(record, name, None) is None:
                setattr(record, name, value)
        return True


class TextFormatter(logging.Formatter):
    """One readable line: time, level, logger, message, then the ids a record carries."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [
            f"{name.removesuffix('_id')}={getattr(record, name)}"
            for name in CONTEXT_FIELDS
            if getattr(record, name, None) is not None
        ]
        if not ids:
            return line
        head, sep, rest = line.partition("\n")  # a traceback stays below the line
        return f"{head} [{' '.join(ids)}]{sep}{rest}"


_KNOWN: set[str] = set()  # the tokens this process was given


def remember_token(token: str | None) -> None:
    """From now on `token` is redacted everywhere, even where it would not look like a token."""
    if token:
        _KNOWN.add(token)


def redact(text: str, token: str | None = None) -> str:
    """`text` with the bot token (and anything shaped like one) replaced by <TOKEN>."""
    for secret in {s for s in (token, *_KNOWN) if s}:
        text = text.replace(secret, "<TOKEN>")
    return _TOKEN_SHAPE.sub("<TOKEN>", text)


def mask_nik(text: str) -> str:
    """`text` with every NIK masked as in messages (5103**********01), whatever its form: the one
    rule of `bot.domain.privacy`."""
    return mask_niks(text)


class RedactTokenFilter(logging.Filter):
    """Replaces the configured token and anything shaped like a bot token with a placeholder."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token

    def _clean(self, text: str) -> str:
        return mask_niks(redact(text, self.token))

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self._clean(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class DropBootstrapFailure(logging.Filter):
    """Drops PTB's traceback of a failed start (getMe, deleteWebhook, setWebhook): PTB re-raises the
    error, and `python -m bot run` reports it as one line naming the setting to check."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith("telegram"):
            return True
        message = record.getMessage()
        return not ("(Bootstrap " in message and "Abort" in message)


def _redacting_excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(kind, value, tb))))


def install_excepthook() -> None:
    """An uncaught exception's traceback is printed with the token redacted."""
    sys.excepthook = _redacting_excepthook


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the update, chat,
    user and incident ids a record carries (`extra=`), and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(level: str = "INFO", token: str | None = None, fmt: str = "text") -> None:
    """Configure the root logger once: one line per record (`fmt` text or json), token redacted,
    NIKs masked."""
    remember_token(token)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kpu_bot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler._kpu_bot = True  # type: ignore[attr-defined]
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(ContextIds())
    handler.addFilter(RedactTokenFilter(token))
    handler.addFilter(DropBootstrapFailure())
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
