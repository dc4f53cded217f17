"""Dotted region codes (Kemendagri): "51" province, "51.03" kabupaten/kota, "51.03.01" kecamatan.

Codes are hierarchical prefixes, so "is X inside Y" is a string test; "ID" is the whole country.
"""

from __future__ import annotations

import re

NATIONAL = "ID"
_DOTTED = re.compile(r"^\d{2}(\.\d{2}){0,2}(\.\d{4})?$")
_PLAIN = re.compile(r"^(\d{2}|\d{4}|\d{6}|\d{10})$")


def normalize_code(text: str) -> str | None:
    """"51.03.01", "510301", "51-03-01" → "51.03.01"; "id" → "ID"; anything else → None."""
    raw = text.strip()
    if raw.upper() in {"ID", "RI", "INDONESIA"}:
        return NATIONAL
    candidate = raw.replace("-", ".").replace(" ", "")
    if _DOTTED.match(candidate):
        return candidate
    if _PLAIN.match(candidate):
        parts = [candidate[i : i + 2] for i in range(0, min(len(candidate), 6), 2)]
        if len(candidate) == 10:
            parts.append(candidate[6:])
        return ".".join(parts)
    return None


def is_within(code: str, scope: str) -> bool:
    """True when `code` is `scope` itself or lies under it."""
    return scope == NATIONAL or code == scope or code.startswith(scope + ".")


def parent_of(code: str) -> str | None:
    if code == NATIONAL:
        return None
    if "." not in code:
        return NATIONAL
    return code.rsplit(".", 1)[0]


def ancestors(code: str) -> list[str]:
    """From the region itself up to the country: "51.03.01" → ["51.03.01", "51.03", "51", "ID"]."""
    out = [code]
    while (parent := parent_of(out[-1])) is not None:
        out.append(parent)
    return out


def plain_digits(code: str) -> str:
    """"51.03.01" → "510301" (the NIK prefix form)."""
    return "" if code == NATIONAL else code.replace(".", "")
