"""Logging that never shows the bot token.

httpx logs every request URL at INFO, and Bot API URLs contain the token, so httpx and httpcore
are raised to WARNING; on top of that a filter on the root handler replaces the token (and any
`bot<id>:<secret>` shaped string) in every record we emit.
"""

from __future__ import annotations

import logging
import re

_TOKEN_SHAPE = re.compile(r"\d{5,20}:[A-Za-z0-9_-]{30,64}")


class RedactTokenFilter(logging.Filter):
    """Replaces the configured token and anything shaped like a bot token with a placeholder."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token

    def _clean(self, text: str) -> str:
        if self.token:
            text = text.replace(self.token, "<TOKEN>")
        return _TOKEN_SHAPE.sub("<TOKEN>", text)

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


def setup_logging(level: str = "INFO", token: str | None = None) -> None:
    """Configure the root logger once: one line per record, token redacted."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_kpu_bot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler._kpu_bot = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactTokenFilter(token))
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
