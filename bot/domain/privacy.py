"""NIKs (16-digit national ID numbers) in user text: find, mask, check against a region.

A NIK is stored as the reporter typed it, but every text that leaves the reporter's private chat
(group messages, digests, charts, exports, the log) goes through `mask_niks`, which shows it as
`5103**********01`.

A NIK here is 16 digits that are not part of a longer number: 15 or 17 digits in a row are left
alone (phone numbers, account numbers, other ids). Letters and punctuation around it do not
matter (`NIK:5103011234560001.` holds one). People also write a NIK in groups, and copy it from
documents and phones that use other digits, so these count too:

* groups separated by a space, a dash or a dot (`5103 0112 3456 0001`, `5103-0112-3456-0001`,
  `51.03.01.123456.0001`) — at most six groups, so a list of small figures is not a NIK;
* zero-width characters anywhere between the digits (they are invisible: `5103\u200b0112…`);
* fullwidth (`５１０３…`) and Arabic-Indic (`٥١٠٣…`, `۵۱۰۳…`) digits.

Masking keeps the separators and the digits' own script: `5103 **** **** **01`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Final

__all__ = ["find_niks", "for_chat", "mask_nik", "mask_niks", "nik_region_mismatches"]

NIK_LENGTH: Final = 16
_NIK: Final = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")
_REGION_CODE: Final = re.compile(r"[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{4})?)?)?")
#: The first six digits of a NIK are the holder's kecamatan code; deeper codes compare on those.
_NIK_REGION_DIGITS: Final = 6

_DIGIT_CLASS: Final = "0-9\uff10-\uff19\u0660-\u0669\u06f0-\u06f9"
_ZERO_WIDTH: Final = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
#: what may stand between two groups of a NIK: one space, dash or dot (zero-width around it)
_VISIBLE_SEPARATORS: Final = " \u00a0\u202f.\\-\u2010\u2011\u2012\u2013"
_CHAIN: Final = re.compile(
    f"[{_DIGIT_CLASS}](?:[{_ZERO_WIDTH}]*[{_VISIBLE_SEPARATORS}]?[{_ZERO_WIDTH}]*[{_DIGIT_CLASS}])*"
)
_GROUP: Final = re.compile(f"[{_DIGIT_CLASS}](?:[{_ZERO_WIDTH}]*[{_DIGIT_CLASS}])*")
_TO_ASCII: Final = str.maketrans("０１２３４５６７８９٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 3)
#: a NIK written in groups has at most this many (2-2-2-6-4 is the longest usual way)
_MAX_GROUPS: Final = 6


def _digits(text: str) -> str:
    return "".join(ch for ch in text.translate(_TO_ASCII) if "0" <= ch <= "9")


def _spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every NIK in `text`, in order."""
    found: list[tuple[int, int]] = []
    for chain in _CHAIN.finditer(text):
        groups = [(g.start(), g.end(), len(_digits(g.group()))) for g in _GROUP.finditer(chain.group())]
        base = chain.start()
        i = 0
        while i < len(groups):
            total, j = 0, i
            while j < len(groups) and j - i < _MAX_GROUPS and total < NIK_LENGTH:
                total += groups[j][2]
                j += 1
            if total == NIK_LENGTH:
                found.append((base + groups[i][0], base + groups[j - 1][1]))
                i = j
            else:
                i += 1
    return found


def find_niks(text: str) -> list[str]:
    """Every NIK in `text` as 16 ASCII digits, in order of appearance (repeats included)."""
    return [_digits(text[start:end]) for start, end in _spans(text)]


def mask_nik(nik: str) -> str:
    """`5103011234560001` → `5103**********01`: the first four and last two digits stay.

    Raises ValueError if `nik` is not exactly 16 ASCII digits.
    """
    if len(nik) != NIK_LENGTH or not _NIK.fullmatch(nik):
        raise ValueError(f"not a 16-digit NIK: {nik!r}")
    return nik[:4] + "*" * 10 + nik[-2:]


def _mask_span(written: str) -> str:
    """A NIK as written with all digits but the first four and the last two starred."""
    positions = [
        i for i, ch in enumerate(written) if ch.translate(_TO_ASCII).isascii() and ch.translate(_TO_ASCII).isdigit()
    ]
    hidden = set(positions[4:-2])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(written))


def mask_niks(text: str, keep: Collection[str] = ()) -> str:
    """`text` with every NIK masked (but those in `keep`, 16 ASCII digits each); everything else
    unchanged.

    The one function every group-bound text goes through. The result holds no NIK but those kept
    (masking again changes nothing) and has the length of `text`.
    """
    kept = set(keep)
    for _ in range(len(text)):  # a masked NIK may leave digits that, with a group before it, look like one
        spans = [(start, end) for start, end in _spans(text) if _digits(text[start:end]) not in kept]
        if not spans:
            break
        out, last = [], 0
        for start, end in spans:
            out += [text[last:start], _mask_span(text[start:end])]
            last = end
        out.append(text[last:])
        text = "".join(out)
    return text


def _region_prefix(region_code: str) -> str | None:
    """Digits a NIK of `region_code` starts with; None for the whole country (`ID`).

    `51.03.01` → `510301`, `51.03` → `5103`, `51` → `51`; a desa code `51.03.01.2001` compares
    on its kecamatan, `510301`. Raises ValueError for anything else.
    """
    code = region_code.strip()
    if code.upper() == "ID":
        return None
    if not _REGION_CODE.fullmatch(code):
        raise ValueError(f"not a region code: {region_code!r}")
    return code.replace(".", "")[:_NIK_REGION_DIGITS]


def nik_region_mismatches(text: str, region_code: str) -> list[str]:
    """NIKs in `text` not registered in `region_code` (dotted Kemendagri code, or `ID`).

    A NIK's first six digits are its kecamatan: for a kecamatan code they must equal it, for a
    kabupaten/kota code the first four digits must match, for a province the first two. `ID`
    matches every NIK. Each mismatching NIK is listed once, in order of first appearance.
    Raises ValueError if `region_code` is not a region code.
    """
    prefix = _region_prefix(region_code)
    if prefix is None:
        return []
    return list(dict.fromkeys(nik for nik in find_niks(text) if not nik.startswith(prefix)))


def for_chat(text: str, chat_id: int, owner_id: int | None = None, *, theirs: Collection[str] = ()) -> str:
    """The one rule for text that leaves the bot: a NIK stays readable only in the private chat of
    the person who wrote it (a private chat's id is the user's id) and is masked everywhere else:
    groups, other people's private chats, digests, charts and exports. Every text the handlers
    send goes through here (via `bot.telegram.replies`). `theirs`: NIKs the chat's own user wrote
    elsewhere (in their report, quoted in a coordinator's note), readable in their chat too."""
    if owner_id is not None and chat_id == owner_id:
        return text
    return mask_niks(text, theirs)
