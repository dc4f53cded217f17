"""Parse the one-line form of `/lapor` into a typed report, or a structured error.

`parse_lapor` is pure and total: for any string it returns a `ParsedLapor` or a `LaporError`, and
never raises. The grammar (spec.md, "Reporting: /lapor"), after an optional `@<region>`:

    logistik <barang> <diterima>[/<rencana>] [rusak <n>] [catatan…]
    data     <jenis> <jumlah> [keterangan…]
    rekap    <tps_selesai>/<tps_total> [sirekap <n>]
    insiden  <rendah|sedang|tinggi|kritis> <uraian…>

Keywords, kinds, items, problems and severities are case-insensitive. An item or problem may be
written as up to three words (`kotak suara`, `belum terdaftar`). Numbers are whole and ≥ 0, plain
(`1250`) or with Indonesian thousands separators (`1.250`, `12.500.000`). Free text is kept as
typed (only trimmed) and may be at most `MAX_TEXT` characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from bot.domain.reporting import (
    MAX_NUMBER,
    MAX_TEXT,
    DataReport,
    ErrorCode,
    InsidenReport,
    Kind,
    LaporError,
    LogistikReport,
    ParsedLapor,
    RekapReport,
    Report,
    check_against_plan,
    format_number,
    resolve_item,
    resolve_kind,
    resolve_problem,
    resolve_severity,
)

__all__ = ["incident_number", "parse_lapor", "parse_number"]

_TOKEN: Final = re.compile(r"\S+")
#: A whole number: plain ASCII digits, or groups of three after a first group of one to three.
_NUMBER: Final = re.compile(r"[0-9]+|[0-9]{1,3}(?:\.[0-9]{3})+")
_NEGATIVE: Final = re.compile(r"[-\u2212][0-9][0-9.]*")
#: Digits beyond which a number is certainly above MAX_NUMBER (and `int()` stays cheap).
_MAX_DIGITS: Final = len(str(MAX_NUMBER))
#: Longest item or problem name, in words (`alat bantu tunanetra`, `tidak memenuhi syarat`).
_MAX_TERM_WORDS: Final = 3

_DAMAGED_KEYWORD: Final = "rusak"
_SIREKAP_KEYWORD: Final = "sirekap"
_TARGET_PREFIX: Final = "@"


class _Refused(Exception):
    """Internal: carries a `LaporError` out of the nested parsing steps."""

    def __init__(self, error: LaporError) -> None:
        super().__init__(error.code.value)
        self.error = error


@dataclass(slots=True)
class _Tokens:
    """Whitespace-separated tokens of the arguments, with their positions, and a cursor."""

    text: str
    spans: list[re.Match[str]] = field(default_factory=list)
    pos: int = 0

    @classmethod
    def of(cls, text: str) -> _Tokens:
        return cls(text, list(_TOKEN.finditer(text)))

    def peek(self, ahead: int = 0) -> str | None:
        index = self.pos + ahead
        return self.spans[index].group() if index < len(self.spans) else None

    def take(self) -> str | None:
        token = self.peek()
        if token is not None:
            self.pos += 1
        return token

    def phrase(self, count: int) -> str:
        """The last `count` consumed tokens, as typed (with the spacing between them)."""
        first, last = self.spans[self.pos - count], self.spans[self.pos - 1]
        return self.text[first.start() : last.end()]

    def rest(self) -> str:
        """Everything from the current token to the end, as typed, trimmed; consumes it."""
        if self.pos >= len(self.spans):
            return ""
        start = self.spans[self.pos].start()
        self.pos = len(self.spans)
        return self.text[start:].strip()


_INCIDENT_NUMBER: Final = re.compile(r"\s*#?([0-9]{1,18})(?![0-9])")


def incident_number(text: str | None) -> int | None:
    """The report number a caption starts with ("#102", "102 foto gudang"), if it does."""
    found = _INCIDENT_NUMBER.match(text or "")
    return int(found.group(1)) if found else None


def parse_number(token: str) -> int | ErrorCode:
    """A whole number ≥ 0 from `token`, or why not.

    Accepts `1250`, `1.250`, `12.500.000`; refuses `1,5` and `1.25` (INVALID_NUMBER), `-3`
    (NEGATIVE_NUMBER) and anything above `MAX_NUMBER` (NUMBER_TOO_LARGE).
    """
    if _NUMBER.fullmatch(token):
        digits = token.replace(".", "").lstrip("0") or "0"
        if len(digits) > _MAX_DIGITS or int(digits) > MAX_NUMBER:
            return ErrorCode.NUMBER_TOO_LARGE
        return int(digits)
    if _NEGATIVE.fullmatch(token):
        return ErrorCode.NEGATIVE_NUMBER
    return ErrorCode.INVALID_NUMBER


def _number(token: str, kind: Kind) -> int:
    """`parse_number`, refusing with the token named."""
    value = parse_number(token)
    if isinstance(value, ErrorCode):
        bound = MAX_NUMBER if value is ErrorCode.NUMBER_TOO_LARGE else None
        raise _Refused(LaporError(value, token, kind, bound=bound))
    return value


def _required(tokens: _Tokens, code: ErrorCode, after: str | None, kind: Kind) -> str:
    """The next token, or refuse with `code` naming the word it should have followed (if the
    message for `code` names one)."""
    token = tokens.take()
    if token is None:
        raise _Refused(LaporError(code, after, kind))
    return token


def _number_after(tokens: _Tokens, after: str, kind: Kind) -> tuple[int, str]:
    """The number that must follow the word `after`, and its token."""
    token = _required(tokens, ErrorCode.MISSING_NUMBER, after, kind)
    return _number(token, kind), token


def _fraction(token: str, kind: Kind) -> tuple[int, int]:
    """`a/b` as two numbers; anything else with a slash is INVALID_FRACTION."""
    parts = token.split("/")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise _Refused(LaporError(ErrorCode.INVALID_FRACTION, token, kind))
    return _number(parts[0], kind), _number(parts[1], kind)


def _term(
    tokens: _Tokens,
    resolve: Callable[[str], str | None],
    missing: ErrorCode,
    unknown: ErrorCode,
    kind: Kind,
) -> tuple[str, str]:
    """A vocabulary term of up to three words (longest match first): its canonical name and the
    words as typed."""
    first = _required(tokens, missing, None, kind)
    for words in range(_MAX_TERM_WORDS, 1, -1):
        following = [tokens.peek(i) for i in range(words - 1)]
        if None in following:
            continue
        name = resolve("_".join([first, *(w for w in following if w is not None)]))
        if name is not None:
            tokens.pos += words - 1
            return name, tokens.phrase(words)
    name = resolve(first)
    if name is None:
        raise _Refused(LaporError(unknown, first, kind))
    return name, first


def _free_text(tokens: _Tokens, kind: Kind) -> str:
    """The rest of the line as typed (trimmed), at most MAX_TEXT characters."""
    text = tokens.rest()
    if len(text) > MAX_TEXT:
        raise _Refused(LaporError(ErrorCode.TEXT_TOO_LONG, format_number(len(text)), kind, bound=MAX_TEXT))
    return text


def _no_more(tokens: _Tokens, kind: Kind) -> None:
    """Refuse anything left over where the form has ended."""
    extra = tokens.peek()
    if extra is not None:
        raise _Refused(LaporError(ErrorCode.UNEXPECTED_TOKEN, extra, kind))


def _logistik(tokens: _Tokens, kind_word: str) -> LogistikReport:
    """`<barang> <diterima>[/<rencana>] [rusak <n>] [catatan…]`"""
    kind = Kind.LOGISTIK
    item, item_words = _term(tokens, resolve_item, ErrorCode.MISSING_ITEM, ErrorCode.UNKNOWN_ITEM, kind)
    amount = _required(tokens, ErrorCode.MISSING_NUMBER, item_words, kind)
    if "/" in amount:
        received, planned = _fraction(amount, kind)
        received_token: str = amount.split("/")[0]
    else:
        received, planned, received_token = _number(amount, kind), None, amount
    damaged, damaged_token = 0, None
    keyword = tokens.peek()
    if keyword is not None and keyword.casefold() == _DAMAGED_KEYWORD:
        tokens.take()
        damaged, damaged_token = _number_after(tokens, keyword, kind)
    report = LogistikReport(item, received, planned, damaged, _free_text(tokens, kind))
    error = check_against_plan(report, None, received_token=received_token, damaged_token=damaged_token)
    if error is not None:
        raise _Refused(error)
    return report


def _data(tokens: _Tokens, kind_word: str) -> DataReport:
    """`<jenis> <jumlah> [keterangan…]`"""
    kind = Kind.DATA
    problem, problem_words = _term(tokens, resolve_problem, ErrorCode.MISSING_PROBLEM, ErrorCode.UNKNOWN_PROBLEM, kind)
    count, _ = _number_after(tokens, problem_words, kind)
    return DataReport(problem, count, _free_text(tokens, kind))


def _rekap(tokens: _Tokens, kind_word: str) -> RekapReport:
    """`<tps_selesai>/<tps_total> [sirekap <n>]`"""
    kind = Kind.REKAP
    token = _required(tokens, ErrorCode.MISSING_NUMBER, kind_word, kind)
    if "/" not in token:
        # A lone number is a missing total; anything else is not a number at all.
        if isinstance(parse_number(token), int):
            raise _Refused(LaporError(ErrorCode.INVALID_FRACTION, token, kind))
        _number(token, kind)
    done, total = _fraction(token, kind)
    if total == 0:
        raise _Refused(LaporError(ErrorCode.TPS_TOTAL_ZERO, token, kind))
    if done > total:
        raise _Refused(LaporError(ErrorCode.TPS_DONE_OVER_TOTAL, token.split("/")[0], kind, bound=total))
    sirekap = None
    keyword = tokens.peek()
    if keyword is not None and keyword.casefold() == _SIREKAP_KEYWORD:
        tokens.take()
        sirekap, sirekap_token = _number_after(tokens, keyword, kind)
        if sirekap > done:
            raise _Refused(LaporError(ErrorCode.SIREKAP_OVER_DONE, sirekap_token, kind, bound=done))
    _no_more(tokens, kind)
    return RekapReport(done, total, sirekap)


def _insiden(tokens: _Tokens, kind_word: str) -> InsidenReport:
    """`<rendah|sedang|tinggi|kritis> <uraian…>`"""
    kind = Kind.INSIDEN
    token = _required(tokens, ErrorCode.MISSING_SEVERITY, None, kind)
    severity = resolve_severity(token)
    if severity is None:
        raise _Refused(LaporError(ErrorCode.UNKNOWN_SEVERITY, token, kind))
    description = _free_text(tokens, kind)
    if not description:
        raise _Refused(LaporError(ErrorCode.MISSING_DESCRIPTION, token, kind))
    return InsidenReport(severity, description)


#: Parser of the rest of the line for each kind; the second argument is the kind as typed.
_PARSERS: Final[dict[Kind, Callable[[_Tokens, str], Report]]] = {
    Kind.LOGISTIK: _logistik,
    Kind.DATA: _data,
    Kind.REKAP: _rekap,
    Kind.INSIDEN: _insiden,
}


def parse_lapor(args: str) -> ParsedLapor | LaporError:
    """Parse the text after `/lapor` (command and `@botname` already stripped).

    Returns the optional region target (the text after a leading `@`, unresolved) and the typed
    report, or a `LaporError` saying what was wrong. Logistics reports are checked against the
    plan written in the line only; check the imported plan with `check_against_plan`.
    """
    tokens = _Tokens.of(args)
    target: str | None = None
    first = tokens.peek()
    if first is not None and first.startswith(_TARGET_PREFIX):
        tokens.take()
        target = first[len(_TARGET_PREFIX) :]
        if not target:
            return LaporError(ErrorCode.EMPTY_TARGET, first)
    word = tokens.take()
    if word is None:
        return LaporError(ErrorCode.MISSING_KIND)
    kind = resolve_kind(word)
    if kind is None:
        if target is not None and (after := tokens.peek()) is not None and resolve_kind(after) is not None:
            return LaporError(ErrorCode.KIND_AFTER_TARGET, f"@{target}_{word}")  # "@Kuta Selatan rekap …"
        return LaporError(ErrorCode.UNKNOWN_KIND, word)
    try:
        report = _PARSERS[kind](tokens, word)
    except _Refused as refused:
        return refused.error
    return ParsedLapor(target, report)
