"""Telegram handlers only: read the update, call into `bot/`, format the reply.

`register(application)` adds every handler, in one readable list.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, TypeHandler

from handlers import admin, errors, gate, regions, start


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, gate.gate), group=-1)
    app.add_handlers(
        [
            CommandHandler("start", start.start),
            CommandHandler("bantuan", start.bantuan),
            CommandHandler("help", start.bantuan),
            CommandHandler("wilayah", regions.wilayah),
            CommandHandler("undang", admin.undang),
            CommandHandler("cabut", admin.cabut),
        ]
    )
    app.add_error_handler(errors.on_error)
