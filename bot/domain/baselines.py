"""Baselines: checking the logistics plan and the TPS counts read from CSV files. Pure (no I/O,
no wording).

Two forms, one header line each (case-insensitive, trimmed):

================  ================================  ==========================================
kind              header                            one line per
================  ================================  ==========================================
rencana           ``kode_wilayah,barang,jumlah``    kecamatan and item (expected quantity)
tps               ``kode_wilayah,jumlah_tps``       kecamatan, or desa/kelurahan (number of TPS)
================  ================================  ==========================================

TPS lines of desa/kelurahan (`51.03.01.2001`, a kecamatan the deployment knows plus four digits)
are summed into their kecamatan, the level the bot keeps baselines at (desa are not loaded). One
kecamatan is written either as one line or as its desa, never both: a file that mixes them for the
same kecamatan is refused, naming the lines.

Reading the bytes (encoding, BOM, delimiter, spreadsheets) is `bot.domain.tables`. Numbers are
plain (`1250`) or with Indonesian thousands separators (`1.250`); codes dotted or plain
(`51.03.01`, `510301`).

`validate_plan` / `validate_tps` take bytes and the deployment's regions and give the clean rows
or *every* problem, each a `LineError` with the line number the user sees in the file (header =
line 1), its `ErrorCode` and the values its sentence needs (`bot.texts.baselines` words them).
Storing them is `bot.services.baselines`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final, Generic, TypeVar

from bot.domain import tables
from bot.domain.models import Level
from bot.domain.parsing import parse_number
from bot.domain.regions import NATIONAL, is_within, normalize_code, parent_of
from bot.domain.reporting import ITEMS, MAX_NUMBER, resolve_item
from bot.domain.reporting import ErrorCode as NumberError

__all__ = [
    "PLAN_HEADER",
    "TPS_HEADER",
    "BaselineKind",
    "ErrorCode",
    "LineError",
    "PlanRow",
    "TpsRow",
    "Validation",
    "detect_kind",
    "unknown_kind",
    "validate",
    "validate_plan",
    "validate_tps",
]

PLAN_HEADER: Final = ("kode_wilayah", "barang", "jumlah")
TPS_HEADER: Final = ("kode_wilayah", "jumlah_tps")


class BaselineKind(StrEnum):
    """Which baseline a file holds (the values are the audit's `jenis`)."""

    RENCANA = "rencana"
    TPS = "tps"

    @property
    def header(self) -> tuple[str, ...]:
        return PLAN_HEADER if self is BaselineKind.RENCANA else TPS_HEADER

    @property
    def other(self) -> BaselineKind:
        return BaselineKind.TPS if self is BaselineKind.RENCANA else BaselineKind.RENCANA


class ErrorCode(StrEnum):
    """Why a file or a line was refused; each has a sentence in `bot.texts.baselines.ERRORS`."""

    EMPTY_FILE = "empty_file"
    NOT_UTF8 = "not_utf8"
    UTF16 = "utf16"
    SPREADSHEET = "spreadsheet"
    BAD_XLSX = "bad_xlsx"
    BAD_CSV = "bad_csv"
    MISSING_HEADER = "missing_header"
    WRONG_HEADER = "wrong_header"
    OTHER_KIND_HEADER = "other_kind_header"
    UNKNOWN_HEADER = "unknown_header"
    NO_DATA = "no_data"
    TOO_FEW_COLUMNS = "too_few_columns"
    TOO_MANY_COLUMNS = "too_many_columns"
    EMPTY_CODE = "empty_code"
    INVALID_CODE = "invalid_code"
    UNKNOWN_REGION = "unknown_region"
    DESA_CODE = "desa_code"
    NOT_KECAMATAN = "not_kecamatan"
    OUT_OF_SCOPE = "out_of_scope"
    EMPTY_ITEM = "empty_item"
    UNKNOWN_ITEM = "unknown_item"
    EMPTY_NUMBER = "empty_number"
    INVALID_NUMBER = "invalid_number"
    NEGATIVE_NUMBER = "negative_number"
    NUMBER_TOO_LARGE = "number_too_large"
    DUPLICATE_PLAN = "duplicate_plan"
    DUPLICATE_TPS = "duplicate_tps"
    DESA_AFTER_KECAMATAN = "desa_after_kecamatan"
    KECAMATAN_AFTER_DESA = "kecamatan_after_desa"


@dataclass(frozen=True, slots=True)
class LineError:
    """One problem: the line it is on (None for the file as a whole), what is wrong, and the values
    its sentence names, as found (`bot.texts.baselines.error_line` words it: "baris N: …").

    `details` keys: `kind` / `other` (a `BaselineKind`), `token` and `cells` (what the user wrote),
    `code`, `parent`, `scope`, `level`, `item`, `column`, `items`, `first`, `lines`, `expected`,
    `found`, `bound`.
    """

    line: int | None
    code: ErrorCode
    details: Mapping[str, object] = field(default_factory=dict)


def _error(line: int | None, error: ErrorCode, /, **details: object) -> LineError:
    return LineError(line, error, details)


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One clean line of the plan."""

    region_code: str
    item: str
    quantity: int
    line: int = 0


@dataclass(frozen=True, slots=True)
class TpsRow:
    """The TPS of one kecamatan: one clean line, or the sum of its desa/kelurahan lines."""

    region_code: str  # the kecamatan
    tps_count: int
    line: int = 0  # the (first) line
    desa: int = 0  # desa/kelurahan lines summed into it (0: written as one kecamatan line)


Row = TypeVar("Row", PlanRow, TpsRow)


@dataclass(frozen=True, slots=True)
class Validation(Generic[Row]):
    """Either the clean rows (`errors` empty) or every problem found (`rows` empty)."""

    kind: BaselineKind
    rows: tuple[Row, ...] = ()
    errors: tuple[LineError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors


# --- checking one field ----------------------------------------------------------------------------


def _region(
    token: str,
    line: int,
    kind: BaselineKind,
    regions: Mapping[str, str],
    within: str | None,
) -> str | LineError:
    """The dotted code of a kecamatan the deployment knows — or, for TPS, of a desa/kelurahan of
    such a kecamatan (`51.03.01.2001`) — or why not."""
    if not token:
        return _error(line, ErrorCode.EMPTY_CODE)
    code = normalize_code(token)
    if code is None:
        return _error(line, ErrorCode.INVALID_CODE, token=token)
    level = regions.get(code)
    if level is None:
        parent = parent_of(code)
        if code.count(".") == 3 and parent is not None and regions.get(parent) == Level.KECAMATAN:
            # desa/kelurahan: 51.03.01.2001 (desa are not loaded; their kecamatan is)
            if kind is not BaselineKind.TPS:
                return _error(line, ErrorCode.DESA_CODE, code=code, parent=parent, kind=kind)
            if within is not None and not is_within(parent, within):
                return _error(line, ErrorCode.OUT_OF_SCOPE, code=code, scope=within)
            return code
        return _error(line, ErrorCode.UNKNOWN_REGION, code=code)
    if within is not None and not is_within(code, within):
        return _error(line, ErrorCode.OUT_OF_SCOPE, code=code, scope=within)
    if level != Level.KECAMATAN:
        return _error(line, ErrorCode.NOT_KECAMATAN, code=code, level=str(level), kind=kind)
    return code


def _item(token: str, line: int) -> str | LineError:
    names = tuple(ITEMS)
    if not token:
        return _error(line, ErrorCode.EMPTY_ITEM, items=names)
    item = resolve_item(token)
    if item is None:
        return _error(line, ErrorCode.UNKNOWN_ITEM, token=token, items=names)
    return item


_NUMBER_ERRORS: Final = {
    NumberError.INVALID_NUMBER: ErrorCode.INVALID_NUMBER,
    NumberError.NEGATIVE_NUMBER: ErrorCode.NEGATIVE_NUMBER,
    NumberError.NUMBER_TOO_LARGE: ErrorCode.NUMBER_TOO_LARGE,
}


def _number(token: str, line: int, column: str) -> int | LineError:
    """A whole number ≥ 0 (`1250`, `1.250`), as `/lapor` reads numbers."""
    if not token:
        return _error(line, ErrorCode.EMPTY_NUMBER, column=column)
    value = parse_number(token)
    if isinstance(value, NumberError):
        return _error(
            line,
            _NUMBER_ERRORS.get(value, ErrorCode.INVALID_NUMBER),
            column=column,
            token=token,
            bound=MAX_NUMBER,
        )
    return value


# --- the two forms ----------------------------------------------------------------------------------


_LineChecker = Callable[[int, list[str], list[LineError]], "PlanRow | TpsRow | None"]


def _plan_checker(regions: Mapping[str, str], within: str | None) -> _LineChecker:
    seen: dict[tuple[str, str], int] = {}

    def check(line: int, cells: list[str], errors: list[LineError]) -> PlanRow | None:
        code = _region(cells[0], line, BaselineKind.RENCANA, regions, within)
        item = _item(cells[1], line)
        quantity = _number(cells[2], line, PLAN_HEADER[2])
        problems = [v for v in (code, item, quantity) if isinstance(v, LineError)]
        if not problems and isinstance(code, str) and isinstance(item, str):
            first = seen.setdefault((code, item), line)
            if first != line:
                problems.append(_error(line, ErrorCode.DUPLICATE_PLAN, code=code, item=item, first=first))
        errors.extend(problems)
        if problems:
            return None
        assert isinstance(code, str) and isinstance(item, str) and isinstance(quantity, int)
        return PlanRow(code, item, quantity, line)

    return check


def _tps_checker(regions: Mapping[str, str], within: str | None) -> _LineChecker:
    seen: dict[str, int] = {}  # a kecamatan or desa code → its first line
    kecamatan_lines: dict[str, int] = {}  # a kecamatan written as one line → that line
    desa_lines: dict[str, list[int]] = {}  # a kecamatan written per desa → those lines

    def check(line: int, cells: list[str], errors: list[LineError]) -> TpsRow | None:
        code = _region(cells[0], line, BaselineKind.TPS, regions, within)
        count = _number(cells[1], line, TPS_HEADER[1])
        problems = [v for v in (code, count) if isinstance(v, LineError)]
        is_desa = isinstance(code, str) and code.count(".") == 3
        kecamatan = parent_of(code) if is_desa and isinstance(code, str) else code
        if not problems and isinstance(code, str) and isinstance(kecamatan, str):
            first = seen.setdefault(code, line)
            if first != line:
                problems.append(_error(line, ErrorCode.DUPLICATE_TPS, code=code, first=first))
            elif is_desa and kecamatan in kecamatan_lines:
                problems.append(
                    _error(
                        line,
                        ErrorCode.DESA_AFTER_KECAMATAN,
                        code=code,
                        parent=kecamatan,
                        first=kecamatan_lines[kecamatan],
                    )
                )
            elif not is_desa and kecamatan in desa_lines:
                problems.append(
                    _error(line, ErrorCode.KECAMATAN_AFTER_DESA, code=code, lines=tuple(desa_lines[kecamatan]))
                )
            elif is_desa:
                desa_lines.setdefault(kecamatan, []).append(line)
            else:
                kecamatan_lines[kecamatan] = line
        errors.extend(problems)
        if problems:
            return None
        assert isinstance(kecamatan, str) and isinstance(count, int)
        return TpsRow(kecamatan, count, line, desa=1 if is_desa else 0)

    return check


def _per_kecamatan(rows: list[TpsRow]) -> list[TpsRow]:
    """Desa lines summed into their kecamatan (in the order each kecamatan first appears)."""
    out: dict[str, TpsRow] = {}
    for row in rows:
        before = out.get(row.region_code)
        if before is None:
            out[row.region_code] = row
        else:
            out[row.region_code] = TpsRow(
                row.region_code, before.tps_count + row.tps_count, before.line, before.desa + row.desa
            )
    return list(out.values())


# --- the file ----------------------------------------------------------------------------------------


def _header_error(kind: BaselineKind, line: int, cells: list[str]) -> LineError:
    if tables.header_of(cells) == kind.other.header:
        return _error(line, ErrorCode.OTHER_KIND_HEADER, kind=kind, other=kind.other)
    if cells and normalize_code(cells[0]) is not None:
        return _error(line, ErrorCode.MISSING_HEADER, kind=kind)
    return _error(line, ErrorCode.WRONG_HEADER, kind=kind, cells=tuple(cells))


def _unreadable(problem: tables.Unreadable) -> LineError:
    return _error(problem.line, ErrorCode(problem.problem.value))


def _prepare(data: bytes) -> tuple[str, int, list[str], str] | LineError:
    """Decode, find the header line and the delimiter: (text, header line, header cells, delim).
    An empty file's error names no kind (`validate` adds it)."""
    text = tables.decode(data)
    if isinstance(text, tables.Unreadable):
        return _unreadable(text)
    first = tables.first_line(text)
    if first is None:
        return _error(None, ErrorCode.EMPTY_FILE)
    line, header_line = first
    delimiter = tables.sniff(text, header_line, {PLAN_HEADER, TPS_HEADER})
    return text, line, tables.cells(header_line, delimiter), delimiter


def detect_kind(data: bytes) -> BaselineKind | None:
    """Which baseline the file's header announces, or None (any problem, or another header)."""
    prepared = _prepare(data)
    if isinstance(prepared, LineError):
        return None
    header = tables.header_of(prepared[2])
    return next((kind for kind in BaselineKind if kind.header == header), None)


def unknown_kind(data: bytes) -> LineError:
    """Why `detect_kind` found nothing: a file-level problem, or a header of neither form."""
    prepared = _prepare(data)
    if isinstance(prepared, LineError):
        return prepared
    _, line, cells, _ = prepared
    return _error(line, ErrorCode.UNKNOWN_HEADER, cells=tuple(cells))


def _fit(cells: list[str], width: int) -> list[str]:
    """The fields trimmed, empty ones past `width` dropped (Excel pads short rows with them)."""
    cells = [cell.strip() for cell in cells]
    while len(cells) > width and not cells[-1]:
        cells.pop()
    return cells


def validate(
    kind: BaselineKind,
    data: bytes,
    regions: Mapping[str, str],
    *,
    within: str | None = None,
) -> Validation:
    """Check a whole file of `kind`; see `validate_plan`."""
    prepared = _prepare(data)
    if isinstance(prepared, LineError):
        if prepared.code is ErrorCode.EMPTY_FILE:
            prepared = _error(None, ErrorCode.EMPTY_FILE, kind=kind)
        return Validation(kind, errors=(prepared,))
    text, header_line, header_cells, delimiter = prepared
    if tables.header_of(header_cells) != kind.header:
        return Validation(kind, errors=(_header_error(kind, header_line, header_cells),))

    scope = None if within in (None, NATIONAL) else within
    check = (_plan_checker if kind is BaselineKind.RENCANA else _tps_checker)(regions, scope)
    width = len(kind.header)
    rows: list = []
    errors: list[LineError] = []
    data_lines = 0
    for record in tables.records(text, delimiter):
        if isinstance(record, tables.Unreadable):
            errors.append(_unreadable(record))
            break
        line, cells = record
        if line <= header_line or tables.blank(cells):
            continue
        data_lines += 1
        cells = _fit(cells, width)
        if len(cells) != width:
            code = ErrorCode.TOO_FEW_COLUMNS if len(cells) < width else ErrorCode.TOO_MANY_COLUMNS
            errors.append(_error(line, code, kind=kind, expected=width, found=len(cells)))
            continue
        row = check(line, cells, errors)
        if row is not None:
            rows.append(row)
    if not data_lines and not errors:
        errors.append(_error(None, ErrorCode.NO_DATA))
    if errors:
        return Validation(kind, errors=tuple(errors))
    if kind is BaselineKind.TPS:
        rows = _per_kecamatan(rows)
    return Validation(kind, rows=tuple(rows))


def validate_plan(data: bytes, regions: Mapping[str, str], *, within: str | None = None) -> Validation[PlanRow]:
    """Check a plan file (`kode_wilayah,barang,jumlah`) against the deployment's regions.

    `regions` maps every known dotted code to its level (`Level` or its value); `within`, if
    given, refuses codes outside that subtree. Returns the clean rows, or every problem with its
    line number (header = line 1; blank lines count but are skipped).
    """
    return validate(BaselineKind.RENCANA, data, regions, within=within)


def validate_tps(data: bytes, regions: Mapping[str, str], *, within: str | None = None) -> Validation[TpsRow]:
    """Check a TPS file (`kode_wilayah,jumlah_tps`); see `validate_plan`. The rows are one per
    kecamatan: desa/kelurahan lines are summed into theirs (`TpsRow.desa` counts them)."""
    return validate(BaselineKind.TPS, data, regions, within=within)
