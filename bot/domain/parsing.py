"""Parse the one-line form of `/lapor` into typed reports, or a structured error.

`parse_lapor` is pure and total: for any string it returns a `ParsedLapor` or a `LaporError`, and
never raises. The grammar (spec.md, "Reporting: /lapor"), after an optional `@<region>`:

    logistik <barang> [:|=] <diterima>[/<rencana>] [rusak <n>] {<barang> <diterima>…} [catatan…]
    data     [pemilih|DPT] <jenis> [:|=] <jumlah> [keterangan…]
    hitung   <tps_selesai>[/<tps_total>] [TPS] [sirekap|upload [:|=] <n>]   (also: rekap <tps_selesai>…)
    rekap    <jenis_pemilihan> <desa_selesai>/<desa_total> [desa]
    insiden  [rendah|sedang|tinggi|kritis|darurat|mendesak] <uraian…>

The kind may be written in the field's words (`penghitungan` for `hitung`, `rekapitulasi` for
`rekap`, `kejadian` for `insiden`: `bot.domain.reporting.KIND_WORDS`); `rekap` followed directly by
numbers is penghitungan, as it was written before `hitung` existed. Keywords, kinds, items,
problems, jenis pemilihan and severities are case-insensitive; an item or problem may be written
as up to five words (`kotak suara`, `pindah memilih`, `surat suara dprd kab kota`). Figures follow the one grammar of `bot.domain.numbers`: `1.025`, `293 ribu`,
`1,2 rb`, `118/120`, `118 dari 120`, `180 / 205`; damage as `rusak 2`, `rusak2`, `3 rusak` or
`(5 rusak)`. Nothing that looks like a figure is kept as a note: a number left over where the
form has none is refused (`LEFTOVER_FIGURE`), and two numbers where one is expected are refused
with the hint to join them (`293 150` → `293.150`). Free text is kept as typed (only trimmed) and
may be at most `MAX_TEXT` characters.

`split_message` cuts a message into its `/lapor` lines: a message may carry several.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from bot.domain.numbers import Figure, NumberProblem, Token, TokenKind, Unread, lex, looks_numeric, read_figure
from bot.domain.reporting import (
    DEFAULT_SEVERITY,
    MAX_NUMBER,
    MAX_TEXT,
    SEVERITY_WORDS,
    DataReport,
    ErrorCode,
    HitungReport,
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
    resolve_jenis,
    resolve_kind,
    resolve_problem,
    resolve_severity,
)

__all__ = ["MAX_REPORTS", "incident_number", "parse_lapor", "parse_message", "parse_number", "split_message"]

#: Longest item or problem name, in words (`surat suara dprd kab kota`, `tidak memenuhi syarat`).
_MAX_TERM_WORDS: Final = 5
#: Most reports one message may carry (lines, or items of one logistics line).
MAX_REPORTS: Final = 20

_DAMAGED: Final = "rusak"
_OF: Final = "dari"
_TPS: Final = "tps"
_DESA: Final = "desa"
_SIREKAP: Final = frozenset({"sirekap", "upload", "unggah", "diunggah"})
_VOTER_PREFIX: Final = frozenset({"pemilih", "dpt"})
_TARGET_PREFIX: Final = "@"
#: A first word of an insiden this long and this close to a severity is a mistyped one.
_SEVERITY_TYPO_MIN: Final = 5
#: A word of a note that hides a figure of the form: `(5rusak`, `rusak2x`, `3rb-an`.
_GLUED_FIGURE: Final = re.compile(r"(?i)[0-9](?:rusak|ribu|rb|juta|jt)|(?:rusak|sirekap)[:=]?[0-9]")
_LAPOR_LINE: Final = re.compile(r"(?im)^[ \t]*/lapor(?:@\w+)?(?=\s|$)")

_NUMBER_ERRORS: Final = {
    NumberProblem.MISSING: ErrorCode.MISSING_NUMBER,
    NumberProblem.INVALID: ErrorCode.INVALID_NUMBER,
    NumberProblem.NEGATIVE: ErrorCode.NEGATIVE_NUMBER,
    NumberProblem.TOO_LARGE: ErrorCode.NUMBER_TOO_LARGE,
    NumberProblem.SPLIT: ErrorCode.SPLIT_NUMBER,
}


class _Refused(Exception):
    """Internal: carries a `LaporError` out of the nested parsing steps."""

    def __init__(self, error: LaporError) -> None:
        super().__init__(error.code.value)
        self.error = error


def split_message(args: str) -> list[str]:
    """The arguments of each `/lapor` line of a message, given the text after the first command:
    a line starting with `/lapor` begins the next report; other lines continue the one before
    (an incident's uraian may take several lines)."""
    parts: list[str] = []
    start = 0
    for found in _LAPOR_LINE.finditer(args):
        parts.append(args[start : found.start()].strip())
        start = found.end()
    parts.append(args[start:].strip())
    return parts


_INCIDENT_NUMBER: Final = re.compile(r"\s*#?([0-9]{1,18})(?![0-9])")


def incident_number(text: str | None) -> int | None:
    """The report number a caption starts with ("#102", "102 foto gudang"), if it does."""
    found = _INCIDENT_NUMBER.match(text or "")
    return int(found.group(1)) if found else None


def parse_number(token: str) -> int | ErrorCode:
    """A whole number ≥ 0 written alone (`1250`, `1.250`, `293 ribu`, `1,2 rb`), or why not."""
    tokens = lex(token)
    figure = read_figure(token, tokens, 0)
    if isinstance(figure, Unread):
        return ErrorCode.INVALID_NUMBER if figure.problem is NumberProblem.MISSING else _NUMBER_ERRORS[figure.problem]
    if figure.end != len(tokens):
        return ErrorCode.INVALID_NUMBER
    if figure.value > MAX_NUMBER:
        return ErrorCode.NUMBER_TOO_LARGE
    return figure.value


@dataclass(slots=True)
class _Line:
    """The tokens of one line, a cursor, and the kind being parsed (for errors)."""

    text: str
    tokens: list[Token]
    kind: Kind | None = None
    pos: int = 0

    def peek(self, ahead: int = 0) -> Token | None:
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def word(self, ahead: int = 0) -> str | None:
        """The folded word at the cursor (+ahead), None when it is not a word."""
        token = self.peek(ahead)
        return token.folded if token is not None and token.kind is TokenKind.WORD else None

    def skip(self, kind: TokenKind) -> bool:
        token = self.peek()
        if token is not None and token.kind is kind:
            self.pos += 1
            return True
        return False

    def span(self, first: int, end: int) -> str:
        return self.text[self.tokens[first].start : self.tokens[end - 1].end]

    def rest(self) -> str:
        """Everything from the cursor to the end, as typed, trimmed; consumes it."""
        if self.pos >= len(self.tokens):
            return ""
        start = self.tokens[self.pos].start
        self.pos = len(self.tokens)
        return self.text[start:].strip()

    def refuse(self, code: ErrorCode, token: str | None, bound: int | None = None, hint: str | None = None) -> _Refused:
        return _Refused(LaporError(code, token, self.kind, bound=bound, hint=hint))

    def figure(self, after: str, may_follow: frozenset[str] = frozenset()) -> Figure:
        """The figure at the cursor (consumed), or refuse naming the word it should follow."""
        found = read_figure(self.text, self.tokens, self.pos, may_follow=may_follow)
        if isinstance(found, Unread):
            code = _NUMBER_ERRORS[found.problem]
            bound = MAX_NUMBER if code is ErrorCode.NUMBER_TOO_LARGE else None
            raise self.refuse(code, found.text or after, bound, found.hint)
        if found.value > MAX_NUMBER:
            raise self.refuse(ErrorCode.NUMBER_TOO_LARGE, found.text, MAX_NUMBER)
        self.pos = found.end
        return found


def _term(line: _Line, resolve: Callable[[str], str | None], missing: ErrorCode, unknown: ErrorCode) -> tuple[str, str]:
    """A vocabulary term of up to `_MAX_TERM_WORDS` words (longest match first): its canonical name and the
    words as typed."""
    first = line.peek()
    if first is None:
        raise line.refuse(missing, None)
    if first.kind is not TokenKind.WORD:
        raise line.refuse(unknown, first.text)
    found = _term_at(line, resolve)
    if found is None:
        raise line.refuse(unknown, first.text)
    return found


def _term_at(line: _Line, resolve: Callable[[str], str | None]) -> tuple[str, str] | None:
    """The term at the cursor (consumed), or None (nothing consumed)."""
    for words in range(_MAX_TERM_WORDS, 0, -1):
        parts = [line.word(i) for i in range(words)]
        if None in parts:
            continue
        name = resolve("_".join(p for p in parts if p is not None))
        if name is not None:
            start = line.pos
            line.pos += words
            return name, line.span(start, line.pos)
    return None


def _free_text(line: _Line) -> str:
    """The rest of the line as typed (trimmed), at most MAX_TEXT characters."""
    text = line.rest()
    if len(text) > MAX_TEXT:
        raise line.refuse(ErrorCode.TEXT_TOO_LONG, format_number(len(text)), MAX_TEXT)
    return text


def _no_more(line: _Line) -> None:
    """Refuse anything left over where the form has ended."""
    extra = line.peek()
    if extra is not None:
        code = ErrorCode.LEFTOVER_FIGURE if looks_numeric(extra) else ErrorCode.UNEXPECTED_TOKEN
        raise line.refuse(code, extra.text)


def _check_note(line: _Line, resolve_names: Callable[[str], str | None] | None = None) -> None:
    """A note must not hold figures of the form: a number first, `rusak` next to a number, `dari`
    or `/` between numbers, a scaled number, or a name of the vocabulary followed by a number.
    Numbers inside words (`TPS 12`, a NIK) are the note's own."""
    tokens, at = line.tokens, line.pos
    if at >= len(tokens):
        return
    first = tokens[at]
    if looks_numeric(first) or first.kind in (TokenKind.SLASH, TokenKind.SEP, TokenKind.OPEN, TokenKind.COMMA):
        if looks_numeric(first) or _numeric_near(tokens, at + 1):
            raise line.refuse(ErrorCode.LEFTOVER_FIGURE, _figure_text(line, at))
    for i in range(at, len(tokens)):
        token = tokens[i]
        if token.kind is TokenKind.WORD and _GLUED_FIGURE.search(token.text):
            raise line.refuse(ErrorCode.LEFTOVER_FIGURE, token.text)
        if token.kind is TokenKind.WORD and token.folded in (_DAMAGED, _OF, *_SIREKAP):
            if _numeric_near(tokens, i + 1):
                raise line.refuse(ErrorCode.LEFTOVER_FIGURE, _figure_text(line, i))
            if token.folded == _DAMAGED and _numeric_before(tokens, i, at):
                raise line.refuse(ErrorCode.LEFTOVER_FIGURE, line.span(_last_numeric(tokens, i), i + 1))
        if token.kind is TokenKind.SLASH and _numeric_before(tokens, i, at) and _numeric_near(tokens, i + 1):
            raise line.refuse(ErrorCode.LEFTOVER_FIGURE, _figure_text(line, i - 1))
        if looks_numeric(token) and i + 1 < len(tokens) and tokens[i + 1].folded in ("ribu", "rb", "rb.", "juta", "jt"):
            raise line.refuse(ErrorCode.LEFTOVER_FIGURE, _figure_text(line, i))
        if resolve_names is not None and token.kind is TokenKind.WORD:
            probe = _Line(line.text, tokens, line.kind, i)
            if _term_at(probe, resolve_names) is not None and _numeric_near(tokens, probe.pos):
                raise line.refuse(ErrorCode.LEFTOVER_FIGURE, _figure_text(line, i))


def _numeric_near(tokens: list[Token], at: int) -> bool:
    """A number at `at`, possibly after `:`, `=` or `(`."""
    while at < len(tokens) and tokens[at].kind in (TokenKind.SEP, TokenKind.OPEN):
        at += 1
    return at < len(tokens) and looks_numeric(tokens[at])


def _numeric_before(tokens: list[Token], at: int, floor: int) -> bool:
    back = at - 1
    while back >= floor and tokens[back].kind in (TokenKind.CLOSE, TokenKind.OPEN, TokenKind.COMMA):
        back -= 1
    return back >= floor and looks_numeric(tokens[back])


def _last_numeric(tokens: list[Token], at: int) -> int:
    """Index of the number before `at` (past brackets and commas)."""
    back = at - 1
    while not looks_numeric(tokens[back]):
        back -= 1
    return back


def _figure_text(line: _Line, at: int) -> str:
    """The few tokens from `at` that look like a figure, as typed (`dari 120`, `(5 rusak)`)."""
    at = max(at, 0)
    end = min(at + 3, len(line.tokens))
    for i in range(at + 1, end):
        if line.tokens[i].kind is TokenKind.WORD and not looks_numeric(line.tokens[i]):
            if line.tokens[i].folded not in (_DAMAGED, "ribu", "rb", "juta", "tps"):
                end = i
                break
    return line.span(at, end)


def _pair(line: _Line, first: Figure) -> Figure | None:
    """`/<n>`, ` / <n>` or `dari <n>` after `first`, or None; a third number (`1/2/3`) or a slash
    without a number after it is INVALID_FRACTION."""
    slash = line.skip(TokenKind.SLASH)
    if not slash and line.word() == _OF and _numeric_near(line.tokens, line.pos + 1):
        line.pos += 1
    elif not slash:
        return None
    token = line.peek()
    if token is None or not looks_numeric(token):
        raise line.refuse(ErrorCode.INVALID_FRACTION, line.span(first.first, line.pos))
    second = line.figure("/", may_follow=frozenset({_DAMAGED}))
    after = line.peek()
    if after is not None and after.kind is TokenKind.SLASH:
        end = line.pos + 2 if line.pos + 1 < len(line.tokens) else line.pos + 1
        raise line.refuse(ErrorCode.INVALID_FRACTION, line.span(first.first, end))
    return second


def _damage(line: _Line) -> tuple[int, str | None]:
    """`rusak <n>`, `rusak2`, `rusak: 2`, `3 rusak`, `(5 rusak)`, after an optional comma."""
    start = line.pos
    line.skip(TokenKind.COMMA)
    if line.word() == _DAMAGED:
        line.pos += 1
        line.skip(TokenKind.SEP)
        figure = line.figure(_DAMAGED)
        return figure.value, figure.text
    opened = line.skip(TokenKind.OPEN)
    token = line.peek()
    if token is not None and token.kind is TokenKind.NUMBER and line.word(1) == _DAMAGED:
        figure = line.figure(_DAMAGED, may_follow=frozenset({_DAMAGED}))
        line.pos += 1  # the word rusak
        if opened and not line.skip(TokenKind.CLOSE):
            raise line.refuse(ErrorCode.UNEXPECTED_TOKEN, line.span(start, min(line.pos, len(line.tokens))))
        return figure.value, figure.text
    line.pos = start
    return 0, None


def _slash_first(line: _Line) -> None:
    """`/120` where the first number should be: INVALID_FRACTION."""
    token = line.peek()
    if token is not None and token.kind is TokenKind.SLASH:
        end = line.pos + 2 if line.pos + 1 < len(line.tokens) else line.pos + 1
        raise line.refuse(ErrorCode.INVALID_FRACTION, line.span(line.pos, end))


def _logistik(line: _Line, kind_word: str) -> list[Report]:
    """`<barang> <diterima>[/<rencana>] [rusak <n>]` one or more times, then `[catatan…]`."""
    entries: list[tuple[str, Figure, Figure | None, int, str | None]] = []
    while True:
        item, item_words = _term(line, resolve_item, ErrorCode.MISSING_ITEM, ErrorCode.UNKNOWN_ITEM)
        if any(entry[0] == item for entry in entries):
            raise line.refuse(ErrorCode.DUPLICATE_ITEM, item_words)
        line.skip(TokenKind.SEP)
        _slash_first(line)
        received = line.figure(item_words, may_follow=frozenset({_DAMAGED}))
        planned = _pair(line, received)
        damaged, damaged_token = _damage(line)
        entries.append((item, received, planned, damaged, damaged_token))
        if not _another_item(line):
            break
    _check_note(line, resolve_item)
    note = _free_text(line)
    reports: list[Report] = []
    for item, received, planned, damaged, damaged_token in entries:
        report = LogistikReport(item, received.value, planned.value if planned else None, damaged, note)
        error = check_against_plan(report, None, received_token=received.text, damaged_token=damaged_token)
        if error is not None:
            raise _Refused(error)
        reports.append(report)
    return reports


def _another_item(line: _Line) -> bool:
    """After an item's figures: is another `<barang> <angka>` next (after an optional comma or
    `dan`)? The cursor moves to it if so."""
    start = line.pos
    line.skip(TokenKind.COMMA)
    if line.word() == "dan":
        line.pos += 1
    probe = line.pos
    if _term_at(line, resolve_item) is not None and _numeric_near(line.tokens, line.pos):
        line.pos = probe
        return True
    line.pos = start
    return False


def _data(line: _Line, kind_word: str) -> list[Report]:
    """`[pemilih|DPT] <jenis> <jumlah> [keterangan…]`"""
    if line.word() in _VOTER_PREFIX and line.word(1) is not None:
        probe = _Line(line.text, line.tokens, line.kind, line.pos + 1)
        if _term_at(probe, resolve_problem) is not None:
            line.pos += 1
    problem, problem_words = _term(line, resolve_problem, ErrorCode.MISSING_PROBLEM, ErrorCode.UNKNOWN_PROBLEM)
    line.skip(TokenKind.SEP)
    count = line.figure(problem_words)
    _check_note(line)
    return [DataReport(problem, count.value, _free_text(line))]


def _hitung(line: _Line, kind_word: str) -> list[Report]:
    """`<tps_selesai>[/<tps_total>] [TPS] [sirekap|upload <n>]`; without a total the imported number
    of TPS is used (the reporting service checks it)."""
    line.kind = Kind.HITUNG
    line.skip(TokenKind.SEP)
    _slash_first(line)
    done = line.figure(kind_word)
    total = _pair(line, done)
    if line.word() == _TPS:
        line.pos += 1
    if total is not None and total.value == 0:
        raise line.refuse(ErrorCode.TPS_TOTAL_ZERO, f"{done.text}/{total.text}")
    if total is not None and done.value > total.value:
        raise line.refuse(ErrorCode.TPS_DONE_OVER_TOTAL, done.text, total.value)
    sirekap = None
    line.skip(TokenKind.COMMA)
    keyword = line.word()
    if keyword in _SIREKAP:
        line.pos += 1
        line.skip(TokenKind.SEP)
        figure = line.figure(keyword or "sirekap")
        if line.word() == _TPS:
            line.pos += 1
        sirekap = figure.value
        if sirekap > done.value:
            raise line.refuse(ErrorCode.SIREKAP_OVER_DONE, figure.text, done.value)
    _no_more(line)
    return [HitungReport(done.value, total.value if total is not None else None, sirekap)]


def _rekap(line: _Line, kind_word: str) -> list[Report]:
    """`<jenis_pemilihan> <desa_selesai>/<desa_total> [desa]` (rekapitulasi kecamatan); `rekap`
    followed directly by a number is penghitungan, as it was written before `hitung` existed."""
    first = line.peek()
    if first is None:
        raise line.refuse(ErrorCode.MISSING_JENIS, None)
    if first.kind is not TokenKind.WORD or looks_numeric(first):
        return _hitung(line, kind_word)
    jenis, jenis_words = _term(line, resolve_jenis, ErrorCode.MISSING_JENIS, ErrorCode.UNKNOWN_JENIS)
    line.skip(TokenKind.SEP)
    _slash_first(line)
    done = line.figure(jenis_words)
    total = _pair(line, done)
    if total is None:
        raise line.refuse(ErrorCode.INVALID_FRACTION, done.text)
    if line.word() == _DESA:
        line.pos += 1
    if total.value == 0:
        raise line.refuse(ErrorCode.DESA_TOTAL_ZERO, f"{done.text}/{total.text}")
    if done.value > total.value:
        raise line.refuse(ErrorCode.DESA_DONE_OVER_TOTAL, done.text, total.value)
    _no_more(line)
    return [RekapReport(jenis, done.value, total.value)]


def _typo(word: str, meant: str) -> bool:
    """`word` is `meant` with two letters swapped (`kritsi`), one left out (`tingi`) or one doubled
    or added (`kritiss`) — the slips of a thumb, not another word (`krisis`, `sedangkan`)."""
    if word == meant:
        return False
    if len(word) == len(meant):
        diff = [i for i, (a, b) in enumerate(zip(word, meant, strict=True)) if a != b]
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and word[diff[0]] == meant[diff[1]]
            and word[diff[1]] == meant[diff[0]]
        )
    shorter, longer = sorted((word, meant), key=len)
    return len(longer) - len(shorter) == 1 and any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def _insiden(line: _Line, kind_word: str) -> list[Report]:
    """`[tingkat] <uraian…>`; without a tingkat, sedang."""
    first = line.word()
    severity = resolve_severity(first) if first is not None else None
    if severity is not None:
        line.pos += 1
    elif first is not None and len(first) >= _SEVERITY_TYPO_MIN and any(_typo(first, w) for w in SEVERITY_WORDS):
        raise line.refuse(ErrorCode.UNKNOWN_SEVERITY, line.tokens[line.pos].text)  # `kritsi`: not sedang
    description = _free_text(line)
    if not description:
        raise line.refuse(ErrorCode.MISSING_DESCRIPTION, first or kind_word)
    return [InsidenReport(severity or DEFAULT_SEVERITY, description)]


#: Parser of the rest of the line for each kind; the second argument is the kind as typed.
_PARSERS: Final[dict[Kind, Callable[[_Line, str], list[Report]]]] = {
    Kind.LOGISTIK: _logistik,
    Kind.DATA: _data,
    Kind.HITUNG: _hitung,
    Kind.REKAP: _rekap,
    Kind.INSIDEN: _insiden,
}


def parse_lapor(args: str) -> ParsedLapor | LaporError:
    """Parse the text after `/lapor` (command and `@botname` already stripped), one line.

    Returns the optional region target (the text after a leading `@`, unresolved) and the typed
    reports (several for a logistics line naming several items), or a `LaporError` saying what
    was wrong. Logistics reports are checked against the plan written in the line only; check the
    imported plan with `check_against_plan`.
    """
    stripped = args.strip()
    target: str | None = None
    if stripped.startswith(_TARGET_PREFIX):
        first, _, stripped = stripped.partition(" ") if " " in stripped.split("\n")[0] else stripped.partition("\n")
        target = first[len(_TARGET_PREFIX) :]
        if not target:
            return LaporError(ErrorCode.EMPTY_TARGET, first)
    parts = stripped.split(maxsplit=1)
    if not parts:
        return LaporError(ErrorCode.MISSING_KIND)
    word = parts[0]
    kind_word, sep, after = word.partition(":")
    kind = resolve_kind(kind_word)
    if kind is None:
        following = parts[1].split(maxsplit=1)[0] if len(parts) == 2 else None
        if target is not None and following is not None and resolve_kind(following) is not None:
            return LaporError(ErrorCode.KIND_AFTER_TARGET, f"@{target}_{word}")  # "@Kuta Selatan rekap …"
        return LaporError(ErrorCode.UNKNOWN_KIND, word)
    rest = (
        (after + " " + (parts[1] if len(parts) == 2 else "")).strip() if sep else (parts[1] if len(parts) == 2 else "")
    )
    line = _Line(rest, lex(rest), kind)
    try:
        reports = _PARSERS[kind](line, kind_word)
    except _Refused as refused:
        return refused.error
    return ParsedLapor(target, tuple(reports))


def parse_message(args: str) -> list[ParsedLapor] | LaporError:
    """Every `/lapor` line of a message (the text after its first command), or the first error,
    naming its line when the message has several: a message is taken whole or not at all."""
    lines = split_message(args)
    if len(lines) > MAX_REPORTS:
        return LaporError(ErrorCode.TOO_MANY_REPORTS, None, bound=MAX_REPORTS)
    parsed: list[ParsedLapor] = []
    for number, line in enumerate(lines, start=1):
        result = parse_lapor(line)
        if isinstance(result, LaporError):
            return replace(result, line=number) if len(lines) > 1 else result
        parsed.append(result)
    if sum(len(p.reports) for p in parsed) > MAX_REPORTS:
        return LaporError(ErrorCode.TOO_MANY_REPORTS, None, bound=MAX_REPORTS)
    return parsed
