"""Baselines: the logistics plan and the TPS counts, imported from CSV files.

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

Files come from Excel as often as not: UTF-8 with or without a BOM, `,` or `;` between fields
(the `csv` module's Sniffer decides), numbers plain (`1250`) or with Indonesian thousands
separators (`1.250`). Codes may be dotted or plain (`51.03.01`, `510301`).

`validate_plan` / `validate_tps` are pure: bytes and the deployment's regions in, the clean rows
or *every* problem out, each with the line number the user sees in the file (header = line 1).
`import_plan` / `import_tps` / `import_baseline` validate off the event loop and store
all-or-nothing; the command line (`python -m bot import-plan`) and the `/impor` handler both use
them and only format the `ImportResult`.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Final, Generic, TypeVar

from bot.domain.clock import Clock, utc_now
from bot.domain.models import Level
from bot.domain.parsing import parse_number
from bot.domain.regions import NATIONAL, is_within, normalize_code, parent_of
from bot.domain.reporting import ITEMS, MAX_NUMBER, format_number, resolve_item
from bot.domain.reporting import ErrorCode as NumberError
from bot.services.runtime import Runtime
from bot.texts import baselines as texts
from storage import baselines as store
from storage.db import Database

__all__ = [
    "PLAN_HEADER",
    "TPS_HEADER",
    "BaselineKind",
    "ErrorCode",
    "ImportResult",
    "LineError",
    "PlanRow",
    "TpsRow",
    "Validation",
    "detect_kind",
    "import_baseline",
    "import_plan",
    "import_tps",
    "validate",
    "validate_plan",
    "validate_tps",
]

PLAN_HEADER: Final = ("kode_wilayah", "barang", "jumlah")
TPS_HEADER: Final = ("kode_wilayah", "jumlah_tps")

#: Delimiters the Sniffer may choose between (Indonesian Excel writes `;`).
_DELIMITERS: Final = ",;"
#: Non-blank lines given to the Sniffer.
_SNIFF_LINES: Final = 50
#: ... and at most this many characters of them (the Sniffer scans the sample once per character).
_SNIFF_CHARS: Final = 64 * 1024
_XLSX_MAGIC: Final = b"PK\x03\x04"
_XLS_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF8_BOM: Final = b"\xef\xbb\xbf"
_UTF16_BOMS: Final = (b"\xff\xfe", b"\xfe\xff")


class BaselineKind(StrEnum):
    """Which baseline a file holds (the values are the audit's `jenis`)."""

    RENCANA = "rencana"
    TPS = "tps"

    @property
    def header(self) -> tuple[str, ...]:
        return PLAN_HEADER if self is BaselineKind.RENCANA else TPS_HEADER

    @property
    def label(self) -> str:
        """"rencana logistik" / "jumlah TPS"."""
        return texts.KIND_LABELS[self.value]


class ErrorCode(StrEnum):
    """Why a file or a line was refused; each has a sentence in `bot.texts.baselines.ERRORS`."""

    EMPTY_FILE = "empty_file"
    NOT_UTF8 = "not_utf8"
    UTF16 = "utf16"
    SPREADSHEET = "spreadsheet"
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
    """One problem: the line it is on (None for the file as a whole) and what is wrong.

    `message` is plain text (see `bot.texts.baselines`); `str(error)` adds "baris N: ".
    """

    line: int | None
    code: ErrorCode
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return texts.LINE_PREFIX.format(line=self.line, message=self.message)


def _error(line: int | None, error: ErrorCode, /, **values: object) -> LineError:
    return LineError(line, error, texts.ERRORS[error.value].format(**values))


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


# --- reading the file ----------------------------------------------------------------------------


def _line_of(data: bytes, offset: int) -> int:
    """1-based line of the byte at `offset` (any of \\n, \\r\\n, \\r ends a line)."""
    prefix = data[:offset]
    count = len(prefix.splitlines())
    return count + 1 if not prefix or prefix.endswith((b"\n", b"\r")) else count


def _decode(data: bytes) -> str | LineError:
    """The text of the file: UTF-8, with or without Excel's BOM."""
    if data.startswith(_UTF16_BOMS):
        return _error(None, ErrorCode.UTF16)
    if data.startswith((_XLSX_MAGIC, _XLS_MAGIC)):
        return _error(None, ErrorCode.SPREADSHEET)
    body = data.removeprefix(_UTF8_BOM)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _error(_line_of(body, exc.start), ErrorCode.NOT_UTF8)
    # A second BOM (a file saved twice) or one at the start of the text after decoding.
    return text.lstrip("\ufeff")


def _blank(cells: list[str]) -> bool:
    return all(not cell.strip() for cell in cells)


def _cells(line: str, delimiter: str) -> list[str]:
    """The fields of one physical line (for the header), trimmed, trailing empties dropped."""
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        cells = [line]
    cells = [cell.strip() for cell in cells]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _header_of(cells: list[str]) -> tuple[str, ...]:
    return tuple(cell.casefold() for cell in cells)


def _sniff(text: str, header_line: str) -> str:
    """The delimiter: what the Sniffer sees in the first lines, unless only the other one makes
    the header line one of the known headers (the Sniffer can be misled by a few odd lines)."""
    lines = (line for _, line in _lines(text) if _has_content(line))
    sample = "\n".join(line for line, _ in zip(lines, range(_SNIFF_LINES)))[:_SNIFF_CHARS]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        sniffed = _DELIMITERS[0]
    known = {PLAN_HEADER, TPS_HEADER}
    for delimiter in (sniffed, *(d for d in _DELIMITERS if d != sniffed)):
        if _header_of(_cells(header_line, delimiter)) in known:
            return delimiter
    return sniffed


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]] | LineError]:
    """(first line number, cells) of every record, or a LineError where the CSV is broken."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield _error(start, ErrorCode.BAD_CSV)
            return
        yield start, cells


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Physical lines and their numbers, split as the csv reader splits them (\\n, \\r\\n, \\r)."""
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        yield number, line.rstrip("\r\n")


def _has_content(line: str) -> bool:
    """False for an empty line or one of only separators and spaces (`;;` from Excel)."""
    return bool(line.strip(" \t,;\""))


def _first_line(text: str) -> tuple[int, str] | None:
    """The first physical line with content, and its number."""
    return next(((number, line) for number, line in _lines(text) if _has_content(line)), None)


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
        return _error(line, ErrorCode.INVALID_CODE, token=texts.quote(token))
    level = regions.get(code)
    if level is None:
        parent = parent_of(code)
        if code.count(".") == 3 and parent is not None and regions.get(parent) == Level.KECAMATAN:
            # desa/kelurahan: 51.03.01.2001 (desa are not loaded; their kecamatan is)
            if kind is not BaselineKind.TPS:
                return _error(line, ErrorCode.DESA_CODE, code=code, parent=parent, label=kind.label)
            if within is not None and not is_within(parent, within):
                return _error(line, ErrorCode.OUT_OF_SCOPE, code=code, scope=within)
            return code
        return _error(line, ErrorCode.UNKNOWN_REGION, code=code)
    if within is not None and not is_within(code, within):
        return _error(line, ErrorCode.OUT_OF_SCOPE, code=code, scope=within)
    if level != Level.KECAMATAN:
        return _error(
            line, ErrorCode.NOT_KECAMATAN, code=code,
            level=texts.LEVEL_LABELS.get(str(level), str(level)), label=kind.label,
        )
    return code


def _item(token: str, line: int) -> str | LineError:
    names = ", ".join(ITEMS)
    if not token:
        return _error(line, ErrorCode.EMPTY_ITEM, items=names)
    item = resolve_item(token)
    if item is None:
        return _error(line, ErrorCode.UNKNOWN_ITEM, token=texts.quote(token), items=names)
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
            line, _NUMBER_ERRORS.get(value, ErrorCode.INVALID_NUMBER), column=column,
            token=texts.quote(token), bound=format_number(MAX_NUMBER),
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


#: Lines named at most in a message about a kecamatan written per desa.
_MAX_LINES_NAMED: Final = 5


def _line_list(lines: list[int]) -> str:
    """"3, 4, 7" (at most `_MAX_LINES_NAMED`, then "dan N lainnya")."""
    named = ", ".join(str(n) for n in lines[:_MAX_LINES_NAMED])
    more = len(lines) - _MAX_LINES_NAMED
    return named if more <= 0 else texts.MORE_LINES.format(lines=named, count=more)


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
                problems.append(_error(line, ErrorCode.DESA_AFTER_KECAMATAN, code=code, parent=kecamatan,
                                       first=kecamatan_lines[kecamatan]))
            elif not is_desa and kecamatan in desa_lines:
                problems.append(_error(line, ErrorCode.KECAMATAN_AFTER_DESA, code=code,
                                       lines=_line_list(desa_lines[kecamatan])))
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
            out[row.region_code] = TpsRow(row.region_code, before.tps_count + row.tps_count, before.line,
                                          before.desa + row.desa)
    return list(out.values())


def _header_error(kind: BaselineKind, line: int, cells: list[str]) -> LineError:
    found = _header_of(cells)
    other = BaselineKind.TPS if kind is BaselineKind.RENCANA else BaselineKind.RENCANA
    if found == other.header:
        return _error(
            line, ErrorCode.OTHER_KIND_HEADER, other_label=other.label,
            other_header=",".join(other.header), label=kind.label, header=",".join(kind.header),
        )
    if cells and normalize_code(cells[0]) is not None:
        return _error(line, ErrorCode.MISSING_HEADER, header=",".join(kind.header))
    return _error(
        line, ErrorCode.WRONG_HEADER, header=",".join(kind.header),
        found=texts.quote(",".join(cells)),
    )


def _prepare(data: bytes) -> tuple[str, int, list[str], str] | LineError:
    """Decode, find the header line and the delimiter: (text, header line, header cells, delim)."""
    text = _decode(data)
    if isinstance(text, LineError):
        return text
    first = _first_line(text)
    if first is None:
        return _error(None, ErrorCode.EMPTY_FILE, header="kode_wilayah,...")
    line, header_line = first
    delimiter = _sniff(text, header_line)
    return text, line, _cells(header_line, delimiter), delimiter


def detect_kind(data: bytes) -> BaselineKind | None:
    """Which baseline the file's header announces, or None (any problem, or another header)."""
    prepared = _prepare(data)
    if isinstance(prepared, LineError):
        return None
    header = _header_of(prepared[2])
    return next((kind for kind in BaselineKind if kind.header == header), None)


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
            prepared = _error(None, ErrorCode.EMPTY_FILE, header=",".join(kind.header))
        return Validation(kind, errors=(prepared,))
    text, header_line, header_cells, delimiter = prepared
    if _header_of(header_cells) != kind.header:
        return Validation(kind, errors=(_header_error(kind, header_line, header_cells),))

    scope = None if within in (None, NATIONAL) else within
    check = (_plan_checker if kind is BaselineKind.RENCANA else _tps_checker)(regions, scope)
    width = len(kind.header)
    rows: list = []
    errors: list[LineError] = []
    data_lines = 0
    for record in _records(text, delimiter):
        if isinstance(record, LineError):
            errors.append(record)
            break
        line, cells = record
        if line <= header_line or _blank(cells):
            continue
        data_lines += 1
        cells = [cell.strip() for cell in cells]
        while len(cells) > width and not cells[-1]:
            cells.pop()  # Excel pads short rows with empty fields
        if len(cells) != width:
            code = ErrorCode.TOO_FEW_COLUMNS if len(cells) < width else ErrorCode.TOO_MANY_COLUMNS
            errors.append(
                _error(line, code, expected=width, header=",".join(kind.header), found=len(cells))
            )
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


def validate_plan(
    data: bytes, regions: Mapping[str, str], *, within: str | None = None
) -> Validation[PlanRow]:
    """Check a plan file (`kode_wilayah,barang,jumlah`) against the deployment's regions.

    `regions` maps every known dotted code to its level (`Level` or its value); `within`, if
    given, refuses codes outside that subtree. Returns the clean rows, or every problem with its
    line number (header = line 1; blank lines count but are skipped).
    """
    return validate(BaselineKind.RENCANA, data, regions, within=within)


def validate_tps(
    data: bytes, regions: Mapping[str, str], *, within: str | None = None
) -> Validation[TpsRow]:
    """Check a TPS file (`kode_wilayah,jumlah_tps`); see `validate_plan`. The rows are one per
    kecamatan: desa/kelurahan lines are summed into theirs (`TpsRow.desa` counts them)."""
    return validate(BaselineKind.TPS, data, regions, within=within)


# --- the service ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did: counts when it stored the file, or every problem when it did not."""

    kind: BaselineKind | None  # None: `import_baseline` could not tell from the header
    errors: tuple[LineError, ...] = ()
    rows: int = 0  # lines of the file stored
    regions: int = 0  # distinct regions (kecamatan) in the file
    desa: int = 0  # tps: desa/kelurahan lines summed into their kecamatan
    items: int = 0  # distinct items (plan only)
    total: int = 0  # sum of quantities (plan) or of TPS (tps)
    added: int = 0  # keys that had no value before
    replaced: int = 0  # keys whose earlier value was replaced
    per_item: dict[str, int] = field(default_factory=dict)  # plan: item → total quantity

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        """One line (plain text): what was imported, or how many problems stopped it."""
        if not self.ok:
            label = self.kind.label if self.kind is not None else texts.UNKNOWN_KIND_LABEL
            return texts.FAILED.format(label=label, count=len(self.errors))
        if self.kind is BaselineKind.RENCANA:
            template = texts.PLAN_DONE
        else:
            template = texts.TPS_DONE_DESA if self.desa else texts.TPS_DONE
        return template.format(
            rows=format_number(self.rows), regions=format_number(self.regions),
            items=format_number(self.items), total=format_number(self.total),
            added=format_number(self.added), replaced=format_number(self.replaced),
            desa=format_number(self.desa),
        )

    def error_lines(self) -> list[str]:
        """Every problem as "baris N: …" (plain text), in file order."""
        return [str(error) for error in self.errors]


def _db_and_clock(rt_or_db: Runtime | Database) -> tuple[Database, Clock]:
    if isinstance(rt_or_db, Database):
        return rt_or_db, utc_now
    return rt_or_db.db, rt_or_db.clock


async def import_baseline(
    rt_or_db: Runtime | Database,
    data: bytes,
    actor_id: int | None,
    kind: BaselineKind | None = None,
    *,
    source: str = "",
    within: str | None = None,
    at: datetime | None = None,
) -> ImportResult:
    """Validate `data` (off the event loop) and store it all-or-nothing, with an audit row.

    `kind` None takes the kind from the file's header (for `/impor`, which accepts both).
    `source` (a file name) goes into the audit row; `within` restricts codes to a subtree (the
    importer's scope); `at` defaults to the runtime's clock.
    """
    db, clock = _db_and_clock(rt_or_db)
    if kind is None:
        kind = await asyncio.to_thread(detect_kind, data)
        if kind is None:
            return ImportResult(None, errors=(await asyncio.to_thread(_unknown_kind, data),))
    levels = await store.region_levels(db)
    validation = await asyncio.to_thread(validate, kind, data, levels, within=within)
    if not validation.ok:
        return ImportResult(kind, errors=validation.errors)
    rows = validation.rows
    regions = {row.region_code for row in rows}
    detail: dict[str, object] = {"wilayah": len(regions)}
    if source:
        detail["berkas"] = source
    when = at or clock()
    if kind is BaselineKind.RENCANA:
        per_item: dict[str, int] = {}
        for row in rows:
            per_item[row.item] = per_item.get(row.item, 0) + row.quantity
        total = sum(per_item.values())
        detail |= {"barang": len(per_item), "jumlah": total}
        done = await store.replace_plan(db, rows, actor_id, when, detail=detail)
        return ImportResult(
            kind, rows=len(rows), regions=len(regions), items=len(per_item), total=total,
            added=done.added, replaced=done.replaced, per_item=per_item,
        )
    total = sum(row.tps_count for row in rows)
    desa = sum(row.desa for row in rows)
    detail |= {"jumlah_tps": total} | ({"desa": desa} if desa else {})
    done = await store.replace_tps(db, rows, actor_id, when, detail=detail)
    return ImportResult(
        kind, rows=sum(row.desa or 1 for row in rows), regions=len(regions), total=total, desa=desa,
        added=done.added, replaced=done.replaced,
    )


def _unknown_kind(data: bytes) -> LineError:
    """Why `detect_kind` found nothing: a file-level problem, or a header of neither form."""
    prepared = _prepare(data)
    if isinstance(prepared, LineError):
        return prepared
    _, line, cells, _ = prepared
    return _error(
        line, ErrorCode.UNKNOWN_HEADER, plan_header=",".join(PLAN_HEADER),
        tps_header=",".join(TPS_HEADER), found=texts.quote(",".join(cells)),
    )


async def import_plan(
    rt_or_db: Runtime | Database,
    data: bytes,
    actor_id: int | None,
    *,
    source: str = "",
    within: str | None = None,
    at: datetime | None = None,
) -> ImportResult:
    """Import a plan file (`kode_wilayah,barang,jumlah`); see `import_baseline`."""
    return await import_baseline(
        rt_or_db, data, actor_id, BaselineKind.RENCANA, source=source, within=within, at=at
    )


async def import_tps(
    rt_or_db: Runtime | Database,
    data: bytes,
    actor_id: int | None,
    *,
    source: str = "",
    within: str | None = None,
    at: datetime | None = None,
) -> ImportResult:
    """Import a TPS file (`kode_wilayah,jumlah_tps`); see `import_baseline`."""
    return await import_baseline(
        rt_or_db, data, actor_id, BaselineKind.TPS, source=source, within=within, at=at
    )
