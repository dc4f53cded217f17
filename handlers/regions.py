"""/wilayah: find a region by name or code and show its path."""

from __future__ import annotations

from telegram import Update

from bot.context import KpuContext
from bot.services import regions
from bot.telegram.replies import reply
from bot.telegram.updates import args_of
from bot.texts import common as t

LIMIT = 10


async def wilayah(update: Update, context: KpuContext) -> None:
    query = " ".join(args_of(context)).strip()
    if not query:
        await reply(update, t.WILAYAH_USAGE)
        return
    matches = await regions.find(context.rt, query, limit=LIMIT + 1)
    if not matches:
        await reply(update, t.wilayah_none(query))
        return
    await reply(update, t.wilayah_results(query, matches[:LIMIT], more=len(matches) > LIMIT))
