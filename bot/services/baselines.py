"""Importing baselines: the logistics plan and the TPS counts, from CSV files.

`import_plan` / `import_tps` / `import_baseline` check the file off the event loop
(`bot.domain.baselines`) and store it all-or-nothing with an audit row; the command line
(`python -m bot import-plan`) and the `/impor` handler both use them and word the `ImportResult`
with `bot.texts.baselines`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.baselines import (
    BaselineKind,
    LineError,
    detect_kind,
    unknown_kind,
    validate,
)
from bot.domain.clock import Clock, utc_now
from bot.services.runtime import Runtime
from storage import baselines as store
from storage.db import Database

__all__ = [
    "ImportResult",
    "import_baseline",
    "import_plan",
    "import_tps",
]


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
            return ImportResult(None, errors=(await asyncio.to_thread(unknown_kind, data),))
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
            kind,
            rows=len(rows),
            regions=len(regions),
            items=len(per_item),
            total=total,
            added=done.added,
            replaced=done.replaced,
            per_item=per_item,
        )
    total = sum(row.tps_count for row in rows)
    desa = sum(row.desa for row in rows)
    detail |= {"jumlah_tps": total} | ({"desa": desa} if desa else {})
    done = await store.replace_tps(db, rows, actor_id, when, detail=detail)
    return ImportResult(
        kind,
        rows=sum(row.desa or 1 for row in rows),
        regions=len(regions),
        total=total,
        desa=desa,
        added=done.added,
        replaced=done.replaced,
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
    return await import_baseline(rt_or_db, data, actor_id, BaselineKind.RENCANA, source=source, within=within, at=at)


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
    return await import_baseline(rt_or_db, data, actor_id, BaselineKind.TPS, source=source, within=within, at=at)
