"""The audit trail of refusals: every attempt the rules turned down is written down, with who
tried what on what and why, so an attack (forged buttons, presses from outside the region, a
group taken over) leaves a trace even though it changed nothing."""

from __future__ import annotations

from bot.services.runtime import Runtime
from storage import audit as audit_store


async def refused(rt: Runtime, actor_id: int | None, attempted: str, target: str, reason: str) -> None:
    await audit_store.refused(
        rt.db, at=rt.clock(), actor_id=actor_id, attempted=attempted, target=target, reason=reason
    )
