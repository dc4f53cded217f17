"""NIKs (16-digit national ID numbers) in user text: find, mask, check against a region.

A NIK is stored as the reporter typed it, but every text that leaves the reporter's private chat
(group messages, digests, charts, exports) goes through `mask_niks`, which shows it as
`5103**********01`.

A NIK here is a run of exactly 16 ASCII digits that is not part of a longer run of digits: 15 or
17 digits in a row are left alone (phone numbers, account numbers, other ids). Letters and
punctuation around it do not matter (`NIK:5103011234560001.` holds one).
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["find_niks", "for_chat", "mask_nik", "mask_niks", "nik_region_mismatches"]

NIK_LENGTH: Final = 16
_NIK: Final = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")
_REGION_CODE: Final = re.compile(r"[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{2}(?:\.[0-9]{4})?)?)?")
#: The first six digits of a NIK are the holder's kecamatan code; deeper codes compare on those.
_NIK_REGION_DIGITS: Final = 6


def find_niks(text: str) -> list[str]:
    """Every NIK in `text`, in order of appearance (repeats included)."""
    return _NIK.findall(text)


def mask_nik(nik: str) -> str:
    """`5103011234560001` → `5103**********01`: the first four and last two digits stay.

    Raises ValueError if `nik` is not exactly 16 ASCII digits.
    """
    if len(nik) != NIK_LENGTH or not _NIK.fullmatch(nik):
        raise ValueError(f"not a 16-digit NIK: {nik!r}")
    return nik[:4] + "*" * 10 + nik[-2:]


def mask_niks(text: str) -> str:
    """`text` with every NIK masked; everything else unchanged.

    The one function every group-bound text goes through. The result holds no 16-digit run.
    """
    return _NIK.sub(lambda match: mask_nik(match.group()), text)


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


def for_chat(text: str, chat_id: int, owner_id: int | None = None) -> str:
    """The one rule for text that leaves the bot: a NIK stays readable only in the private chat of
    the person who wrote it (a private chat's id is the user's id) and is masked everywhere else:
    groups, other people's private chats, digests, charts and exports. Every text the handlers
    send goes through here (via `bot.telegram.replies`)."""
    if owner_id is not None and chat_id == owner_id:
        return text
    return mask_niks(text)
