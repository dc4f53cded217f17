"""What the operators' endpoints (`/healthz`, `/metrics`) ask of the database."""

from __future__ import annotations

from bot.services.runtime import Runtime
from storage import metrics
from storage.metrics import Figures

__all__ = ["Figures", "database_answers", "figures"]


async def figures(rt: Runtime) -> Figures:
    return await metrics.figures(rt.db)


async def database_answers(rt: Runtime) -> None:
    await metrics.ping(rt.db)
