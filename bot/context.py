"""The typed callback context and the keys of what the application keeps in `bot_data`.

Handlers and jobs reach the runtime (settings, database, clock) and the outbox sender through
here, so nothing but the composition root (`bot.app`), the CLI, the dev tools and tests imports
`bot.app`.
"""

from __future__ import annotations

from telegram.ext import Application, CallbackContext, ExtBot, JobQueue

from bot.domain.models import User
from bot.services.runtime import Runtime

RUNTIME_KEY = "runtime"
NOTIFIER_KEY = "notifier"


def job_queue_of(app: Application) -> JobQueue:
    """The application's JobQueue. PTB has none without its `job-queue` extra, which the project
    depends on; without it the bot cannot schedule anything, so that is an error at once."""
    jq = app.job_queue
    if jq is None:
        raise RuntimeError("PTB's JobQueue is missing: install python-telegram-bot[job-queue]")
    return jq


class KpuContext(CallbackContext[ExtBot, dict, dict, dict]):
    """The callback context with our runtime and the registered sender of the update."""

    def __init__(self, application: Application, chat_id: int | None = None, user_id: int | None = None):
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.actor: User | None = None

    @property
    def rt(self) -> Runtime:
        return self.application.bot_data[RUNTIME_KEY]
