"""`/ekspor`: the incidents of a scope as CSV that opens in Excel (UTF-8 with BOM), and beside it
an Excel workbook (.xlsx) with the same incidents, their history, and the current logistics and
counting state per kecamatan; NIKs masked.

The column headers, sheet names and the words in the cells (kind and status labels, local times)
are the user-visible part of the export, so they live here; `bot.services.export` gives the rows.
The files leave the bot, so every free-text column goes through `mask_niks`, whoever asks. The
incident sheet's cells are the CSV's, made by one function, so the two files always agree.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, tzinfo
from typing import Final

from bot.domain.clock import from_db
from bot.domain.privacy import mask_niks
from bot.texts.formatting import csv_time
from bot.texts.incidents import ACTION_LABEL
from bot.texts.labels import KIND_LABELS, STATUS_LABEL, item_label

COLUMNS: Final = (
    "id",
    "jenis",
    "prioritas",
    "status",
    "kode_wilayah",
    "wilayah",
    "pelapor",
    "dilaporkan",
    "diterima",
    "barang_atau_masalah",
    "diterima_jumlah",
    "kebutuhan",
    "rusak",
    "jumlah_data",
    "tps_selesai",
    "tps_total",
    "sirekap",
    "eskalasi",
    "ditangani",
    "selesai",
    "uraian",
)


def file_name(region_code: str, local_now: datetime) -> str:
    """The CSV's name: "laporan_5103_20240215_0700.csv" (region code without dots, local moment)."""
    return f"laporan_{region_code.replace('.', '')}_{local_now:%Y%m%d_%H%M}.csv"


def _time(text: str | None, tz: tzinfo) -> str:
    return csv_time(from_db(text), tz)


def _count(value: int | None) -> int | str:
    return value if value is not None else ""


def incident_cells(r: dict, tz: tzinfo) -> list[int | str]:
    """One incident's cells, in COLUMNS order: the same in the CSV and in the workbook."""
    return [
        r["id"],
        KIND_LABELS.get(r["kind"], r["kind"]),
        r["severity"],
        STATUS_LABEL.get(r["status"], r["status"]),
        r["region_code"],
        r["region_name"],
        mask_niks(r["reporter_name"] or ""),
        _time(r["reported_at"], tz),
        _time(r["received_at"], tz),
        r["item"] or "",
        _count(r["received"]),
        _count(r["planned"]),
        _count(r["damaged"]),
        _count(r["data_count"]),
        _count(r["tps_done"]),
        _count(r["tps_total"]),
        _count(r["sirekap"]),
        r["escalations"],
        _time(r["taken_at"], tz),
        _time(r["resolved_at"], tz),
        mask_niks(r["description"] or ""),
    ]


def to_csv(rows: list[dict], tz: tzinfo) -> bytes:
    """CSV bytes (UTF-8 with BOM, `;`-free comma dialect, quoted as needed) of export rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, dialect="excel")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(incident_cells(r, tz))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


# --- the Excel workbook --------------------------------------------------------------------------

SHEET_INCIDENTS: Final = "Insiden"
SHEET_HISTORY: Final = "Riwayat"
SHEET_STATE: Final = "Keadaan kecamatan"

HISTORY_COLUMNS: Final = (
    "id_insiden",
    "waktu",
    "tindakan",
    "oleh",
    "dari_status",
    "ke_status",
    "kode_wilayah",
    "catatan",
)

STATE_COLUMNS: Final = (
    "bagian",
    "kode_wilayah",
    "kecamatan",
    "kabupaten_kota",
    "barang",
    "diterima",
    "kebutuhan",
    "rusak",
    "kurang",
    "tps_selesai",
    "tps_total",
    "sirekap",
    "terakhir_dilaporkan",
)

#: column widths in characters: at least, at most (longer text wraps in the cell when opened)
MIN_WIDTH: Final = 8
MAX_WIDTH: Final = 60


def xlsx_file_name(region_code: str, local_now: datetime) -> str:
    """The workbook's name: the CSV's with .xlsx."""
    return file_name(region_code, local_now).removesuffix(".csv") + ".xlsx"


def xlsx_caption(incidents: int, kecamatan: int) -> str:
    """The workbook's caption: what its sheets hold."""
    return (
        f"📊 Excel: lembar <b>{SHEET_INCIDENTS}</b> ({incidents} laporan), <b>{SHEET_HISTORY}</b>, "
        f"<b>{SHEET_STATE}</b> ({kecamatan} kecamatan). NIK disamarkan."
    )


def _status(value: str | None) -> str:
    return STATUS_LABEL.get(value, value) if value else ""


def history_cells(r: dict, tz: tzinfo) -> list[int | str]:
    return [
        r["incident_id"],
        _time(r["at"], tz),
        ACTION_LABEL.get(r["action"], r["action"]),
        mask_niks(r["actor_name"] or ""),
        _status(r["from_status"]),
        _status(r["to_status"]),
        r["region_code"] or "",
        mask_niks(r["note"] or ""),
    ]


def state_cells(r: dict, tz: tzinfo) -> list[int | str]:
    received, planned = r["received"], r["planned"]
    short = max(planned - received, 0) if received is not None and planned is not None else None
    return [
        KIND_LABELS.get(r["part"], r["part"]),
        r["region_code"],
        r["name"],
        r["parent_name"],
        item_label(r["item"]) if r["item"] else "",
        _count(received),
        _count(planned),
        _count(r["damaged"]),
        _count(short),
        _count(r["tps_done"]),
        _count(r["tps_total"]),
        _count(r["sirekap"]),
        _time(r["reported_at"], tz),
    ]


def _sheet(book, title: str, columns: tuple[str, ...], rows: list[list[int | str]], *, first: bool = False) -> None:
    """One sheet: a bold, frozen header with a filter, the rows, columns as wide as their text."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = book.active if first else book.create_sheet()
    sheet.title = title
    sheet.append(list(columns))
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
    for index, title_text in enumerate(columns, start=1):
        longest = max([len(title_text), *(len(str(row[index - 1])) for row in rows)])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, MIN_WIDTH), MAX_WIDTH)


def to_xlsx(rows: list[dict], history: list[dict], state: list[dict], tz: tzinfo) -> bytes:
    """The workbook: the incidents (the CSV's columns and cells), their history, and the current
    logistics and counting state per kecamatan. CPU work: call it off the event loop."""
    # openpyxl takes a while to import and only /ekspor needs it
    import openpyxl

    book = openpyxl.Workbook()
    _sheet(book, SHEET_INCIDENTS, COLUMNS, [incident_cells(r, tz) for r in rows], first=True)
    _sheet(book, SHEET_HISTORY, HISTORY_COLUMNS, [history_cells(r, tz) for r in history])
    _sheet(book, SHEET_STATE, STATE_COLUMNS, [state_cells(r, tz) for r in state])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
