"""Sending digests: on demand and on schedule (text parts, then the charts as one media group).

Schedules live in the database (`storage.schedules`) and become PTB JobQueue (APScheduler) daily
jobs at start and whenever `/jadwal` changes them. Each occurrence is *claimed* in the database
before it is sent, so a digest is never sent twice; jobs run with a misfire grace time and
coalescing, and at start an occurrence missed within the grace time (a restart at 07:00) is sent
late rather than skipped.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, time, timedelta

from telegram import InputMediaPhoto
from telegram.ext import Application, CallbackContext

from bot.outgoing import for_chat
from bot.runtime import Runtime
from storage import schedules as schedule_store
from storage.schedules import Schedule

log = logging.getLogger(__name__)

GRACE = timedelta(minutes=30)
MAX_TIMES = 6
JOB_PREFIX = "ringkasan"
SECTIONS = ("logistik", "rekap", "insiden")
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")


def parse_times(args: list[str]) -> list[str] | None:
    """"07:00,18.30" or "07:00 18:30" → ["07:00", "18:30"] (sorted, unique); None if any is bad."""
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


def latest_occurrence(at_time: str, now_local: datetime) -> datetime:
    """The most recent moment (≤ now) at which a daily `HH:MM` schedule was due."""
    hh, mm = map(int, at_time.split(":"))
    today = now_local.replace(hour=hh, minute=mm, second=0, microsecond=0)
    return today if today <= now_local else today - timedelta(days=1)


async def send_digest(bot, rt: Runtime, chat_id: int, region_code: str, *, thread_id: int | None = None,
                      sections: tuple[str, ...] = SECTIONS, with_charts: bool = True) -> int:
    """Compute and send a digest; return the number of messages sent."""
    from bot.charts import render_all_async
    from bot.digest import compute_digest
    from bot.texts.digest import render_digest

    now_local = rt.clock().astimezone(rt.settings.tz)
    digest = await compute_digest(rt.db, region_code, now_local, rt.settings.ELECTION_DAY)
    sent = 0
    for part in render_digest(digest, sections=sections):
        await bot.send_message(chat_id, for_chat(part, chat_id), message_thread_id=thread_id)
        sent += 1
    if with_charts:
        charts = await render_all_async(digest, sections)
        if len(charts) == 1:
            name, png = charts[0]
            await bot.send_photo(chat_id, png, filename=name, message_thread_id=thread_id)
            sent += 1
        elif charts:
            media = [InputMediaPhoto(png, filename=name) for name, png in charts]
            sent += len(await bot.send_media_group(chat_id, media, message_thread_id=thread_id))
    return sent


def _job_name(chat_id: int, at_time: str) -> str:
    return f"{JOB_PREFIX}:{chat_id}:{at_time}"


async def _scheduled(context: CallbackContext) -> None:
    """Job: one schedule's occurrence — claim it, then send."""
    from bot.app import RUNTIME_KEY

    rt: Runtime = context.application.bot_data[RUNTIME_KEY]
    chat_id, at_time, region_code, thread_id = context.job.data
    await run_occurrence(context.bot, rt, Schedule(chat_id, at_time, region_code, thread_id, None))


async def run_occurrence(bot, rt: Runtime, schedule: Schedule) -> bool:
    """Send the latest due occurrence of a schedule unless it was sent already or is too late."""
    now_local = rt.clock().astimezone(rt.settings.tz)
    occurrence = latest_occurrence(schedule.at_time, now_local)
    if now_local - occurrence > GRACE:
        log.warning("digest %s for chat %d is %s late: skipped until tomorrow", schedule.at_time,
                    schedule.chat_id, now_local - occurrence)
        return False
    if not await schedule_store.claim(rt.db, chat_id=schedule.chat_id, at_time=schedule.at_time,
                                      occurrence=occurrence):
        return False
    await send_digest(bot, rt, schedule.chat_id, schedule.region_code, thread_id=schedule.thread_id)
    return True


def register_chat_jobs(app: Application, rt: Runtime, schedules: list[Schedule], chat_id: int) -> None:
    """Replace the JobQueue jobs of one chat with its current schedules."""
    for job in app.job_queue.jobs():
        if job.name and job.name.startswith(f"{JOB_PREFIX}:{chat_id}:"):
            job.schedule_removal()
    for s in schedules:
        hh, mm = map(int, s.at_time.split(":"))
        app.job_queue.run_daily(
            _scheduled, time(hh, mm, tzinfo=rt.settings.tz), name=_job_name(s.chat_id, s.at_time),
            data=(s.chat_id, s.at_time, s.region_code, s.thread_id),
            job_kwargs={"misfire_grace_time": int(GRACE.total_seconds()), "coalesce": True, "max_instances": 1},
        )


async def start_schedules(app: Application, rt: Runtime) -> int:
    """At start: register every stored schedule and send occurrences missed within the grace time."""
    schedules = await schedule_store.all_schedules(rt.db)
    by_chat: dict[int, list[Schedule]] = {}
    for s in schedules:
        by_chat.setdefault(s.chat_id, []).append(s)
    for chat_id, items in by_chat.items():
        register_chat_jobs(app, rt, items, chat_id)
    caught_up = 0
    for s in schedules:
        try:
            caught_up += await run_occurrence(app.bot, rt, s)
        except Exception:  # one unreachable chat must not stop the bot from starting
            log.exception("catch-up digest for chat %d failed", s.chat_id)
    return caught_up


async def set_schedule(app: Application, rt: Runtime, *, chat_id: int, times: list[str], region_code: str,
                       thread_id: int | None, by: int | None) -> list[Schedule]:
    await schedule_store.replace(rt.db, chat_id=chat_id, times=times, region_code=region_code, thread_id=thread_id,
                                 by=by, at=rt.clock())
    schedules = await schedule_store.for_chat(rt.db, chat_id)
    register_chat_jobs(app, rt, schedules, chat_id)
    return schedules


async def clear_chat(app: Application, rt: Runtime, chat_id: int) -> None:
    """The chat is gone (bot removed): no more digests there."""
    await schedule_store.delete_chat(rt.db, chat_id)
    register_chat_jobs(app, rt, [], chat_id)
