"""Sending digests: on demand and on schedule (text parts, then the charts as one media group).

Schedules live in the database (`bot.services.schedules`) and become PTB JobQueue (APScheduler) daily
jobs at start and whenever `/jadwal` changes them. Each occurrence is *claimed* in the database
(compare-and-set) just before it is sent, so a digest is never sent twice; if nothing could be sent
the claim is given back and a retry is scheduled a few minutes later, within the grace time, so a
failed send is not skipped silently either. Jobs run with a misfire grace time and coalescing.

Before sending, the target is resolved again from the current data: a group must still be a
registered coordination group (its current region and topic are used); a private chat's user must
still be active with the right to a personal digest (their current region). Otherwise the chat's
schedules are dropped.

At start the daily jobs are registered at once and the catch-up — occurrences missed within the
grace time while the bot was down, but not ones due before the schedule was created — runs as a
background job, so the bot answers updates meanwhile; several missed times of one chat make one
digest.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time, timedelta
from pathlib import Path
from typing import cast

from telegram import Bot, InputMediaPhoto
from telegram.ext import Application, CallbackContext, Job, JobQueue

from bot.charts import render_all_async
from bot.context import RUNTIME_KEY, job_queue_of
from bot.domain.privacy import for_chat
from bot.services import schedules
from bot.services.digest import digest_now
from bot.services.runtime import Runtime
from bot.services.schedules import GRACE, Claim, Schedule
from bot.telegram import ops
from bot.telegram.rate_limit import Priority, priority
from bot.texts import ops as ops_texts
from bot.texts.digest import render_digest

log = logging.getLogger(__name__)

#: after a failed send, the next try (never later than the end of the grace time)
RETRY_DELAY = timedelta(minutes=5)
MAX_TIMES = 6
JOB_PREFIX = "ringkasan"
RETRY_JOB_PREFIX = "ringkasan-ulang"
CATCH_UP_JOB = "ringkasan-susulan"
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


def parse_times(args: list[str]) -> list[str] | None:
    """ "07:00,18.30" or "07:00 18:30" → ["07:00", "18:30"] (sorted, unique); None if any is bad."""
    tokens = [t for arg in args for t in arg.split(",") if t.strip()]
    out = set()
    for token in tokens:
        match = _TIME.match(token.strip())
        if not match:
            return None
        out.add(f"{int(match.group(1)):02d}:{match.group(2)}")
    if not out or len(out) > MAX_TIMES:
        return None
    return sorted(out)


@dataclass
class SendProgress:
    """How many messages of a digest went out (so a failure after the first part is not retried:
    that would repeat what the chat already has)."""

    sent: int = 0


@dataclass(frozen=True)
class PreparedDigest:
    """A digest ready to send: its text parts (Telegram HTML, each below 4,096 characters) and its
    charts as (file name, PNG)."""

    parts: list[str]
    charts: Sequence[tuple[str, bytes | Path]]  # a Path is read when the chart is sent


async def _send_parts(bot: Bot, chat_id: int, parts: list[str], thread_id: int | None, progress: SendProgress) -> None:
    for part in parts:
        await bot.send_message(chat_id, for_chat(part, chat_id), message_thread_id=thread_id)
        progress.sent += 1


async def _send_charts(
    bot: Bot, chat_id: int, charts: Sequence[tuple[str, bytes | Path]], thread_id: int | None, progress: SendProgress
) -> None:
    """The charts as one album (a single chart as a photo). A chart on disk is read here, as it is
    sent: PTB would pass a path inside an album on as a file:// URI, which only a Bot API server
    in local mode accepts."""
    pngs = [(name, png.read_bytes() if isinstance(png, Path) else png) for name, png in charts]
    if len(pngs) == 1:
        name, png = pngs[0]
        await bot.send_photo(chat_id, png, filename=name, message_thread_id=thread_id)
        progress.sent += 1
    elif pngs:
        media = [InputMediaPhoto(png, filename=name) for name, png in pngs]
        progress.sent += len(await bot.send_media_group(chat_id, media, message_thread_id=thread_id))


async def send_digest(
    bot: Bot,
    rt: Runtime,
    chat_id: int,
    region_code: str,
    *,
    thread_id: int | None = None,
    sections: tuple[str, ...] | None = None,
    with_charts: bool = True,
    progress: SendProgress | None = None,
    prepared: PreparedDigest | None = None,
) -> int:
    """Compute and send a digest: the text at once, the charts (drawn off the event loop) after
    it. `sections` None: those of the election's phase (`Digest.sections`). Returns the number of messages sent (also counted in `progress`). NIKs are masked on the
    way out.

    At most `DIGESTS_AT_ONCE` digests are computed and sent at a time (`Runtime.digest_slots`):
    when every group's digest is due at 07:00, the others wait their turn holding nothing.
    A digest drawn beforehand (`prepare_digest`, the fan-out benchmark) is sent the same way."""

    progress = progress if progress is not None else SendProgress()
    async with rt.digest_slots:
        if prepared is None:
            digest = await digest_now(rt, region_code)
            chosen = sections if sections is not None else digest.sections
            await _send_parts(bot, chat_id, render_digest(digest, sections=chosen), thread_id, progress)
            charts: Sequence[tuple[str, bytes | Path]] = await render_all_async(digest, chosen) if with_charts else []
        else:
            await _send_parts(bot, chat_id, prepared.parts, thread_id, progress)
            charts = prepared.charts if with_charts else []
        await _send_charts(bot, chat_id, charts, thread_id, progress)
    return progress.sent


async def prepare_digest(rt: Runtime, region_code: str, *, sections: tuple[str, ...] | None = None) -> PreparedDigest:
    """A digest computed now with its text and charts, to hand to `send_digest` later."""

    digest = await digest_now(rt, region_code)
    chosen = sections if sections is not None else digest.sections
    return PreparedDigest(render_digest(digest, sections=chosen), await render_all_async(digest, chosen))


def _job_name(chat_id: int, at_time: str) -> str:
    return f"{JOB_PREFIX}:{chat_id}:{at_time}"


def _running_job(context: CallbackContext) -> Job:
    """The job a job callback runs for (PTB always sets it for a job's callback)."""
    assert context.job is not None, "a job callback without its job"
    return context.job


async def _scheduled(context: CallbackContext) -> None:
    """Job: one schedule's daily occurrence."""
    chat_id, at_time = cast(tuple[int, str], _running_job(context).data)[:2]  # set by `register_chat_jobs`
    await run_due(context.bot, context.application.bot_data[RUNTIME_KEY], chat_id, [at_time], context.job_queue)


async def _retry(context: CallbackContext) -> None:
    """Job: the next try of occurrences whose digest could not be sent."""
    chat_id, at_times = cast(tuple[int, tuple[str, ...]], _running_job(context).data)  # set by `_retry_later`
    await run_due(context.bot, context.application.bot_data[RUNTIME_KEY], chat_id, list(at_times), context.job_queue)


async def _catch_up(context: CallbackContext) -> None:
    """Job (once, right after start): digests missed while the bot was stopped."""
    await catch_up(context.bot, context.application.bot_data[RUNTIME_KEY], context.job_queue)


async def run_due(bot: Bot, rt: Runtime, chat_id: int, at_times: list[str], job_queue: JobQueue | None = None) -> bool:
    """Send one digest to `chat_id` for the due occurrences of its `at_times` that were not sent
    yet (several make one digest); True if it was sent.

    An occurrence is due if it is the latest of its time, not older than the grace time and not
    earlier than the schedule's creation. If nothing could be sent, the claims are given back and,
    with a `job_queue`, a retry is scheduled; a failure after part of the digest went out is logged
    and not repeated.
    """
    due = await schedules.due_occurrences(rt, chat_id, at_times)
    if not due:
        return False
    target = await schedules.resolve_target(rt, chat_id)
    if target is None:
        log.info(
            "chat %d no longer gets digests (group not registered, or user revoked or without the right): "
            "its schedules are dropped",
            chat_id,
        )
        await schedules.drop_chat(rt, chat_id)
        if job_queue is not None:
            remove_chat_jobs(job_queue, chat_id)
        return False
    claims = await schedules.claim(rt, chat_id, due)
    if not claims:
        return False  # another job (a retry, the catch-up) took them
    progress = SendProgress()
    try:
        with priority(Priority.ROUTINE):  # under a flood, after answers, urgent posts and receipts
            await send_digest(bot, rt, chat_id, target.region_code, thread_id=target.thread_id, progress=progress)
    except Exception:
        if progress.sent:
            log.exception(
                "digest for chat %d failed after %d message(s); the rest is not sent again", chat_id, progress.sent
            )
            return True
        await schedules.release(rt, claims)
        _retry_later(job_queue, rt, chat_id, claims)
        return False
    ops.count("digests_sent")
    return True


def _retry_later(job_queue: JobQueue | None, rt: Runtime, chat_id: int, claims: list[Claim]) -> None:
    """Schedule the next try of unsent occurrences within their grace time, or log that they are
    given up (never silently)."""
    times = ", ".join(c.at_time for c in claims)
    now = rt.clock()
    left = max(c.occurrence for c in claims) + GRACE - now
    if job_queue is None or left <= timedelta(0):
        log.error(
            "digest %s for chat %d could not be sent and is not retried%s: skipped until tomorrow",
            times,
            chat_id,
            "" if job_queue is not None else " (no job queue)",
            exc_info=True,
        )
        ops.count("digests_given_up")
        rt.alert(f"digest:{chat_id}", ops_texts.digest_given_up(chat_id, times))
        return
    delay = min(RETRY_DELAY, left)
    job_queue.run_once(
        _retry,
        when=delay,
        data=(chat_id, tuple(c.at_time for c in claims)),
        name=f"{RETRY_JOB_PREFIX}:{chat_id}:{times}",
        job_kwargs={"misfire_grace_time": int(GRACE.total_seconds())},
    )
    log.warning("digest %s for chat %d could not be sent; trying again in %s", times, chat_id, delay, exc_info=True)


async def run_occurrence(bot: Bot, rt: Runtime, schedule: Schedule, job_queue: JobQueue | None = None) -> bool:
    """Send the latest due occurrence of one schedule unless it was sent already or is too late
    (what its daily job does)."""
    return await run_due(bot, rt, schedule.chat_id, [schedule.at_time], job_queue)


def remove_chat_jobs(job_queue: JobQueue, chat_id: int) -> None:
    """Remove a chat's daily jobs (retries find nothing due once its schedules are gone)."""
    for job in job_queue.jobs():
        if job.name and job.name.startswith(f"{JOB_PREFIX}:{chat_id}:"):
            job.schedule_removal()


def register_chat_jobs(app: Application, rt: Runtime, chat_schedules: list[Schedule], chat_id: int) -> None:
    """Replace the JobQueue jobs of one chat with its current schedules."""
    jq = job_queue_of(app)
    remove_chat_jobs(jq, chat_id)
    for s in chat_schedules:
        hh, mm = map(int, s.at_time.split(":"))
        jq.run_daily(
            _scheduled,
            time(hh, mm, tzinfo=rt.settings.tz),
            name=_job_name(s.chat_id, s.at_time),
            data=(s.chat_id, s.at_time),
            job_kwargs={"misfire_grace_time": int(GRACE.total_seconds()), "coalesce": True, "max_instances": 1},
        )


async def start_schedules(app: Application, rt: Runtime) -> int:
    """At start: register every stored schedule's daily job, and queue the catch-up of digests
    missed while the bot was stopped as a job that runs once the application runs — in the
    background, so the bot answers updates meanwhile. Returns the number of schedules."""
    stored = await schedules.all_schedules(rt)
    by_chat: dict[int, list[Schedule]] = {}
    for s in stored:
        by_chat.setdefault(s.chat_id, []).append(s)
    for chat_id, items in by_chat.items():
        register_chat_jobs(app, rt, items, chat_id)
    if stored:
        # no misfire limit: APScheduler's default (1 s) would drop it if starting took longer
        job_queue_of(app).run_once(_catch_up, when=0, name=CATCH_UP_JOB, job_kwargs={"misfire_grace_time": None})
    return len(stored)


async def catch_up(bot: Bot, rt: Runtime, job_queue: JobQueue | None = None) -> int:
    """Send the digests missed within the grace time, one per chat (its missed times coalesced);
    return how many were sent. One chat's failure never stops the others."""
    by_chat: dict[int, list[str]] = {}
    for s in await schedules.all_schedules(rt):
        by_chat.setdefault(s.chat_id, []).append(s.at_time)
    sent = 0
    for chat_id, times in by_chat.items():
        try:
            sent += await run_due(bot, rt, chat_id, times, job_queue)
        except Exception:  # e.g. the database: the next chat may still work
            log.exception("catch-up digest for chat %d failed", chat_id)
    if sent:
        log.info("sent %d digest(s) missed while the bot was stopped", sent)
    return sent


async def set_schedule(
    app: Application,
    rt: Runtime,
    *,
    chat_id: int,
    times: list[str],
    region_code: str,
    thread_id: int | None,
    by: int | None,
) -> list[Schedule]:
    current = await schedules.replace(
        rt, chat_id=chat_id, times=times, region_code=region_code, thread_id=thread_id, by=by
    )
    register_chat_jobs(app, rt, current, chat_id)
    return current


async def clear_chat(app: Application, rt: Runtime, chat_id: int) -> None:
    """The chat is gone (bot removed): no more digests there."""
    await schedules.drop_chat(rt, chat_id)
    register_chat_jobs(app, rt, [], chat_id)
