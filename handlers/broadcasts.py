"""/siaran: a broadcast to every active user in the sender's scope (komisioner, admin)."""

from __future__ import annotations

import re

from telegram import Update
from telegram.constants import ChatType

from bot.context import NOTIFIER_KEY, KpuContext
from bot.domain.regions import NATIONAL
from bot.services import broadcasts, regions
from bot.services.broadcasts import Started
from bot.telegram.replies import reply
from bot.telegram.updates import actor_of, chat_of, message_of
from bot.texts import broadcasts as tb
from bot.texts import common as tc

_COMMAND = re.compile(r"^/\S+\s*(.*)$", re.DOTALL)


async def siaran(update: Update, context: KpuContext) -> None:
    chat = chat_of(update)
    if chat.type != ChatType.PRIVATE:
        await reply(update, tb.SIARAN_PRIVATE_ONLY)
        return
    match = _COMMAND.match(message_of(update).text or "")
    text = match.group(1).strip() if match else ""
    if not text or len(text) > tb.SIARAN_MAX:
        await reply(update, tb.SIARAN_USAGE)
        return
    rt = context.rt
    started = await broadcasts.start(rt, actor_of(context), text, chat.id)
    if not isinstance(started, Started):
        await reply(update, tc.refusal(started))
        return
    where = tc.region_path(await regions.path(rt, started.scope)) if started.scope != NATIONAL else tb.EVERYWHERE
    await reply(update, tb.siaran_queued(started.recipients, where))
    context.application.bot_data[NOTIFIER_KEY].kick()
