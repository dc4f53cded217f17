"""One grammar for the numbers officers type, used by every `/lapor` form and the guided flow.

Pure: text in, tokens and figures out, no I/O and no wording. A number is read whole or not at
all — never a fragment of a longer one:

- `1025`, `1.025`, `12.500.000` (dots between groups of three) are whole numbers;
- `293 ribu`, `293rb`, `1,2 rb`, `1,5 juta` are scaled (a decimal comma only before a scale, and
  the result must be whole: `1,2345 rb` is refused);
- `118/120`, `118 / 120` and `118 dari 120` are a pair (see `bot.domain.parsing`);
- `293 150` is refused with the hint `293.150`; `1,5` or `1.25` without a scale is refused;
- digits glued to letters (`TPS12`, `1025abc`) are a word, not a number, except after the
  keywords that take a number (`rusak2`, `sirekap150`) and before a scale (`293rb`).

`lex` splits a line into `Token`s (words, numbers and the punctuation that matters around
figures: `/`, `:`, `=`, `(`, `)`, `,`) with their places in the text, so that what is left over
can be kept exactly as typed. `read_figure` reads one figure at a token.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

__all__ = [
    "GLUE_BEFORE_NUMBER",
    "SCALES",
    "Figure",
    "NumberProblem",
    "Token",
    "TokenKind",
    "lex",
    "looks_numeric",
    "read_figure",
    "value_of",
]


class TokenKind(StrEnum):
    WORD = "word"
    NUMBER = "number"
    SLASH = "slash"
    SEP = "sep"  # `:` or `=` between a name and its number
    OPEN = "open"
    CLOSE = "close"
    COMMA = "comma"


@dataclass(frozen=True, slots=True)
class Token:
    kind: TokenKind
    text: str
    start: int
    end: int

    @property
    def folded(self) -> str:
        return self.text.casefold()


class NumberProblem(StrEnum):
    """Why a figure could not be read."""

    MISSING = "missing"  # no number where one must be
    INVALID = "invalid"  # `1,5`, `1.25`, `12abc`
    NEGATIVE = "negative"
    TOO_LARGE = "too_large"
    SPLIT = "split"  # `293 150`: two numbers where one is expected


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure read at tokens[first:end]: its value and the text as typed."""

    value: int
    first: int
    end: int  # index after the last token used
    text: str


@dataclass(frozen=True, slots=True)
class Unread:
    """A figure that could not be read: why, the text to name, and a hint (`293.150`) if any."""

    problem: NumberProblem
    text: str
    hint: str | None = None


#: Scale words: the number before them is multiplied (`293 ribu`, `1,2 rb`).
SCALES: Final[dict[str, int]] = {"ribu": 1_000, "rb": 1_000, "rb.": 1_000, "juta": 1_000_000, "jt": 1_000_000}
#: Words a number may be glued to (`rusak2`, `sirekap150`): they take a number.
GLUE_BEFORE_NUMBER: Final = frozenset({"rusak", "sirekap", "upload", "unggah"})

_PIECE: Final = re.compile(
    r"(?P<number>[0-9]+(?:[.,][0-9]+)*)|(?P<slash>/)|(?P<open>\()|(?P<close>\))|(?P<sep>[:=])"
    r"|(?P<comma>,)|(?P<word>[^\s0-9/():=,]+)"
)
_CHUNK: Final = re.compile(r"\S+")
_WHOLE: Final = re.compile(r"[0-9]+|[0-9]{1,3}(?:\.[0-9]{3})+")
_DECIMAL: Final = re.compile(r"(?P<int>[0-9]+|[0-9]{1,3}(?:\.[0-9]{3})+),(?P<frac>[0-9]+)")
_NEGATIVE: Final = re.compile(r"[-\u2212][0-9][0-9.,/]*")
_GROUP: Final = re.compile(r"[0-9]{3}")
_PLAIN_HEAD: Final = re.compile(r"[0-9]{1,3}|[0-9]{1,3}(?:\.[0-9]{3})+")
_MAX_DIGITS: Final = 15


def lex(text: str) -> list[Token]:
    """The tokens of `text`. Within a run of non-space characters, digits glued to letters stay
    one word (`TPS12`, `C1.Hasil`), unless the letters are a keyword taking a number before the
    digits (`rusak2`) or a scale after them (`293rb`)."""
    tokens: list[Token] = []
    for chunk in _CHUNK.finditer(text):
        if not any(c.isdigit() for c in chunk.group()) and chunk.group() != "/":
            tokens.extend(_word_chunk(chunk.group(), chunk.start()))
            continue
        pieces = [
            Token(TokenKind(m.lastgroup or "word"), m.group(), chunk.start() + m.start(), chunk.start() + m.end())
            for m in _PIECE.finditer(chunk.group())
        ]
        if _glued_wrongly(pieces):
            pieces = [Token(TokenKind.WORD, chunk.group(), chunk.start(), chunk.end())]
        tokens.extend(pieces)
    return tokens


_EDGE_KIND: Final = {
    "(": TokenKind.OPEN,
    ")": TokenKind.CLOSE,
    ":": TokenKind.SEP,
    "=": TokenKind.SEP,
    ",": TokenKind.COMMA,
}


def _word_chunk(chunk: str, at: int) -> list[Token]:
    """A run without digits: one word, with a leading `(` and trailing `)`, `:`, `=`, `,` apart
    (`suara:` is the word `suara` and a separator; `<b>kotak</b>` stays one word)."""
    head: list[Token] = []
    tail: list[Token] = []
    start, end = 0, len(chunk)
    while start < end and chunk[start] in "(:=":
        head.append(Token(_EDGE_KIND[chunk[start]], chunk[start], at + start, at + start + 1))
        start += 1
    while end > start and chunk[end - 1] in "):=,":
        tail.insert(0, Token(_EDGE_KIND[chunk[end - 1]], chunk[end - 1], at + end - 1, at + end))
        end -= 1
    middle = [Token(TokenKind.WORD, chunk[start:end], at + start, at + end)] if start < end else []
    return head + middle + tail


def _glued_wrongly(pieces: list[Token]) -> bool:
    """True when a number touches a word that neither takes a number nor scales it."""
    for left, right in zip(pieces, pieces[1:], strict=False):
        if left.kind is TokenKind.NUMBER and right.kind is TokenKind.WORD:
            if right.folded not in SCALES:
                return True
        if left.kind is TokenKind.WORD and right.kind is TokenKind.NUMBER:
            if left.folded not in GLUE_BEFORE_NUMBER:
                return True
    return False


def value_of(number: str, scale: int = 1) -> int | NumberProblem:
    """The whole value of a number token (times `scale`), or why not. The largest value a form
    accepts is the caller's to check; this refuses what is not a whole number at all."""
    if scale == 1:
        if not _WHOLE.fullmatch(number):
            return NumberProblem.INVALID
        digits = number.replace(".", "").lstrip("0") or "0"
        return NumberProblem.TOO_LARGE if len(digits) > _MAX_DIGITS else int(digits)
    if _WHOLE.fullmatch(number):
        digits = number.replace(".", "").lstrip("0") or "0"
        return NumberProblem.TOO_LARGE if len(digits) > _MAX_DIGITS else int(digits) * scale
    found = _DECIMAL.fullmatch(number)
    if found is None or len(number) > _MAX_DIGITS + 4:
        return NumberProblem.INVALID
    value = Decimal(found.group("int").replace(".", "") + "." + found.group("frac")) * scale
    if value != value.to_integral_value():
        return NumberProblem.INVALID
    return int(value)


def looks_numeric(token: Token) -> bool:
    """A number, or a word made of a sign and digits (`-3`): something meant as a figure."""
    return token.kind is TokenKind.NUMBER or bool(_NEGATIVE.fullmatch(token.text))


def _span(text: str, tokens: list[Token], first: int, end: int) -> str:
    return text[tokens[first].start : tokens[end - 1].end]


def read_figure(
    text: str, tokens: list[Token], at: int, *, may_follow: frozenset[str] = frozenset()
) -> Figure | Unread:
    """The figure starting at `tokens[at]`: a number and an optional scale word.

    A second bare number right after it is refused (`293 150`, hint `293.150` when the second is
    a group of three), unless its next word is in `may_follow` (`3 rusak` after a figure)."""
    if at >= len(tokens):
        return Unread(NumberProblem.MISSING, "")
    token = tokens[at]
    if token.kind is not TokenKind.NUMBER:
        if _NEGATIVE.fullmatch(token.text):
            return Unread(NumberProblem.NEGATIVE, token.text)
        return Unread(NumberProblem.INVALID, token.text)
    end = at + 1
    scale = 1
    if end < len(tokens) and tokens[end].kind is TokenKind.WORD and tokens[end].folded in SCALES:
        scale = SCALES[tokens[end].folded]
        end += 1
    value = value_of(token.text, scale)
    if isinstance(value, NumberProblem):
        hint = _comma_hint(token.text) if scale == 1 else None
        return Unread(value, _span(text, tokens, at, end), hint)
    if end < len(tokens) and tokens[end].kind is TokenKind.NUMBER and scale == 1:
        following = tokens[end + 1].folded if end + 1 < len(tokens) else None
        if following not in may_follow:
            return Unread(NumberProblem.SPLIT, _span(text, tokens, at, end + 1), _joined(token.text, tokens[end].text))
    return Figure(value, at, end, _span(text, tokens, at, end))


def _joined(first: str, second: str) -> str | None:
    """`293` and `150` typed apart: `293.150`, when that is a well-formed number."""
    if _PLAIN_HEAD.fullmatch(first) and _GROUP.fullmatch(second):
        return f"{first}.{second}"
    return None


def _comma_hint(number: str) -> str | None:
    """`293,150` (a comma between thousands): `293.150`."""
    parts = number.split(",")
    if len(parts) > 1 and _PLAIN_HEAD.fullmatch(parts[0]) and all(_GROUP.fullmatch(p) for p in parts[1:]):
        return ".".join(parts)
    return None
