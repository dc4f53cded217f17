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

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import cast

from telegram import Bot, InputMediaPhoto
from telegram.ext import Application, CallbackContext, Job, JobQueue

from bot.chart_pool import CHART_SECTIONS, render_all_async
from bot.context import RUNTIME_KEY, job_queue_of
from bot.domain.digest import Digest
from bot.domain.privacy import for_chat
from bot.services import schedules
from bot.services.digest import digest_now
from bot.services.runtime import Runtime
from bot.services.schedules import GRACE, Claim, Schedule
from bot.telegram import ops
from bot.telegram.rate_limit import Priority, SlidingWindow, priority
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


#: a private chat gets a digest at Telegram's pace for one chat ("no more than one message per
#: second", with a short burst): at most this many of its messages in any this many seconds. The
#: rate limiter paces groups and the bot as a whole; a digest is the one thing that sends several
#: messages at once to a private chat, and one that drew a 429 would pause every call of the bot.
PRIVATE_BURST = 3


class _PrivatePace:
    """One `SlidingWindow` per private chat a digest is being sent to."""

    def __init__(self) -> None:
        self._windows: dict[int, SlidingWindow] = {}

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: int, count: int) -> AsyncIterator[None]:
        if chat_id < 0:  # a group: the rate limiter's per-group window
            yield
            return
        window = self._windows.get(chat_id)
        if window is None:
            if len(self._windows) > 1_000:  # forget chats whose window is empty again
                for key in [k for k, w in self._windows.items() if w.idle]:
                    del self._windows[key]
            window = self._windows[chat_id] = SlidingWindow(PRIVATE_BURST, float(PRIVATE_BURST))
        await window.acquire(count)
        try:
            yield
        finally:
            window.release(count)


def _pace(rt: Runtime) -> _PrivatePace:
    pace = rt.caches.get("private_pace")
    if pace is None:
        pace = rt.caches["private_pace"] = _PrivatePace()
    return cast(_PrivatePace, pace)


async def _send_parts(
    bot: Bot, chat_id: int, parts: list[str], thread_id: int | None, progress: SendProgress, pace: _PrivatePace
) -> None:
    for part in parts:
        async with pace.turn(chat_id, 1):
            await bot.send_message(chat_id, for_chat(part, chat_id), message_thread_id=thread_id)
        progress.sent += 1


async def _send_charts(
    bot: Bot,
    chat_id: int,
    charts: Sequence[tuple[str, bytes | Path | str]],
    thread_id: int | None,
    progress: SendProgress,
    pace: _PrivatePace,
) -> list[str]:
    """The charts as one album (a single chart as a photo); returns the file_id Telegram gave each.
    A chart is PNG bytes, a file on disk (read here, as it is sent: PTB would pass a path inside an
    album on as a file:// URI, which only a Bot API server in local mode accepts) or the file_id of
    the same chart sent before (Telegram's way to send a photo again without uploading it)."""
    pngs = [(name, png.read_bytes() if isinstance(png, Path) else png) for name, png in charts]
    if len(pngs) == 1:
        name, png = pngs[0]
        async with pace.turn(chat_id, 1):
            message = await bot.send_photo(
                chat_id, png, filename=name if isinstance(png, bytes) else None, message_thread_id=thread_id
            )
        progress.sent += 1
        return [message.photo[-1].file_id if message.photo else ""]
    if pngs:
        media = [InputMediaPhoto(png, filename=name if isinstance(png, bytes) else None) for name, png in pngs]
        async with pace.turn(chat_id, len(media)):  # an album counts its photos
            messages = await bot.send_media_group(chat_id, media, message_thread_id=thread_id)
        progress.sent += len(messages)
        return [m.photo[-1].file_id if m.photo else "" for m in messages]
    return []


class _Minute:
    """One region's digest of one minute: computed once, its charts drawn once (in a drawing
    worker, as soon as the data is there) and, once sent, resent by file_id."""

    def __init__(self, minute: datetime, digest: asyncio.Task[Digest]) -> None:
        self.minute = minute
        self.digest = digest
        self.charts: dict[str, asyncio.Future[tuple[str, bytes]]] = {}
        #: chart section → (file name, Telegram file_id) once sent (the PNG bytes are dropped then)
        self.file_ids: dict[str, tuple[str, str]] = {}

    def charts_of(self, d: Digest, sections: Sequence[str]) -> dict[str, asyncio.Future[tuple[str, bytes]]]:
        """Each section's chart (file name, PNG), drawn once. Those not drawn yet are drawn together
        in one worker: the heat-map and the counting chart name the same child regions, whose
        text that worker then renders once (names are most of a chart's time: each digest brings
        its own)."""
        missing = tuple(s for s in sections if s not in self.charts)
        if missing:
            drawing = asyncio.ensure_future(render_all_async(d, missing))
            for index, section in enumerate(missing):
                self.charts[section] = asyncio.ensure_future(_nth(drawing, index))
            ops.count("digest_charts_drawn", len(missing))
        return {s: self.charts[s] for s in sections}


async def _nth(drawing: asyncio.Future[list[tuple[str, bytes]]], index: int) -> tuple[str, bytes]:
    """One chart of a drawing of several (each asker waits on its own chart; none cancels the drawing)."""
    return (await asyncio.shield(drawing))[index]


class DigestCache:
    """The digests of the current minute, by region: whoever asks for a region's digest within a
    minute (a /ringkasan, a /progres, a scheduled digest) gets the one computed first in that
    minute, its charts included, so a region's digest is computed at most once a minute. Entries of
    earlier minutes are dropped as the clock moves on."""

    def __init__(self) -> None:
        self._entries: dict[str, _Minute] = {}

    def entry(self, rt: Runtime, region_code: str) -> _Minute:
        minute = rt.clock().replace(second=0, microsecond=0)
        for code in [code for code, e in self._entries.items() if e.minute != minute]:
            del self._entries[code]  # an earlier minute: asked for again, it is computed again
        entry = self._entries.get(region_code)
        if entry is None or entry.digest.cancelled():
            entry = _Minute(minute, asyncio.ensure_future(self._compute(rt, region_code)))
            self._entries[region_code] = entry
        return entry

    async def _compute(self, rt: Runtime, region_code: str) -> Digest:
        try:
            async with rt.compute_slots:
                ops.count("digests_computed")
                return await digest_now(rt, region_code)
        except BaseException:
            self._entries.pop(region_code, None)  # not kept: the next one asks again
            raise


def digest_cache(rt: Runtime) -> DigestCache:
    cache = rt.caches.get("digests")
    if cache is None:
        cache = rt.caches["digests"] = DigestCache()
    return cast(DigestCache, cache)


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
    """Send a region's digest: the text at once, then the charts as an album. `sections` None: those
    of the election's phase (`Digest.sections`). Returns the number of messages sent (also counted
    in `progress`). NIKs are masked on the way out.

    The digest of the current minute is taken from `DigestCache` (computed now if nobody asked for
    this region in this minute, `DIGESTS_COMPUTED_AT_ONCE` at a time, without waiting for a slot to
    send: when every group's digest is due at 07:00 the data of all of them is read first, as of
    that minute, and each header says the minute its data is of); its charts are drawn in the
    drawing workers while the text is sent, and a chart already sent in this minute is sent again
    by its file_id.

    At most `DIGESTS_AT_ONCE` digests are drawn and sent at a time (`Runtime.digest_slots`): the
    others wait their turn holding only their data. A digest drawn beforehand (`prepare_digest`)
    is sent the same way."""

    progress = progress if progress is not None else SendProgress()
    if prepared is not None:
        async with rt.digest_slots:
            await _send_parts(bot, chat_id, prepared.parts, thread_id, progress, _pace(rt))
            await _send_charts(bot, chat_id, prepared.charts if with_charts else [], thread_id, progress, _pace(rt))
        return progress.sent
    # the data first, in the computing lane (`Runtime.compute_slots`), not waiting for a slot to
    # send: at 07:00 every due digest's data is read at once, one after another
    entry = digest_cache(rt).entry(rt, region_code)
    digest = await asyncio.shield(entry.digest)  # one asker cancelled does not cancel the others'
    async with rt.digest_slots:
        chosen = sections if sections is not None else digest.sections
        drawn = [s for s in chosen if s in CHART_SECTIONS and s not in entry.file_ids] if with_charts else []
        pending = entry.charts_of(digest, drawn)  # drawing starts now, in a worker
        await _send_parts(bot, chat_id, render_digest(digest, sections=chosen), thread_id, progress, _pace(rt))
        charts: list[tuple[str, bytes | Path | str]] = []
        shown = [s for s in chosen if s in CHART_SECTIONS] if with_charts else []
        for s in shown:
            if s in pending:
                charts.append(await asyncio.shield(pending[s]))
            else:
                charts.append(entry.file_ids[s])
        file_ids = await _send_charts(bot, chat_id, charts, thread_id, progress, _pace(rt))
        for s, (name, _), file_id in zip(shown, charts, file_ids, strict=False):
            if file_id and s not in entry.file_ids:
                entry.file_ids[s] = (name, file_id)
                entry.charts.pop(s, None)  # Telegram has the picture now: its bytes are not kept
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
