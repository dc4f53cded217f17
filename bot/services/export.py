"""`/ekspor`: the incidents of a scope as CSV that opens in Excel (UTF-8 with BOM), NIKs masked.

The file leaves the bot, so every free-text column goes through `mask_niks`, whoever asks.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from bot.domain import access
from bot.domain.access import Action, Reason
from bot.domain.clock import from_db
from bot.domain.models import User
from bot.domain.privacy import mask_niks
from bot.services.runtime import Runtime
from bot.texts.incidents import KIND_LABEL, STATUS_LABEL
from storage import incidents as incident_store

MAX_DAYS = 90
COLUMNS = ("id", "jenis", "tingkat", "status", "kode_wilayah", "wilayah", "pelapor", "dilaporkan", "diterima",
           "barang_atau_masalah", "diterima_jumlah", "rencana", "rusak", "jumlah_data", "tps_selesai", "tps_total",
           "sirekap", "eskalasi", "ditangani", "selesai", "uraian")


def _time(text: str | None, tz: tzinfo) -> str:
    moment = from_db(text)
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


def to_csv(rows: list[dict], tz: tzinfo) -> bytes:
    """CSV bytes (UTF-8 with BOM, `;`-free comma dialect, quoted as needed) of export rows."""
    buf = io.StringIO()
    writer = csv.writer(buf, dialect="excel")
    writer.writerow(COLUMNS)
    for r in rows:
        writer.writerow([
            r["id"], KIND_LABEL.get(r["kind"], r["kind"]), r["severity"], STATUS_LABEL.get(r["status"], r["status"]),
            r["region_code"], r["region_name"], mask_niks(r["reporter_name"] or ""), _time(r["reported_at"], tz),
            _time(r["received_at"], tz), r["item"] or "", r["received"] if r["received"] is not None else "",
            r["planned"] if r["planned"] is not None else "", r["damaged"] if r["damaged"] is not None else "",
            r["data_count"] if r["data_count"] is not None else "",
            r["tps_done"] if r["tps_done"] is not None else "", r["tps_total"] if r["tps_total"] is not None else "",
            r["sirekap"] if r["sirekap"] is not None else "", r["escalations"], _time(r["taken_at"], tz),
            _time(r["resolved_at"], tz), mask_niks(r["description"] or ""),
        ])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


async def export(rt: Runtime, scope: str, days: int, now: datetime) -> tuple[bytes, int]:
    rows = await incident_store.export_rows(rt.db, scope=scope, since=now - timedelta(days=days))
    return to_csv(rows, rt.settings.tz), len(rows)


@dataclass(frozen=True, slots=True)
class Exported:
    data: bytes  # the CSV file
    count: int  # incidents in it
    at: datetime  # when it was made


async def export_for(rt: Runtime, actor: User | None, days: int) -> Exported | Reason:
    """/ekspor: the incidents of the actor's scope of the last `days` days, if the actor may export."""
    decision = access.decide(actor, Action.EKSPOR, actor.region_code if actor else None)
    if not decision:
        return decision.reason
    now = rt.clock()
    data, count = await export(rt, access.scope_of(actor, Action.EKSPOR), days, now)
    return Exported(data, count, now)
