"""Delivering the notification outbox to Telegram: group posts, edits, resolution notices, a
report's receipt (and the Benar / Batal question of a figure that went down), private notices (a
reminder to whoever took an incident, a rejection or reopening to its reporter), counting
reminders and broadcasts.

Rows are written by the lifecycle and reporting services in the same transaction as the change
they announce (read and marked through `bot.services.outbox`); `deliver_due` sends what is due, renders the incident's *current* state, and
records the outcome. A failure is retried with backoff (a 429's `retry_after` is honoured); a
chat that can no longer be reached (bot removed, chat gone) is marked failed and logged — never
dropped silently. One lock makes sure two deliveries never send the same row twice, and a
claim (a lease on the rows, `storage.outbox.claim`) that two processes on one database never do.

Under a flood (more waiting than Telegram's ~30 messages/s) rows go by class, then age: a
kritis/tinggi incident's post before receipts, receipts before other notifications, broadcasts
last (the class is stored with the row, migration 0016, and each send waits in the rate limiter
as that class: `bot.telegram.rate_limit.Priority`). Delivery is a pipeline, not rounds: chats are
sent to side by side, and whenever one is done or a new row is queued the next rows are picked
again, so a kritis post queued behind thousands of receipts is the next one sent. An officer's
plain receipts that waited together go as one message naming them all
(`bot.texts.incidents.receipts`), every row it covers marked sent with it; a held figure's
Benar / Batal question, a message of several reports and the guided flow's confirmation keep
their own message.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import logging
import warnings
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot.domain.clock import from_db
from bot.domain.models import Incident
from bot.domain.privacy import find_niks, for_chat
from bot.domain.silence import zone_of
from bot.services import broadcasts, outbox, reporting, silence
from bot.services.outbox import PRIVATE_PURPOSES, Pending
from bot.services.runtime import Runtime
from bot.telegram.rate_limit import NO_RETRIES, Priority, priority
from bot.texts import broadcasts as tb
from bot.texts import incidents as ti
from bot.texts import ops as ops_texts
from bot.texts import reporting as tr

log = logging.getLogger(__name__)

CALLBACK_VERSION = "i1"  # incident buttons: i1:<t|e|s>:<id>
#: outbox purposes that are a private message to one user (not a group post or its notice)
PRIVATE_NOTICES = frozenset({"pengingat", "ditolak", "dibuka"})
MAX_BACKOFF = timedelta(minutes=10)
#: how long a claimed row is this sender's before another may take it (a sender that died): longer
#: than a batch takes at a group's 20 messages a minute, flood waits included
LEASE = timedelta(minutes=5)
#: chats sent to at once (each waits in the rate limiter by class: more would only queue there)
CHATS_AT_ONCE = 64
#: rows of one chat claimed at a time (a backlog of receipts: one message per RECEIPTS_PER_MESSAGE)
CHAT_ROWS = 120
#: while chats are being sent to, rows are picked again at most this often (a flood of reports
#: kicks the notifier a hundred times a second)
PICK_INTERVAL_S = 0.01
#: rows read to find the next chats, per chat wanted (a few: one chat may have several due)
PICK_ROWS_PER_CHAT = 8
#: chats that must wait left out by the query itself, at most (SQLite's parameters are bounded)
SKIPPED_IN_QUERY = 500
#: the class each stored priority waits as in the rate limiter (migration 0014)
CLASSES = {1: Priority.URGENT, 2: Priority.RECEIPT, 3: Priority.NOTICE, 4: Priority.ROUTINE}


#: callback data prefix of the Benar / Batal buttons of a figure that went down: turun1:<report>:<ya|tidak>
HELD_CALLBACK = "turun1"


def held_buttons(report_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(tr.HELD_CONFIRM_BUTTON, callback_data=f"{HELD_CALLBACK}:{report_id}:ya"),
                InlineKeyboardButton(tr.HELD_CANCEL_BUTTON, callback_data=f"{HELD_CALLBACK}:{report_id}:tidak"),
            ]
        ]
    )


def _incident_id(row: Pending) -> int:
    """The incident of a row that has one (every row but a held figure's receipt)."""
    if row.incident_id is None:
        raise LookupError(f"outbox {row.id} ({row.purpose}) names no incident")
    return row.incident_id


def buttons(incident_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(ti.BUTTON_TAKE, callback_data=f"{CALLBACK_VERSION}:t:{incident_id}"),
                InlineKeyboardButton(ti.BUTTON_ESCALATE, callback_data=f"{CALLBACK_VERSION}:e:{incident_id}"),
                InlineKeyboardButton(ti.BUTTON_RESOLVE, callback_data=f"{CALLBACK_VERSION}:s:{incident_id}"),
            ]
        ]
    )


async def _incident(rt: Runtime, incident_id: int) -> Incident:
    """The row's incident as it is now. A row is written in the same transaction as its incident,
    so a missing one is bad data: the row fails like any other bug (logged, retried later)."""
    incident = await outbox.incident(rt, incident_id)
    if incident is None:
        raise LookupError(f"incident {incident_id} not found")
    return incident


async def card_for(
    rt: Runtime, incident: Incident, group_region: str | None
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The post of an incident as the group of `group_region` should see it now."""
    data = await outbox.card_data(rt, incident, group_region)
    text = ti.card(
        incident,
        reporting.report_of(incident),
        data.path,
        data.reporter_name,
        data.assignee_name,
        data.events,
        rt.settings.tz,
        moved_to=data.moved_to,
        region_names=data.region_titles,
    )
    # every card of an open incident keeps its buttons, in every group it was posted to (a lower
    # group's coordinator may still take or resolve it; the rights are checked on the press)
    markup = None if incident.status.closed else buttons(incident.id)
    return text, markup


def _coalescable(row: Pending) -> bool:
    """A plain receipt that may share a message with the officer's others: not one edited into the
    bot's message it answers (the guided flow's confirmation, a Benar / Batal question), not a held
    figure's question (it has buttons of its own), not the receipt of a message of several."""
    if row.purpose != "tanda_terima" or row.incident_id is None or "ubah" in row.note.split():
        return False
    detail = json.loads(row.detail or "{}")
    return "held" not in detail and "parts" not in detail


def _units(rows: list[Pending]) -> list[list[Pending]]:
    """One chat's rows as messages to send, in the rows' order: each row alone, except an
    officer's plain receipts, which go together (at most `RECEIPTS_PER_MESSAGE` in one, in the
    order the reports were made) where the first of them stood."""
    units: list[list[Pending]] = []
    open_by_reporter: dict[int | None, list[Pending]] = {}
    for row in rows:
        if not _coalescable(row):
            units.append([row])
            continue
        unit = open_by_reporter.get(row.reporter_id)
        if unit is None or len(unit) >= ti.RECEIPTS_PER_MESSAGE:
            unit = open_by_reporter[row.reporter_id] = []
            units.append(unit)
        unit.append(row)
    for unit in units:  # a coalesced receipt names the reports in the order they were made
        unit.sort(key=lambda row: row.id)
    return units


def _backoff(row: Pending) -> timedelta:
    return min(timedelta(seconds=5 * 2 ** min(row.attempts, 10)), MAX_BACKOFF)


def _retry_after(exc: RetryAfter) -> timedelta:
    """`retry_after` as a timedelta (PTB 22 returns seconds unless PTB_TIMEDELTA is set)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value if isinstance(value, timedelta) else timedelta(seconds=value)


class Notifier:
    """Sends due outbox rows: `kick()` after a change (in the background, so a handler never waits
    for a group's flood control), `deliver_due()` from a repeating job, `drain()` to wait."""

    def __init__(self, rt: Runtime, bot) -> None:
        self.rt = rt
        self.bot = bot
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._again = False
        self._claimed: set[int] = set()  # rows claimed by this sender, not yet marked
        #: chats under Telegram's flood control (or whose row is waiting for its retry) → until when
        #: (the runtime's clock): their rows wait, so a round never sits out another chat's wait
        self._held: dict[int, datetime] = {}
        self._queued = asyncio.Event()  # a row was queued while delivering: pick rows again

    def _no_wait(self) -> dict:
        """A receipt refused by flood control is not waited for inside the rate limiter: the row is
        rescheduled for the `retry_after` (`_deliver`) and the other chats' rows go on meanwhile."""
        return {"rate_limit_args": NO_RETRIES} if self.bot.rate_limiter is not None else {}

    async def take_over(self) -> None:
        """At start, before the first round: rows a previous process claimed and never marked (it
        was killed) are due at once, not when their lease runs out — receipts after a crash come
        with the restart. Only one bot runs on a database (the instance lock), so no live sender
        holds them."""
        waiting = await outbox.release_all(self.rt)
        if waiting:
            log.info("outbox: %d row(s) left unsent by the previous run are due now", waiting)

    def kick(self) -> None:
        """Deliver what is due soon, without waiting for it."""
        self._queued.set()
        if self._task is not None and not self._task.done():
            self._again = True  # a change arrived while delivering: one more round after this one
            return
        self._task = asyncio.get_running_loop().create_task(self._rounds(), name="outbox-kick")

    async def _rounds(self) -> None:
        while True:
            self._again = False
            try:
                await self.deliver_due()
            except Exception:  # the repeating job tries again; never let a kick die silently
                log.exception("delivering notifications failed")
            if not self._again:
                return

    async def drain(self) -> None:
        """Wait until the background delivery started by `kick()` has finished."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def close(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._claimed:  # stopped mid-batch: the rows are due again at once, not after the lease
            claimed, self._claimed = sorted(self._claimed), set()
            try:
                await outbox.release(self.rt, claimed, self.rt.clock())
            except Exception as exc:  # noqa: BLE001 - stopping anyway: the lease runs out by itself
                log.warning("outbox rows %s stay claimed until their lease runs out: %s", claimed, exc)

    async def deliver_due(self) -> int:
        """Send every row that is due; return how many were sent. Chats are served side by side,
        each chat's rows in order (class, then age), so a chat under flood control (or
        unreachable) holds up only its own rows, never another reporter's receipt. The rows are
        picked again whenever a chat is done or a row is queued (`kick`); a chat's rows are
        claimed (`LEASE`) before they are sent, so another sender on the database skips them."""
        sent = 0
        async with self._lock:
            running: dict[int, asyncio.Task[int]] = {}
            loop = asyncio.get_running_loop()
            picked_at = -PICK_INTERVAL_S
            try:
                while True:
                    room = CHATS_AT_ONCE - len(running)
                    if room > 0 and running and (pause := picked_at + PICK_INTERVAL_S - loop.time()) > 0:
                        await asyncio.sleep(pause)
                    self._queued.clear()
                    if room > 0:
                        picked_at = loop.time()
                        for chat, rows in (await self._pick(room, set(running))).items():
                            running[chat] = asyncio.create_task(self._deliver_chat(chat, rows), name=f"outbox-{chat}")
                    if not running:
                        return sent
                    queued = asyncio.ensure_future(self._queued.wait())
                    try:
                        await asyncio.wait([*running.values(), queued], return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        queued.cancel()
                    for chat, task in list(running.items()):
                        if task.done():
                            del running[chat]
                            sent += task.result()
            finally:
                for task in running.values():
                    task.cancel()
                if running:
                    await asyncio.gather(*running.values(), return_exceptions=True)

    async def _pick(self, room: int, busy: set[int]) -> dict[int, list[Pending] | None]:
        """The next chats to send to (at most `room`, none of `busy` nor held), by their first due
        row's class and age, with their rows claimed when the look saw all of them (else None: the
        chat's task claims its own)."""
        while True:
            now = self.rt.clock()
            self._held = {chat: until for chat, until in self._held.items() if until > now}
            limit = min(200, PICK_ROWS_PER_CHAT * room)
            waiting = busy | self._held.keys()
            # left out by the query (its parameters are bounded: the rest are dropped below)
            skip = set(itertools.islice(waiting, SKIPPED_IN_QUERY))
            batch = await outbox.due(self.rt, now, skip_chats=skip, limit=limit)
            whole = len(batch) < limit  # every due row was read: no chat needs reading again
            batch = [row for row in batch if row.chat_id not in waiting]
            chats: dict[int, list[Pending] | None] = {}
            for row in batch:
                if row.chat_id not in chats and len(chats) < room:
                    chats[row.chat_id] = [] if whole else None
            if not whole or not chats:
                return chats
            claimed = await outbox.claim(
                self.rt, now, LEASE, limit=len(batch), ids=[row.id for row in batch if row.chat_id in chats]
            )
            self._claimed.update(row.id for row in claimed)
            for row in claimed:
                rows = chats[row.chat_id]
                assert rows is not None
                rows.append(row)
            chats = {chat: rows for chat, rows in chats.items() if rows}
            if chats:
                return chats
            # another sender on the database took them meanwhile: look again (they are not due now)

    async def _deliver_chat(self, chat_id: int, rows: list[Pending] | None) -> int:
        """One chat's claimed rows (claimed here unless given) in order, up to the first that must
        wait (flood control, the network down): its retry is scheduled and the rows behind it are
        given back, due when it is — so a chat's receipts never overtake each other, and a chat
        that must wait holds up only its own rows. All of an officer's plain receipts waiting
        there go as one message. Returns how many rows were sent. (The chat is picked again when
        its wait is over: `_held`.)"""
        if rows is None:
            rows = await outbox.claim(self.rt, self.rt.clock(), LEASE, limit=CHAT_ROWS, chat_id=chat_id)
            self._claimed.update(row.id for row in rows)
        sent = 0
        for unit in _units(rows):
            with priority(CLASSES.get(unit[0].priority, Priority.NOTICE)):
                if len(unit) == 1:
                    sent += await self._deliver(unit[0])
                else:
                    sent += await self._deliver_receipts(unit)
            until = self._held.get(chat_id)
            if until is not None:
                rest = [row.id for row in rows if row.id in self._claimed]
                await outbox.release(self.rt, rest, until)
                self._claimed.difference_update(rest)
                break
        try:
            if await self._finish_broadcasts(rows):
                self._queued.set()  # the outcome to the sender is due now: pick rows again
        except Exception:  # the next chat done with the broadcast (or the repeating job) tries again
            log.exception("finishing the broadcasts of chat %d failed", chat_id)
        return sent

    async def _finish_broadcasts(self, rows: list[Pending]) -> bool:
        """A broadcast whose last message went out (or was given up): its outcome to the sender is
        queued, due now, for the next pick to take. True when one was."""
        finished = False
        for broadcast_id in sorted({r.broadcast_id for r in rows if r.purpose == "siaran" and r.broadcast_id}):
            if await broadcasts.finish_if_done(self.rt, broadcast_id):
                finished = True
        return finished

    async def _deliver(self, row: Pending) -> bool:
        try:
            return await self._deliver_one(row)
        finally:
            self._claimed.discard(row.id)  # marked (sent, retry, failed): its lease is over

    async def _deliver_one(self, row: Pending) -> bool:
        rt = self.rt
        now = rt.clock()
        try:
            if row.purpose in PRIVATE_PURPOSES:
                message_id = await self._send_private(row)
            elif row.purpose == "tanda_terima":
                message_id = await self._receipt(row)
            else:
                message_id = await self._send(row, await _incident(rt, _incident_id(row)))
        except RetryAfter as exc:
            delay = _retry_after(exc)
            self._held[row.chat_id] = now + delay
            await outbox.mark_retry(rt, row.id, error=str(exc), retry_at=now + delay)
            log.warning("outbox %d: flood control, retry in %s", row.id, delay)
            return False
        except Forbidden as exc:
            if row.purpose in PRIVATE_PURPOSES:  # a user who blocked the bot: counted, not an alarm
                await outbox.mark_failed(rt, row.id, error=f"Forbidden: {exc.message}", at=now)
                log.info("outbox %d (%s): user %d blocked the bot", row.id, row.purpose, row.chat_id)
                return False
            await self._given_up(row, exc)
            return False
        except BadRequest as exc:
            if "not modified" in exc.message:
                await outbox.mark_sent(rt, row.id, at=now, message_id=row.message_id)
                return True
            await self._given_up(row, exc)
            return False
        except (NetworkError, TelegramError) as exc:
            backoff = _backoff(row)
            self._held[row.chat_id] = now + backoff
            await outbox.mark_retry(rt, row.id, error=str(exc), retry_at=now + backoff)
            log.warning("outbox %d: %s; retry in %s", row.id, exc, backoff)
            return False
        except Exception as exc:  # a bug or bad data in one row must not block every row behind it
            backoff = _backoff(row)
            log.exception(
                "outbox %d (%s to chat %d) could not be sent; retry in %s", row.id, row.purpose, row.chat_id, backoff
            )
            await outbox.mark_retry(rt, row.id, error=f"{type(exc).__name__}: {exc}", retry_at=now + backoff)
            return False
        await outbox.mark_sent(rt, row.id, at=now, message_id=message_id)
        return True

    async def _given_up(self, row: Pending, exc: TelegramError) -> None:
        """The row cannot be delivered (bot removed, chat gone): marked, logged, and the operators told."""
        rt = self.rt
        await outbox.mark_failed(rt, row.id, error=str(exc), at=rt.clock())
        log.warning("outbox %d (%s to chat %d) failed for good: %s", row.id, row.purpose, row.chat_id, exc)
        rt.alert(
            f"outbox:{row.chat_id}",
            ops_texts.notification_given_up(row.id, row.incident_id or 0, row.chat_id, str(exc)),
        )

    async def _send_private(self, row: Pending) -> int | None:
        """A message that belongs to no incident: a counting reminder (skipped when the kecamatan
        reported since it was queued), a broadcast's message, or a broadcast's outcome."""
        rt, bot = self.rt, self.bot
        if row.purpose == "pengingat_hitung":
            kecamatan = row.region_code or ""
            if not await silence.still_silent(rt, kecamatan, row.note):
                log.info("outbox %d: %s reported since; its reminder is not sent", row.id, kecamatan)
                return None
            now = rt.clock()
            name, since = await silence.reminder_subject(rt, kecamatan, row.note, now)
            zone = ZoneInfo(zone_of(kecamatan))
            text = tb.counting_reminder(name, from_db(row.note) if row.note else None, now - since, zone)
        elif row.purpose == "siaran":
            found = await broadcasts.message(rt, row.broadcast_id or 0)
            if found is None:
                raise LookupError(f"broadcast {row.broadcast_id} not found")
            text = tb.siaran_message(*found)
        else:
            result = await broadcasts.outcome(rt, row.broadcast_id or 0)
            if result is None:
                raise LookupError(f"broadcast {row.broadcast_id} not found")
            text = tb.siaran_done(result.broadcast_id, result.sent, result.blocked, result.failed)
        message = await bot.send_message(row.chat_id, for_chat(text, row.chat_id))  # a NIK in a broadcast is masked
        return message.message_id

    async def _deliver_receipts(self, rows: list[Pending]) -> int:
        """Several plain receipts of one officer in one chat as one message (or as few as fit);
        every row a message covers is marked sent with it (one statement). A crash between the
        send and the mark repeats them at the next start — never loses one. Returns how many rows
        were sent."""
        try:
            parts = [await self._coalesced_part(row) for row in rows]
        except Exception:  # a bug or bad data in one row must not hold the officer's other receipts
            log.exception("receipts %s could not be read together; sending each alone", [r.id for r in rows])
            return await self._one_by_one(rows)
        sent, start = 0, 0
        for size in ti.receipts_in_messages(parts):
            chunk, chunk_parts = rows[start : start + size], parts[start : start + size]
            start += size
            if size == 1:
                sent += await self._deliver(chunk[0])
            else:
                sent += await self._send_together(chunk, chunk_parts)
            if chunk[0].chat_id in self._held:
                break
        return sent

    async def _send_together(self, rows: list[Pending], parts: list[ti.ReceiptPart]) -> int:
        rt = self.rt
        now = rt.clock()
        ids = [row.id for row in rows]
        try:
            message_id = await self._receipts(rows, parts)
        except RetryAfter as exc:
            delay = _retry_after(exc)
            self._held[rows[0].chat_id] = now + delay
            for row in rows:
                await outbox.mark_retry(rt, row.id, error=str(exc), retry_at=now + delay)
            log.warning("outbox %s: flood control, retry in %s", ids, delay)
        except Forbidden as exc:
            for row in rows:
                await outbox.mark_failed(rt, row.id, error=str(exc), at=now)
            log.warning("receipts %s to chat %d failed for good: %s", ids, rows[0].chat_id, exc)
            rt.alert(
                f"outbox:{rows[0].chat_id}",
                ops_texts.notification_given_up(rows[0].id, rows[0].incident_id or 0, rows[0].chat_id, str(exc)),
            )
        except BadRequest as exc:  # something in one of them: each alone, so the others go
            log.warning("receipts %s refused together (%s); sending each alone", ids, exc)
            return await self._one_by_one(rows)
        except (NetworkError, TelegramError) as exc:
            backoff = max(_backoff(row) for row in rows)
            self._held[rows[0].chat_id] = now + backoff
            for row in rows:
                await outbox.mark_retry(rt, row.id, error=str(exc), retry_at=now + backoff)
            log.warning("receipts %s: %s; retry in %s", ids, exc, backoff)
        except Exception:  # a bug or bad data in one row must not hold the officer's other receipts
            log.exception("receipts %s could not be sent together; sending each alone", ids)
            return await self._one_by_one(rows)
        else:
            await outbox.mark_sent_together(rt, ids, at=now, message_id=message_id)
            self._claimed.difference_update(ids)
            return len(rows)
        self._claimed.difference_update(ids)
        return 0

    async def _one_by_one(self, rows: list[Pending]) -> int:
        """Receipts that could not go together, each alone, up to one that makes the chat wait."""
        sent = 0
        for row in rows:
            sent += await self._deliver(row)
            if row.chat_id in self._held:
                break
        return sent

    async def _coalesced_part(self, row: Pending) -> ti.ReceiptPart:
        detail = json.loads(row.detail or "{}")
        if "duplikat" in row.note.split():
            detail["duplicate"] = True
        return await self._receipt_part(_incident_id(row), detail)

    async def _receipts(self, rows: list[Pending], parts: list[ti.ReceiptPart]) -> int:
        """Send the coalesced receipt of `rows` (`bot.texts.incidents.receipts`), each report's
        figures as it was reported, masked for the officer (their NIK stays readable)."""
        text = ti.receipts(parts)
        last = rows[-1]  # in a group: an answer to the latest report (it may be deleted meanwhile)
        quoted = None if last.message_id is None else ReplyParameters(last.message_id, allow_sending_without_reply=True)
        owner = parts[0].incident.reporter_id
        message = await self.bot.send_message(
            last.chat_id, for_chat(text, last.chat_id, owner), reply_parameters=quoted, **self._no_wait()
        )
        return message.message_id

    async def _to_chat(
        self, row: Pending, text: str, *, owner_id: int | None = None, markup: InlineKeyboardMarkup | None = None
    ) -> tuple[Message, int | None]:
        """Send to the row's chat and topic; when the topic is gone, once more to the group's
        general chat. Returns the message and the topic it went to."""
        try:
            message = await self.bot.send_message(
                row.chat_id, for_chat(text, row.chat_id, owner_id), message_thread_id=row.thread_id, reply_markup=markup
            )
            return message, row.thread_id
        except BadRequest as exc:
            if row.thread_id is None or "thread not found" not in exc.message.lower():
                raise
        log.warning(
            "outbox %d: topic %d of chat %d is gone; sending to the general chat", row.id, row.thread_id, row.chat_id
        )
        message = await self.bot.send_message(row.chat_id, for_chat(text, row.chat_id, owner_id), reply_markup=markup)
        return message, None

    async def _post(self, row: Pending, incident_id: int) -> int:
        """Post the incident's card; if the incident changed while the card was on its way (the
        rate limiter may hold a send for a while), queue an edit of the new post."""
        rt = self.rt
        drawn = await outbox.version(rt, incident_id)
        incident = await _incident(rt, incident_id)
        text, markup = await card_for(rt, incident, row.region_code)
        message, thread_id = await self._to_chat(row, text, markup=markup)
        # remembered; a change made while the card was on its way queues an edit of the new post
        await outbox.posted(rt, row, message_id=message.message_id, thread_id=thread_id, drawn=drawn)
        return message.message_id

    async def _private_notice(self, row: Pending, incident: Incident) -> tuple[str, int | None]:
        """A reminder to whoever took the incident, or its reporter told of a rejection or
        reopening; with whose NIKs it may show (the reporter's description in a reminder, the
        note of who rejected or reopened it in a notice)."""
        rt = self.rt
        if row.purpose == "pengingat":
            path = await outbox.region_path(rt, incident.region_code)
            return ti.reminder(incident, path, int(row.note or rt.settings.REMIND_TAKEN_MIN)), incident.reporter_id
        actor = await outbox.notice_actor(rt, incident.id, row.purpose)
        name = actor.name or "koordinator"
        if row.purpose == "ditolak":
            return ti.rejected_to_reporter(incident.id, name, row.note), actor.id
        return ti.reopened_to_reporter(incident.id, name, row.note), actor.id

    async def _receipt_part(self, incident_id: int, detail: dict) -> ti.ReceiptPart:
        incident = await _incident(self.rt, incident_id)
        if detail.get("figures"):  # as reported: a later report may have updated the incident since
            incident = dataclasses.replace(incident, **detail["figures"])
        data = await outbox.receipt_data(self.rt, incident)
        return ti.ReceiptPart(
            incident,
            reporting.report_of(incident),
            data.path,
            data.nik_warnings,
            bool(detail.get("duplicate")),
            detail.get("repeat"),
            detail.get("updated"),
            bool(detail.get("closed")),
        )

    async def _held_question(self, detail: dict) -> reporting.Held:
        held = await reporting.held_question(self.rt, int(detail["held"]), detail.get("current") or {})
        if held is None:
            raise LookupError(f"held report {detail['held']} not found")
        return held

    async def receipt_message(self, row: Pending) -> tuple[str, int | None, InlineKeyboardMarkup | None]:
        """What a receipt row says, whose it is (their NIK stays readable), and its buttons: a
        report stored (or updated in place, repeated, closed at once), a message of several, or the
        question of a figure that went down with its Benar / Batal."""
        detail = json.loads(row.detail or "{}")
        if "parts" in detail:
            parts: list[ti.ReceiptPart | ti.HeldPart] = []
            owner: int | None = None
            for part in detail["parts"]:
                if "held" in part:
                    held = await self._held_question(part)
                    parts.append(ti.HeldPart(held.report, held.current, held.path))
                else:
                    one = await self._receipt_part(int(part["incident"]), part)
                    owner = owner if owner is not None else one.incident.reporter_id
                    parts.append(one)
            return ti.batch_receipt(parts), owner, None
        if "held" in detail:
            held = await self._held_question(detail)
            return tr.held(held.report, held.current), held.reporter_id, held_buttons(held.report_id)
        if "duplikat" in row.note.split():
            detail["duplicate"] = True
        one = await self._receipt_part(_incident_id(row), detail)
        text = ti.receipt(
            one.incident,
            one.report,
            one.path,
            one.nik_warnings,
            one.duplicate,
            repeat_minutes=one.repeat_minutes,
            updated=one.updated,
            closed=one.closed,
        )
        return text, one.incident.reporter_id, None

    async def _receipt(self, row: Pending) -> int | None:
        """A report's receipt: a reply to the report in a group, a message in private, or edited into
        the bot's message it answers (the guided flow's confirmation, a corrected report's offer, a
        Benar / Batal question). Masked for the reporter (their NIK stays readable)."""
        text, owner, markup = await self.receipt_message(row)
        if "ubah" in row.note.split() and row.message_id is not None:
            await self.bot.edit_message_text(
                for_chat(text, row.chat_id, owner),
                chat_id=row.chat_id,
                message_id=row.message_id,
                reply_markup=markup,
                **self._no_wait(),
            )
            return row.message_id
        quoted = None
        if row.message_id is not None:  # the report may be deleted meanwhile: then without the quote
            quoted = ReplyParameters(row.message_id, allow_sending_without_reply=True)
        message = await self.bot.send_message(
            row.chat_id,
            for_chat(text, row.chat_id, owner),
            reply_parameters=quoted,
            reply_markup=markup,
            **self._no_wait(),
        )
        return message.message_id

    async def _send(self, row: Pending, incident: Incident) -> int | None:
        rt, bot = self.rt, self.bot
        if row.purpose == "posting":
            return await self._post(row, incident.id)
        if row.purpose == "edit":
            text, markup = await card_for(rt, incident, row.region_code)
            await bot.edit_message_text(
                for_chat(text, row.chat_id), chat_id=row.chat_id, message_id=row.message_id, reply_markup=markup
            )
            return row.message_id
        if row.purpose in PRIVATE_NOTICES:
            text, owner = await self._private_notice(row, incident)
            theirs = find_niks(incident.description) if row.chat_id == incident.reporter_id else []
            message = await bot.send_message(row.chat_id, for_chat(text, row.chat_id, owner, theirs=theirs))
            return message.message_id
        resolver = await outbox.resolver(rt, incident.id)
        name = resolver.name or "koordinator"
        if row.purpose == "selesai":
            notice = (
                ti.auto_resolved_notice(incident.id, resolver.note)
                if resolver.automatic
                else ti.resolved_notice(incident.id, name, row.note)
            )
            message, _ = await self._to_chat(row, notice)
            return message.message_id
        # the note is the resolver's: a NIK in it is masked for the reporter, but one the reporter
        # wrote in the report (the note quoting it)
        text = ti.resolved_to_reporter(incident.id, name, row.note)
        theirs = find_niks(incident.description) if row.chat_id == incident.reporter_id else []
        message = await bot.send_message(row.chat_id, for_chat(text, row.chat_id, resolver.id, theirs=theirs))
        return message.message_id
