"""`/ekspor`: the incidents of a scope as CSV that opens in Excel (UTF-8 with BOM), NIKs masked.

The column headers and the words in the cells (kind and status labels, local times) are the
user-visible part of the export, so they live here; `bot.services.export` gives the rows. The file
leaves the bot, so every free-text column goes through `mask_niks`, whoever asks.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, tzinfo
from typing import Final

from bot.domain.clock import from_db
from bot.domain.privacy import mask_niks
from bot.texts.formatting import csv_time
from bot.texts.labels import KIND_LABELS, STATUS_LABEL

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


def to_csv(rows: list[dict], tz: tzinfo) -> bytes:
    """CSV bytes (UTF-8 with BOM, `;`-free comma dialect, quoted as needed) of export rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, dialect="excel")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow(
            [
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
        )
    return ("\ufeff" + buf.getvalue()).encode("utf-8")
