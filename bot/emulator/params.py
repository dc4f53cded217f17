"""Request parameters as the official Bot API server sees them: every value is a string.

Faithful to Telegram: parameters may come from the query string, an urlencoded or multipart form, or a
JSON object body; in the latter, non-string values are kept as their JSON text (so ``{"chat_id": 5}``
and ``chat_id=5`` are the same).  The first occurrence of a name wins, the query string first.  An empty
value counts as absent.  Integers are read like tdlib's ``to_integer`` (leading digits, otherwise 0) and
clamped where the API defines a range; booleans are ``true``/``yes``/``1`` (case-insensitive).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import bad_request
from .world import to_integer


@dataclass
class Upload:
    """A multipart file part."""

    data: bytes
    filename: str | None
    content_type: str | None


def json_arg(value: Any) -> str:
    """Encode a JSON-body value the way the Bot API server stores it as an argument."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Params:
    """Read access with Telegram's coercions; see module docstring."""

    def __init__(self, args: dict[str, str], files: dict[str, Upload] | None = None) -> None:
        self.args = args
        self.files = files or {}

    def get(self, name: str) -> str:
        return self.args.get(name, "")

    def has(self, name: str) -> bool:
        return bool(self.args.get(name)) or name in self.files

    def required(self, name: str) -> str:
        value = self.get(name)
        if not value:
            raise bad_request(f'Parameter "{name}" is required')
        return value

    def int(self, name: str, default: int = 0, lo: int | None = None, hi: int | None = None) -> int:
        raw = self.get(name)
        value = default if not raw else to_integer(raw)
        if lo is not None:
            value = max(lo, value)
        if hi is not None:
            value = min(hi, value)
        return value

    def bool(self, name: str) -> bool:
        return self.get(name).strip().lower() in ("true", "yes", "1")

    def json(self, name: str, error: str) -> Any:
        """Decoded JSON parameter, ``None`` when absent; ``error`` is tdlib's "Can't parse ..." text."""
        raw = self.get(name)
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise bad_request(error) from None

    def file(self, name: str) -> Upload | None:
        return self.files.get(name)

    def as_dict(self) -> dict[str, str]:
        return dict(self.args)
