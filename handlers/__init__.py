"""Telegram handlers only: read the update, call into `bot/`, format the reply.

`register(application)` adds every handler, in one readable list.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    TypeHandler,
)

from handlers import (
    admin,
    broadcasts,
    digest,
    errors,
    gate,
    groups,
    incidents,
    lapor,
    regions,
    start,
)


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, gate.gate), group=-1)
    app.add_handlers(
        [
            *lapor.handlers(),
            CommandHandler("start", start.start),
            CommandHandler("bantuan", start.bantuan),
            CommandHandler("help", start.bantuan),
            CommandHandler("wilayah", regions.wilayah),
            CommandHandler("undang", admin.undang),
            CommandHandler("cabut", admin.cabut),
            CommandHandler("impor", admin.impor),
            CommandHandler("status", incidents.status),
            CommandHandler("tangani", incidents.tangani),
            CommandHandler("eskalasi", incidents.eskalasi),
            CommandHandler("selesai", incidents.selesai),
            CommandHandler("catatan", incidents.catatan),
            CommandHandler("tolak", incidents.tolak),
            CommandHandler("buka", incidents.buka),
            CommandHandler("insiden", incidents.insiden),
            CommandHandler("ekspor", incidents.ekspor),
            CommandHandler("siaran", broadcasts.siaran),
            CallbackQueryHandler(incidents.incident_button, pattern=r"^i\d+:"),
            CallbackQueryHandler(incidents.insiden_page, pattern=r"^il\d+:"),
            CallbackQueryHandler(lapor.held_button, pattern=rf"^{lapor.HELD_CB}:\d+:(ya|tidak)$"),
            CommandHandler("grup", groups.grup),
            CommandHandler("jadwal", digest.jadwal),
            CommandHandler("ringkasan", digest.ringkasan),
            CommandHandler("progres", digest.progres),
            CommandHandler("logistik", digest.logistik),
            ChatMemberHandler(groups.bot_membership, ChatMemberHandler.MY_CHAT_MEMBER),
            *lapor.last_handlers(),
            CallbackQueryHandler(incidents.unknown_button),  # last: every press is answered
        ]
    )
    app.add_error_handler(errors.on_error)
