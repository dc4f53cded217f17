"""`/ekspor`: the incidents of a scope over the last days, as rows for the CSV file.

The file's columns and words are `bot.texts.export.to_csv`'s; NIKs are masked there.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.services.runtime import Runtime
from storage import incidents as incident_store

MAX_DAYS = 90


async def export_rows(rt: Runtime, scope: str, days: int, now: datetime) -> list[dict]:
    """The incidents of `scope` reported in the `days` before `now`, as export rows."""
    return await incident_store.export_rows(rt.db, scope=scope, since=now - timedelta(days=days))
