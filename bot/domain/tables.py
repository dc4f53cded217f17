"""Reading a table sent as a CSV file: bytes in, numbered lines and cells out. Pure (no I/O).

Files come from Excel as often as not: UTF-8 with or without a BOM, `,` or `;` between fields
(the `csv` module's Sniffer decides, helped by the headers the caller knows), lines ended by
\\n, \\r\\n or \\r. An Excel workbook (.xlsx) is read too: its first sheet becomes the same
text, one line per row (row n is line n, so the user finds a problem where Excel shows it). A
UTF-16 file or an old binary spreadsheet (.xls) is recognised and refused as such.

Line numbers are those the user sees in the file: the first line is line 1, blank lines count.
What is wrong with a file is an `Unreadable` (a `ReadProblem` and the line, or None for the file
as a whole); the caller turns it into its own error.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Final

__all__ = [
    "ReadProblem",
    "Unreadable",
    "blank",
    "cells",
    "decode",
    "first_line",
    "header_of",
    "records",
    "sniff",
    "xlsx_text",
]

#: Delimiters the Sniffer may choose between (Indonesian Excel writes `;`).
DELIMITERS: Final = ",;"
#: Non-blank lines given to the Sniffer.
_SNIFF_LINES: Final = 50
#: ... and at most this many characters of them (the Sniffer scans the sample once per character).
_SNIFF_CHARS: Final = 64 * 1024
_XLSX_MAGIC: Final = b"PK\x03\x04"
_XLS_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UTF8_BOM: Final = b"\xef\xbb\xbf"
_UTF16_BOMS: Final = (b"\xff\xfe", b"\xfe\xff")


class ReadProblem(StrEnum):
    """Why the bytes are not a readable CSV table."""

    NOT_UTF8 = "not_utf8"
    UTF16 = "utf16"
    SPREADSHEET = "spreadsheet"  # an old binary workbook (.xls)
    BAD_XLSX = "bad_xlsx"  # looks like a workbook (a ZIP) but openpyxl cannot read it
    BAD_CSV = "bad_csv"


@dataclass(frozen=True, slots=True)
class Unreadable:
    """The file (line None) or the table from `line` on cannot be read."""

    line: int | None
    problem: ReadProblem


def _line_of(data: bytes, offset: int) -> int:
    """1-based line of the byte at `offset` (any of \\n, \\r\\n, \\r ends a line)."""
    prefix = data[:offset]
    count = len(prefix.splitlines())
    return count + 1 if not prefix or prefix.endswith((b"\n", b"\r")) else count


def decode(data: bytes) -> str | Unreadable:
    """The text of the file: UTF-8, with or without Excel's BOM."""
    if data.startswith(_UTF16_BOMS):
        return Unreadable(None, ReadProblem.UTF16)
    if data.startswith(_XLSX_MAGIC):
        return xlsx_text(data)
    if data.startswith(_XLS_MAGIC):
        return Unreadable(None, ReadProblem.SPREADSHEET)
    body = data.removeprefix(_UTF8_BOM)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Unreadable(_line_of(body, exc.start), ReadProblem.NOT_UTF8)
    # A second BOM (a file saved twice) or one at the start of the text after decoding.
    return text.lstrip("\ufeff")


def _cell_text(value: object) -> str:
    """A cell as the CSV would have it: whole numbers without ".0" (Excel stores every number as
    a float), a fraction with a decimal comma (so it is refused as a count, never read as
    thousands), dates as ISO text."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value).replace(".", ",")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def xlsx_text(data: bytes) -> str | Unreadable:
    """The first sheet of an Excel workbook as comma-separated text, row n on line n (empty rows
    kept, trailing empty cells dropped); formulas give their last computed value."""
    # openpyxl takes a while to import and only /impor and the import verbs need it
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - a broken or foreign ZIP raises many kinds; all mean "unreadable"
        return Unreadable(None, ReadProblem.BAD_XLSX)
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return ""
        sheet.reset_dimensions()  # the stored size may be missing or wrong: read every row
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        for row in sheet.iter_rows(min_row=1, min_col=1, values_only=True):
            values = [_cell_text(value) for value in row]
            while values and not values[-1].strip():
                values.pop()
            writer.writerow(values)
        return buf.getvalue()
    except Exception:  # noqa: BLE001 - a sheet openpyxl cannot parse
        return Unreadable(None, ReadProblem.BAD_XLSX)
    finally:
        workbook.close()


def blank(cells: list[str]) -> bool:
    """True for a record of only empty or space fields."""
    return all(not cell.strip() for cell in cells)


def cells(line: str, delimiter: str) -> list[str]:
    """The fields of one physical line (for the header), trimmed, trailing empties dropped."""
    try:
        found = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        found = [line]
    found = [cell.strip() for cell in found]
    while found and not found[-1]:
        found.pop()
    return found


def header_of(cells: list[str]) -> tuple[str, ...]:
    """A header line's cells as compared with a known header (case-insensitive)."""
    return tuple(cell.casefold() for cell in cells)


def sniff(text: str, header_line: str, known: Collection[tuple[str, ...]]) -> str:
    """The delimiter: what the Sniffer sees in the first lines, unless only the other one makes
    the header line one of the `known` headers (the Sniffer can be misled by a few odd lines)."""
    lines = (line for _, line in _lines(text) if _has_content(line))
    sample = "\n".join(line for line, _ in zip(lines, range(_SNIFF_LINES), strict=False))[:_SNIFF_CHARS]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = DELIMITERS[0]
    for delimiter in (sniffed, *(d for d in DELIMITERS if d != sniffed)):
        if header_of(cells(header_line, delimiter)) in known:
            return delimiter
    return sniffed


def records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]] | Unreadable]:
    """(first line number, cells) of every record, or an Unreadable where the CSV is broken."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    while True:
        start = reader.line_num + 1
        try:
            found = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield Unreadable(start, ReadProblem.BAD_CSV)
            return
        yield start, found


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Physical lines and their numbers, split as the csv reader splits them (\\n, \\r\\n, \\r)."""
    for number, line in enumerate(io.StringIO(text, newline=""), start=1):
        yield number, line.rstrip("\r\n")


def _has_content(line: str) -> bool:
    """False for an empty line or one of only separators and spaces (`;;` from Excel)."""
    return bool(line.strip(' \t,;"'))


def first_line(text: str) -> tuple[int, str] | None:
    """The first physical line with content, and its number."""
    return next(((number, line) for number, line in _lines(text) if _has_content(line)), None)
