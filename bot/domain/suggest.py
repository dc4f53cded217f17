"""Near misses: what an officer most likely meant, as a line the parser accepts. Pure.

`correct_line` fixes up to three mistyped words of a `/lapor` message (`ktak suara` → `kotak
suara`, `logistic` → `logistik`, `kritsi` → `kritis`), each replaced by the closest word of the
vocabulary; it answers only when the corrected message parses, so a suggestion can always be
sent as it is. `report_in_plain_text` reads a message typed without `/lapor` (`kotak suara sudah
tiba 1025`) as the report it looks like. `closest_command` names the command a mistyped one
(`/laporan`) stands for. The caller shows the suggestion and lets the officer send it: nothing
here stores or decides anything.
"""

from __future__ import annotations

import re
from difflib import get_close_matches
from typing import Final

from bot.domain.parsing import parse_lapor, parse_message
from bot.domain.reporting import (
    DATA_PROBLEMS,
    ITEMS,
    KIND_WORDS,
    SEVERITY_WORDS,
    ErrorCode,
    Kind,
    LaporError,
    ParsedLapor,
)

__all__ = ["closest_command", "correct_line", "report_in_plain_text"]

#: How alike a word must be to the one it stands for (difflib's ratio).
_CUTOFF: Final = 0.75
_MAX_FIXES: Final = 3


def _spellings(terms) -> list[str]:
    words: list[str] = []
    for term in terms.values():
        for spelling in (term.name, *term.aliases):
            words.append(spelling.replace("_", " "))
    return words


_VOCABULARY: Final[dict[ErrorCode, list[str]]] = {
    ErrorCode.UNKNOWN_KIND: list(KIND_WORDS),
    ErrorCode.UNKNOWN_ITEM: _spellings(ITEMS),
    ErrorCode.UNKNOWN_PROBLEM: _spellings(DATA_PROBLEMS),
    ErrorCode.UNKNOWN_SEVERITY: list(SEVERITY_WORDS),
}

#: Words of a sentence that carry no figure: left out when a plain message is read as a report.
_FILLER: Final = frozenset(
    "sudah telah baru tiba datang sampai diterima terima masuk ada sebanyak jumlah total yang "
    "sebesar hari ini kami untuk di ke pak bu mohon lapor laporan".split()
)
#: Kinds a plain message may be read as: figures only (any text would read as an insiden).
_PLAIN_KINDS: Final = (Kind.LOGISTIK, Kind.DATA, Kind.REKAP)


def correct_line(args: str) -> str | None:
    """`args` (a `/lapor` message after the command) with its mistyped words replaced, when the
    result parses; None when nothing is mistyped, or the mistake is not a near miss."""
    line = args
    for _ in range(_MAX_FIXES + 1):
        parsed = parse_message(line)
        if not isinstance(parsed, LaporError):
            return line if line != args else None
        fixed = _fix(line, parsed)
        if fixed is None:
            return None
        line = fixed
    return None


def _fix(line: str, error: LaporError) -> str | None:
    words = _VOCABULARY.get(error.code)
    if words is None or not error.token:
        return None
    match = get_close_matches(error.token.casefold(), words, 1, _CUTOFF)
    if not match:
        return None
    found = re.search(rf"(?<!\S){re.escape(error.token)}(?!\S)", line)
    if found is None:
        return None
    return line[: found.start()] + match[0] + line[found.end() :]


def report_in_plain_text(text: str) -> str | None:
    """The `/lapor` arguments a message typed without the command most likely means, if it reads
    as a report with figures: as typed (`logistik kotak 1025`), or with a kind put in front of its
    words that carry meaning (`kotak suara sudah tiba 1025` → `logistik kotak suara 1025`)."""
    text = " ".join(text.split())
    if not text or not any(c.isdigit() for c in text):
        return None
    direct = _parses(text) or correct_line(text)
    if direct is not None:
        return direct
    kept = " ".join(word for word in text.split() if word.casefold() not in _FILLER)
    for kind in _PLAIN_KINDS:
        candidate = f"{kind.value} {kept}"
        found = _parses(candidate) or correct_line(candidate)
        if found is not None:
            return found
    return None


def _parses(line: str) -> str | None:
    return line if isinstance(parse_lapor(line), ParsedLapor) else None


def closest_command(word: str, names: list[str]) -> str | None:
    """The command name `word` (without `/`) most likely stands for, or None."""
    match = get_close_matches(word.casefold(), names, 1, _CUTOFF)
    return match[0] if match else None
