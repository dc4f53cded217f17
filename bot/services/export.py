"""`/ekspor`: the incidents of a scope over the last days, as rows for the CSV file, and for the
Excel workbook also their history and the current state per kecamatan.

The files' columns and words are `bot.texts.export`'s (`to_csv`, `to_xlsx`); NIKs are masked there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.domain import access
from bot.domain.access import Action, Reason
from bot.domain.models import User
from bot.services.runtime import Runtime
from storage import export as export_store
from storage import incidents as incident_store

MAX_DAYS = 90


async def export_rows(rt: Runtime, scope: str, days: int, now: datetime) -> list[dict]:
    """The incidents of `scope` reported in the `days` before `now`, as export rows."""
    return await incident_store.export_rows(rt.db, scope=scope, since=now - timedelta(days=days))


@dataclass(frozen=True, slots=True)
class Exported:
    rows: list[dict]  # the export rows (`bot.texts.export.to_csv` writes the file)
    at: datetime  # when it was made
    history: list[dict] = field(default_factory=list)  # every event of those incidents
    state: list[dict] = field(default_factory=list)  # logistics and counting now, per kecamatan


async def export_for(rt: Runtime, actor: User | None, days: int) -> Exported | Reason:
    """/ekspor: the incidents of the actor's scope of the last `days` days, if the actor may export."""
    decision = access.decide(actor, Action.EKSPOR, actor.region_code if actor else None)
    if not decision:
        return decision.reason
    assert actor is not None  # decide() refuses a missing user
    now = rt.clock()
    scope = access.scope_of(actor, Action.EKSPOR)
    since = now - timedelta(days=days)
    return Exported(
        await incident_store.export_rows(rt.db, scope=scope, since=since),
        now,
        await export_store.history_rows(rt.db, scope=scope, since=since),
        await export_store.kecamatan_state(rt.db, scope=scope),
    )
