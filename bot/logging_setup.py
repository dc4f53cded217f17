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

import logging
import re
import sys
import traceback
from types import TracebackType

from bot.domain.privacy import mask_niks

_TOKEN_SHAPE = re.compile(r"(?<![0-9])\d{1,20}:[A-Za-z0-9_-]{30,64}")
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


def setup_logging(level: str = "INFO", token: str | None = None) -> None:
    """Configure the root logger once: one line per record, token redacted."""
    remember_token(token)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kpu_bot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler._kpu_bot = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokenFilter(token))
    handler.addFilter(DropBootstrapFailure())
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
