"""/wilayah: find a region by name or code and show its path."""

from __future__ import annotations

from telegram import Update

from bot.context import KpuContext
from bot.domain.models import RegionMatch
from bot.domain.regions import normalize_code
from bot.texts import common as t
from bot.telegram.replies import reply
from storage import regions as region_store

LIMIT = 10


async def wilayah(update: Update, context: KpuContext) -> None:
    query = " ".join(context.args).strip()
    if not query:
        await reply(update, t.WILAYAH_USAGE)
        return
    db = context.rt.db
    code = normalize_code(query)
    matches: list[RegionMatch] = []
    if code:
        region = await region_store.get(db, code)
        if region:
            matches = [RegionMatch(region, await region_store.path(db, code))]
    if not matches:
        matches = await region_store.search(db, query, limit=LIMIT + 1)
    if not matches:
        await reply(update, t.wilayah_none(query))
        return
    await reply(update, t.wilayah_results(query, matches[:LIMIT], more=len(matches) > LIMIT))
