"""Report models of `/lapor` and the vocabularies they use, as single sources of truth.

Pure domain code: no Telegram, no database. The parser (`bot.domain.parsing`) builds these models from a
line of text; handlers store them as incidents; digests count them.

Vocabularies
------------
`ITEMS` (logistics items) and `DATA_PROBLEMS` (kinds of voter-data problems) map a canonical
name to a `Term` with an Indonesian display label and accepted aliases. Lookups (`resolve_item`,
`resolve_problem`) ignore case, treat `-` and spaces like `_`, and also accept the name written
without separators (`kotak-suara`, `Kotak Suara`, `kotaksuara` all mean `kotak_suara`).

Aliases of data problems (kept few and unambiguous):

=================  ===============================================
canonical          aliases
=================  ===============================================
ganda              dobel, duplikat
meninggal          meninggal_dunia, wafat
pindah             pindah_domisili
tms                tidak_memenuhi_syarat
nik_invalid        nik, nik_tidak_valid
belum_terdaftar    belum
dptb               pindah_memilih
lainnya            lain
=================  ===============================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import ClassVar, Final, TypeAlias

from bot.domain.access import Reason
from bot.domain.models import Region

__all__ = [
    "logistics_due",
    "resolve_jenis",
    "went_down",
    "is_complete",
    "STATEFUL",
    "JENIS_PEMILIHAN",
    "HitungReport",
    "DATA_PROBLEMS",
    "DEFAULT_SEVERITY",
    "KIND_WORDS",
    "SEVERITY_WORDS",
    "ITEMS",
    "MAX_NUMBER",
    "KIND_ORDER",
    "MAX_TEXT",
    "MOST_SEVERE_FIRST",
    "URGENT_SEVERITIES",
    "IncidentNotFound",
    "NeedsKecamatan",
    "Refusal",
    "TargetAmbiguous",
    "TargetOutOfScope",
    "TargetUnknown",
    "DataReport",
    "ErrorCode",
    "InsidenReport",
    "Kind",
    "LaporError",
    "LogistikReport",
    "ParsedLapor",
    "RekapReport",
    "Report",
    "Severity",
    "Term",
    "check_against_plan",
    "derive_severity",
    "format_number",
    "ordered",
    "resolve_item",
    "resolve_kind",
    "resolve_problem",
    "resolve_severity",
]

#: Largest count accepted anywhere (fits SQLite's 64-bit integers with room to sum).
MAX_NUMBER: Final = 999_999_999_999
#: Longest free text (catatan, keterangan, uraian), in characters.
MAX_TEXT: Final = 1000


# --- enumerations ------------------------------------------------------------------------------


class Kind(StrEnum):
    """The kinds of report (and of incident). `hitung` is penghitungan at the TPS on H (C.Hasil,
    Sirekap); `rekap` is the rekapitulasi kecamatan at the PPK from H+1, per jenis pemilihan."""

    LOGISTIK = "logistik"
    DATA = "data"
    HITUNG = "hitung"
    REKAP = "rekap"
    INSIDEN = "insiden"


#: kinds whose figures are cumulative state per kecamatan (× item or jenis): one open incident
#: each, updated in place by later reports
STATEFUL: Final[frozenset[str]] = frozenset({"logistik", "hitung", "rekap"})


class Severity(StrEnum):
    """Severity of an incident, ordered `rendah < sedang < tinggi < kritis`.

    Members are strings (stored as such) but compare by `rank`, also against the plain string
    values: `Severity.TINGGI > "sedang"` is true. Comparing with any other string raises
    `TypeError`.
    """

    RENDAH = "rendah"
    SEDANG = "sedang"
    TINGGI = "tinggi"
    KRITIS = "kritis"

    @property
    def rank(self) -> int:
        """0 for rendah … 3 for kritis."""
        return _SEVERITY_RANK[self]

    def _other_rank(self, other: object) -> int | None:
        """Rank of a severity or severity string; None (→ NotImplemented) for non-strings."""
        if not isinstance(other, str):
            return None
        if other not in _SEVERITY_RANK:
            raise TypeError(f"cannot compare severity {self.value!r} with {other!r}")
        return _SEVERITY_RANK[other]

    def __lt__(self, other: object) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank < rank

    def __le__(self, other: object) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank <= rank

    def __gt__(self, other: object) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank > rank

    def __ge__(self, other: object) -> bool:
        rank = self._other_rank(other)
        return NotImplemented if rank is None else self.rank >= rank


_SEVERITY_RANK: Final[dict[str, int]] = {s.value: i for i, s in enumerate(Severity)}

#: The kinds in the order they are listed everywhere.
KIND_ORDER: Final[tuple[str, ...]] = tuple(k.value for k in Kind)
#: Severities from the most severe down, the order of lists and digests.
MOST_SEVERE_FIRST: Final[tuple[str, ...]] = tuple(s.value for s in reversed(Severity))
#: Severities that are posted to a coordination group, escalate on their own and are watched
#: in the digest's oldest open incidents.
URGENT_SEVERITIES: Final[tuple[str, ...]] = (Severity.TINGGI.value, Severity.KRITIS.value)


def ordered(values: Iterable[str], order: Iterable[str]) -> list[str]:
    """The distinct `values`: those named in `order` first, in that order, then the others sorted."""
    present = set(values)
    known = [v for v in order if v in present]
    return known + sorted(present - set(known))


#: The words of the field for each kind: `penghitungan` is counting at the TPS (`hitung`),
#: `rekapitulasi` the recap kecamatan (`rekap`; `rekap` followed directly by numbers is still read
#: as `hitung` by the parser, as it was written before `hitung` existed); `kejadian` is an incident.
KIND_WORDS: Final[Mapping[str, Kind]] = MappingProxyType(
    {
        "logistik": Kind.LOGISTIK,
        "data": Kind.DATA,
        "hitung": Kind.HITUNG,
        "penghitungan": Kind.HITUNG,
        "rekap": Kind.REKAP,
        "rekapitulasi": Kind.REKAP,
        "insiden": Kind.INSIDEN,
        "kejadian": Kind.INSIDEN,
    }
)

#: Severity words: the four levels and the words officers use for them.
SEVERITY_WORDS: Final[Mapping[str, Severity]] = MappingProxyType(
    {s.value: s for s in Severity} | {"darurat": Severity.KRITIS, "mendesak": Severity.TINGGI}
)
#: Severity of an incident reported without one.
DEFAULT_SEVERITY: Final = Severity.SEDANG


def resolve_kind(token: str) -> Kind | None:
    """The kind named by `token` (case-insensitive, synonyms included), or None."""
    return KIND_WORDS.get(token.strip().casefold())


def resolve_severity(token: str) -> Severity | None:
    """The severity named by `token` (case-insensitive, `darurat`/`mendesak` included), or None."""
    return SEVERITY_WORDS.get(token.strip().casefold())


# --- vocabularies ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """One entry of a vocabulary: canonical name, Indonesian label, accepted aliases."""

    name: str
    label: str
    aliases: tuple[str, ...] = ()


def _normalize(token: str) -> str:
    """Lower-case, `-` and whitespace as `_`, no doubled or edge underscores."""
    return "_".join(token.casefold().replace("-", " ").replace("_", " ").split())


def _index(terms: Mapping[str, Term]) -> dict[str, str]:
    """Map every accepted spelling (normalized, and without separators) to its canonical name."""
    index: dict[str, str] = {}
    for term in terms.values():
        for spelling in (term.name, *term.aliases):
            key = _normalize(spelling)
            for variant in (key, key.replace("_", "")):
                owner = index.setdefault(variant, term.name)
                if owner != term.name:  # pragma: no cover - guards the tables below
                    raise ValueError(f"alias {variant!r} names both {owner!r} and {term.name!r}")
    return index


def _resolve(index: Mapping[str, str], token: str) -> str | None:
    key = _normalize(token)
    if not key:
        return None
    return index.get(key) or index.get(key.replace("_", ""))


#: The five ballots of 2024 (jenis pemilihan), canonical name → term, in the order they are shown.
JENIS_PEMILIHAN: Final[Mapping[str, Term]] = MappingProxyType(
    {
        t.name: t
        for t in (
            Term("ppwp", "PPWP", ("presiden", "pilpres", "pwp")),
            Term("dpr", "DPR", ("dpr_ri",)),
            Term("dpd", "DPD", ()),
            Term("dprd_prov", "DPRD Provinsi", ("dprd_provinsi", "dprd_prop", "dprdprov")),
            Term("dprd_kabkota", "DPRD Kab/Kota", ("dprd_kab_kota", "dprd_kabupaten", "dprd_kab", "dprd_kota")),
        )
    }
)

#: Items that have one per jenis pemilihan (the plain item means "all jenis together").
_PER_JENIS: Final = (("kotak_suara", "Kotak suara", ("kotak",)), ("surat_suara", "Surat suara", ("surat",)))


def _per_jenis(name: str, label: str, aliases: tuple[str, ...]) -> tuple[Term, ...]:
    """`kotak_suara` and `kotak_suara_dpr`, `kotak_dpr`, `kotak_suara_dprd_provinsi`, … for every jenis."""
    terms = [Term(name, label, aliases)]
    for jenis in JENIS_PEMILIHAN.values():
        spellings = (jenis.name, *jenis.aliases)
        terms.append(
            Term(
                f"{name}_{jenis.name}",
                f"{label} {jenis.label}",
                tuple(
                    f"{base}_{j}"
                    for base in (name, *aliases)
                    for j in spellings
                    if f"{base}_{j}" != f"{name}_{jenis.name}"
                ),
            )
        )
    return tuple(terms)


#: Logistics items, canonical name → term, in the order they are shown.
ITEMS: Final[Mapping[str, Term]] = MappingProxyType(
    {
        t.name: t
        for t in (
            *_per_jenis(*_PER_JENIS[0]),
            Term("bilik_suara", "Bilik suara", ("bilik",)),
            *_per_jenis(*_PER_JENIS[1]),
            Term("tinta", "Tinta", ()),
            Term("segel", "Segel", ()),
            Term("hologram", "Hologram", ()),
            Term("formulir", "Formulir", ("form",)),
            Term("sampul", "Sampul", ()),
            Term(
                "alat_bantu_tunanetra",
                "Alat bantu tunanetra",
                ("braille", "tunanetra", "abt", "alat_bantu"),
            ),
        )
    }
)

#: Voter-data problems, canonical name → term, in the order they are shown.
DATA_PROBLEMS: Final[Mapping[str, Term]] = MappingProxyType(
    {
        t.name: t
        for t in (
            Term("ganda", "Ganda", ("dobel", "duplikat")),
            Term("meninggal", "Meninggal dunia", ("meninggal_dunia", "wafat")),
            Term("pindah", "Pindah domisili", ("pindah_domisili",)),
            Term("tms", "Tidak memenuhi syarat (TMS)", ("tidak_memenuhi_syarat",)),
            Term("nik_invalid", "NIK tidak valid", ("nik", "nik_tidak_valid")),
            Term("belum_terdaftar", "Belum terdaftar", ("belum",)),
            Term("dptb", "Pindah memilih (DPTb)", ("pindah_memilih",)),
            Term("dpk", "Pemilih khusus (DPK)", ()),
            Term("lainnya", "Lainnya", ("lain",)),
        )
    }
)

_ITEM_INDEX: Final = _index(ITEMS)
_JENIS_INDEX: Final = _index(JENIS_PEMILIHAN)
_PROBLEM_INDEX: Final = _index(DATA_PROBLEMS)


def resolve_item(token: str) -> str | None:
    """Canonical item name for a name or alias (`kotak`, `Kotak-Suara`, `kotaksuara`), or None."""
    return _resolve(_ITEM_INDEX, token)


def resolve_jenis(token: str) -> str | None:
    """Canonical jenis pemilihan for a name or alias (`DPR`, `dprd-provinsi`, `presiden`), or None."""
    return _resolve(_JENIS_INDEX, token)


def resolve_problem(token: str) -> str | None:
    """Canonical data-problem name for a name or alias (`nik`, `belum-terdaftar`), or None."""
    return _resolve(_PROBLEM_INDEX, token)


# --- models ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogistikReport:
    """Cumulative arrival of one item: received so far, optional plan, damaged units, a note."""

    kind: ClassVar[Kind] = Kind.LOGISTIK
    item: str
    received: int
    planned: int | None = None
    damaged: int = 0
    note: str = ""


@dataclass(frozen=True, slots=True)
class DataReport:
    """A voter-data problem: which kind, how many voters, a note."""

    kind: ClassVar[Kind] = Kind.DATA
    problem: str
    count: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class HitungReport:
    """Penghitungan at the TPS (cumulative): TPS that finished counting, of all TPS (None: the
    imported number of TPS), and C.Hasil uploaded to Sirekap (None: not reported)."""

    kind: ClassVar[Kind] = Kind.HITUNG
    tps_done: int
    tps_total: int | None = None
    sirekap: int | None = None


@dataclass(frozen=True, slots=True)
class RekapReport:
    """Rekapitulasi kecamatan (cumulative, from H+1): desa recapitulated of all desa, per jenis."""

    kind: ClassVar[Kind] = Kind.REKAP
    jenis: str
    desa_done: int
    desa_total: int


@dataclass(frozen=True, slots=True)
class InsidenReport:
    """A free-form incident with the severity the reporter gave."""

    kind: ClassVar[Kind] = Kind.INSIDEN
    severity: Severity
    description: str


Report: TypeAlias = LogistikReport | DataReport | HitungReport | RekapReport | InsidenReport


@dataclass(frozen=True, slots=True)
class ParsedLapor:
    """A parsed `/lapor` line: one report, or several items of one logistics line.

    `target` is the region argument as typed after `@` (without the `@`; underscores stand for
    spaces in names, e.g. `kuta_selatan`), or None for the reporter's own region. Resolving it
    against the region table and the reporter's scope is the handler's job.
    """

    target: str | None
    reports: tuple[Report, ...]


# --- severity and plan checks ------------------------------------------------------------------


def derive_severity(report: Report, plan: int | None = None, *, past_deadline: bool = False) -> Severity:
    """Severity of a report, as spec.md says.

    hitung, rekap → rendah (progress); data → sedang; insiden → the severity given. Logistik,
    against `plan` (the kebutuhan in force: the imported one, else the one written in the report):
    damaged units → tinggi at once; a shortfall → sedang (tracked) before the logistics deadline,
    tinggi from it (`past_deadline`); complete and undamaged → rendah.
    """
    match report:
        case HitungReport() | RekapReport():
            return Severity.RENDAH
        case DataReport():
            return Severity.SEDANG
        case InsidenReport(severity=severity):
            return severity
        case LogistikReport():
            target = plan if plan is not None else report.planned
            if report.damaged > 0:
                return Severity.TINGGI
            if target is not None and report.received < target:
                return Severity.TINGGI if past_deadline else Severity.SEDANG
            return Severity.RENDAH
    raise TypeError(f"not a report: {report!r}")  # pragma: no cover - exhaustive above


def logistics_due(today: date, election_day: date, deadline_days: int) -> bool:
    """Whether logistics must be complete by now: from H minus `deadline_days` (local dates). Before
    it a shortfall is tracked; from it a shortfall is a problem."""
    return today >= election_day - timedelta(days=deadline_days)


def is_complete(report: Report, plan: int | None = None) -> bool:
    """Whether a cumulative report closes its incident: logistics received ≥ kebutuhan with no
    damaged unit left unreplaced; penghitungan with every TPS counted and uploaded to Sirekap
    (`plan`: the number of TPS); a rekapitulasi with every desa done."""
    match report:
        case LogistikReport():
            target = plan if plan is not None else report.planned
            return target is not None and report.received >= target and report.damaged == 0
        case HitungReport():
            total = plan if plan is not None else report.tps_total
            return (
                total is not None
                and report.tps_done >= total
                and report.sirekap is not None
                and report.sirekap >= total
            )
        case RekapReport():
            return report.desa_done >= report.desa_total
    return False


def went_down(report: Report, current: Report | None) -> bool:
    """Whether a cumulative figure of `report` is below the current state's: such a report waits
    for its reporter's confirmation (a 2 a.m. typo must not become the official state)."""
    match report, current:
        case LogistikReport(), LogistikReport():
            return report.received < current.received
        case HitungReport(), HitungReport():
            lower_sirekap = (
                report.sirekap is not None and current.sirekap is not None and report.sirekap < current.sirekap
            )
            return report.tps_done < current.tps_done or lower_sirekap
        case RekapReport(), RekapReport():
            return report.desa_done < current.desa_done
    return False


def check_against_plan(
    report: Report,
    plan: int | None,
    *,
    received_token: str | None = None,
    damaged_token: str | None = None,
) -> LaporError | None:
    """Why a logistics report cannot be right, or None.

    Received more than twice the kebutuhan (`plan`, the imported one, else the one written in the
    report) is a typo, as is more damaged units than received ones. Other kinds always pass. The
    error quotes `received_token` / `damaged_token` (the input as typed) when given, else the
    formatted number.
    """
    if not isinstance(report, LogistikReport):
        return None
    target = plan if plan is not None else report.planned
    if target is not None and report.received > target * 2:
        return LaporError(
            ErrorCode.RECEIVED_OVER_PLAN,
            received_token or format_number(report.received),
            Kind.LOGISTIK,
            bound=target,
        )
    if report.damaged > report.received:
        return LaporError(
            ErrorCode.DAMAGED_OVER_RECEIVED,
            damaged_token or format_number(report.damaged),
            Kind.LOGISTIK,
            bound=report.received,
        )
    return None


# --- errors ------------------------------------------------------------------------------------


class ErrorCode(StrEnum):
    """Why a `/lapor` line was refused. Each has a sentence in `bot.texts.reporting.ERRORS`."""

    MISSING_KIND = "missing_kind"
    UNKNOWN_KIND = "unknown_kind"
    KIND_AFTER_TARGET = "kind_after_target"
    EMPTY_TARGET = "empty_target"
    MISSING_ITEM = "missing_item"
    UNKNOWN_ITEM = "unknown_item"
    MISSING_PROBLEM = "missing_problem"
    UNKNOWN_PROBLEM = "unknown_problem"
    UNKNOWN_SEVERITY = "unknown_severity"
    MISSING_NUMBER = "missing_number"
    INVALID_NUMBER = "invalid_number"
    NEGATIVE_NUMBER = "negative_number"
    NUMBER_TOO_LARGE = "number_too_large"
    INVALID_FRACTION = "invalid_fraction"
    RECEIVED_OVER_PLAN = "received_over_plan"
    DAMAGED_OVER_RECEIVED = "damaged_over_received"
    TPS_TOTAL_ZERO = "tps_total_zero"
    TPS_DONE_OVER_TOTAL = "tps_done_over_total"
    TPS_OVER_BASELINE = "tps_over_baseline"
    MISSING_TPS_TOTAL = "missing_tps_total"
    MISSING_JENIS = "missing_jenis"
    UNKNOWN_JENIS = "unknown_jenis"
    DESA_TOTAL_ZERO = "desa_total_zero"
    DESA_DONE_OVER_TOTAL = "desa_done_over_total"
    SIREKAP_OVER_DONE = "sirekap_over_done"
    MISSING_DESCRIPTION = "missing_description"
    TEXT_TOO_LONG = "text_too_long"
    UNEXPECTED_TOKEN = "unexpected_token"
    SPLIT_NUMBER = "split_number"
    LEFTOVER_FIGURE = "leftover_figure"
    TOO_MANY_REPORTS = "too_many_reports"
    DUPLICATE_ITEM = "duplicate_item"


@dataclass(frozen=True, slots=True)
class LaporError:
    """A refused `/lapor` line: what was wrong (`code`), the offending input as typed (`token`),
    the kind of report it concerns (None before the kind is known) and, where one applies, the
    limit that was broken (`bound`: the plan, the received count, the TPS total, …) and a
    `hint` where the input can be written right (`293.150` for `293 150`).

    Returned, not raised. `bot.texts.reporting.render_error` gives the message for the user.
    """

    code: ErrorCode
    token: str | None = None
    kind: Kind | None = None
    bound: int | None = None
    hint: str | None = None  # how to write it instead (`293.150` for `293 150`)
    line: int | None = None  # which /lapor line of a message of several (1-based)


# --- why a report is refused after parsing ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class TargetUnknown:
    """`@target` names no region; `example_code` is a region the reporter may report for."""

    target: str
    kind: str | None
    example_code: str


@dataclass(frozen=True, slots=True)
class TargetAmbiguous:
    """`@target` names several regions in the reporter's scope (the paths of the first ones)."""

    target: str
    paths: tuple[tuple[Region, ...], ...]


@dataclass(frozen=True, slots=True)
class TargetOutOfScope:
    """`@target` lies outside the reporter's scope: its path (empty when several match) and theirs."""

    target: str
    path: tuple[Region, ...]
    home: tuple[Region, ...]
    kind: str | None
    example_code: str


@dataclass(frozen=True, slots=True)
class NeedsKecamatan:
    """Cumulative figures (`kind`) must name a kecamatan, and `region` is not one."""

    kind: str
    region: Region


@dataclass(frozen=True, slots=True)
class IncidentNotFound:
    incident_id: int


#: Why the reporting use case refused: an access rule, a line that does not parse or check, or
#: the region. `bot.texts.incidents.refusal_text` says it.
Refusal: TypeAlias = (
    Reason | LaporError | TargetUnknown | TargetAmbiguous | TargetOutOfScope | NeedsKecamatan | IncidentNotFound
)


# --- numbers as typed ---------------------------------------------------------------------------


def format_number(value: int) -> str:
    """A count spelled the way the parser reads it, dots between thousands: 12500 → "12.500".

    The domain uses it to quote a number back as an error's `token` when the user typed none (the
    length of a too-long text, a figure checked against the imported plan). Messages format their
    numbers with `bot.texts.formatting.number`, which gives the same digits.
    """
    return f"{value:,}".replace(",", ".")
