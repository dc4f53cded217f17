"""Delivering the notification outbox to Telegram: group posts, edits, resolution notices, a
report's receipt (and the Benar / Batal question of a figure that went down), private notices (a
reminder to whoever took an incident, a rejection or reopening to its reporter), counting
reminders and broadcasts.

Rows are written by the lifecycle and reporting services in the same transaction as the change
they announce (read and marked through `bot.services.outbox`); `deliver_due` sends what is due, renders the incident's *current* state, and
records the outcome. A failure is retried with backoff (a 429's `retry_after` is honoured); a
chat that can no longer be reached (bot removed, chat gone) is marked failed and logged — never
dropped silently. One lock makes sure two deliveries never send the same row twice.

A round sends, side by side, the rows of the chats that can take a message now; a chat that must
first wait for its own window in the rate limiter (a group's 20 a minute) gets its rows sent by a
task of its own, and the rounds go on without it — so the receipts flow at Telegram's overall pace
whatever one group is waiting for. A chat under a 429 gives its rows back until its `retry_after`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
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
from bot.domain.privacy import for_chat
from bot.domain.silence import zone_of
from bot.services import broadcasts, outbox, reporting, silence
from bot.services.outbox import PRIVATE_PURPOSES, Pending
from bot.services.runtime import Runtime
from bot.telegram.rate_limit import NO_RETRIES, TelegramRateLimiter
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
        self._claimed: set[int] = set()  # rows of the batch being sent, not yet marked
        #: chats under Telegram's flood control (or whose row is waiting for its retry) → until when
        #: (the runtime's clock): their rows wait, so a round never sits out another chat's wait
        self._held: dict[int, datetime] = {}
        #: chats whose claimed rows wait for the chat's own rate limit, each sent by a task of its
        #: own (`_deliver_later`); the rounds claim none of their rows meanwhile, so a chat's rows
        #: stay in order
        self._waiting: dict[int, asyncio.Task] = {}

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
        """Wait until the background delivery started by `kick()` has finished, the chats that
        waited for their own rate limit included."""
        while True:
            if self._task is not None and not self._task.done():
                await asyncio.shield(self._task)
            elif self._waiting:
                await asyncio.shield(next(iter(self._waiting.values())))
            else:
                return

    async def close(self) -> None:
        tasks = [t for t in (self._task, *self._waiting.values()) if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._claimed:  # stopped mid-batch: the rows are due again at once, not after the lease
            claimed, self._claimed = sorted(self._claimed), set()
            try:
                await outbox.release(self.rt, claimed, self.rt.clock())
            except Exception as exc:  # noqa: BLE001 - stopping anyway: the lease runs out by itself
                log.warning("outbox rows %s stay claimed until their lease runs out: %s", claimed, exc)

    async def deliver_due(self) -> int:
        """Send every row that is due; return how many were sent. Chats are served side by side,
        each chat's rows in order, so a chat under flood control (or unreachable) holds up only
        its own rows, never another reporter's receipt."""
        sent = 0
        async with self._lock:
            while True:
                batch = await outbox.claim(self.rt, self.rt.clock(), LEASE, skip_chats=list(self._waiting))
                if not batch:
                    return sent
                self._claimed.update(row.id for row in batch)
                now = self.rt.clock()
                self._held = {chat: until for chat, until in self._held.items() if until > now}
                by_chat: dict[int, list[Pending]] = {}
                for row in batch:
                    by_chat.setdefault(row.chat_id, []).append(row)
                handed = len(self._waiting)
                # chats side by side (a broadcast's private chats too: the rate limiter, not each
                # call's round trip, sets the pace), each chat's rows in order
                async with asyncio.TaskGroup() as group:
                    tasks = [group.create_task(self._deliver_chat(rows)) for rows in by_chat.values()]
                done = sum(task.result() for task in tasks)
                sent += done
                # something sent, or a chat left waiting for its own limit (its task kicks again)
                progressed = done > 0 or len(self._waiting) != handed
                if await self._finish_broadcasts(batch):
                    progressed = True
                if not progressed:
                    return sent

    def _chat_delay(self, row: Pending) -> float:
        """Seconds the row's chat must wait for its own rate limit before this row may go. A pause
        after a 429 is not asked for: the outbox holds such a chat itself (`_held`, on the runtime's
        clock, the row rescheduled for the `retry_after`)."""
        limiter = self.bot.rate_limiter
        if not isinstance(limiter, TelegramRateLimiter):
            return 0.0
        edit = row.message_id is not None and (row.purpose == "edit" or "ubah" in row.note.split())
        return limiter.chat_delay(row.chat_id, "editMessageText" if edit else "sendMessage", pause=False)

    async def _deliver_chat(self, rows: list[Pending], *, may_wait: bool = False) -> int:
        """One chat's claimed rows in order, up to the first that must wait: a chat under flood
        control or waiting for a retry gives the rows behind it back, due when it is; a chat that
        must wait for its own rate limit (`may_wait` false: in a round) hands them to a task of
        its own. So a chat's receipts never overtake each other, and a chat that waits holds up
        only its own rows."""
        sent = 0
        for index, row in enumerate(rows):
            until = self._held.get(row.chat_id)
            if until is not None:
                rest = [r.id for r in rows[index:]]
                await outbox.release(self.rt, rest, until)
                self._claimed.difference_update(rest)
                break
            if not may_wait and row.chat_id not in self._waiting and self._chat_delay(row) > 0:
                self._waiting[row.chat_id] = asyncio.get_running_loop().create_task(
                    self._deliver_later(rows[index:]), name=f"outbox-chat-{row.chat_id}"
                )
                break
            if await self._deliver(row):
                sent += 1
            self._claimed.discard(row.id)
        return sent

    async def _finish_broadcasts(self, rows: list[Pending]) -> bool:
        """A broadcast whose last message went out (or was given up): its outcome to the sender is
        queued, due now, for the next round to take. True when one was."""
        finished = False
        for broadcast_id in sorted({r.broadcast_id for r in rows if r.purpose == "siaran" and r.broadcast_id}):
            if await broadcasts.finish_if_done(self.rt, broadcast_id):
                finished = True
        return finished

    async def _deliver_later(self, rows: list[Pending]) -> None:
        """Send the rows of a chat that waits for its own rate limit (the limiter holds each send
        until the chat may take it), then let a round claim what came for it meanwhile (a
        broadcast it finished included: its outcome is queued here)."""
        chat_id = rows[0].chat_id
        try:
            await self._deliver_chat(rows, may_wait=True)
            await self._finish_broadcasts(rows)
        except Exception:  # never die silently: what was not sent is due again at once
            log.exception("delivering to chat %d failed", chat_id)
            rest = [r.id for r in rows if r.id in self._claimed]
            self._claimed.difference_update(rest)
            await outbox.release(self.rt, rest, self.rt.clock())
        finally:
            self._waiting.pop(chat_id, None)
        self.kick()

    async def _deliver(self, row: Pending) -> bool:
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

    async def _private_notice(self, row: Pending, incident: Incident) -> str:
        """A reminder to whoever took the incident, or its reporter told of a rejection or reopening."""
        rt = self.rt
        if row.purpose == "pengingat":
            path = await outbox.region_path(rt, incident.region_code)
            return ti.reminder(incident, path, int(row.note or rt.settings.REMIND_TAKEN_MIN))
        name = await outbox.actor_name(rt, incident.id, row.purpose) or "koordinator"
        if row.purpose == "ditolak":
            return ti.rejected_to_reporter(incident.id, name, row.note)
        return ti.reopened_to_reporter(incident.id, name, row.note)

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
            text = await self._private_notice(row, incident)
            message = await bot.send_message(row.chat_id, for_chat(text, row.chat_id, incident.reporter_id))
            return message.message_id
        name = await outbox.resolver_name(rt, incident.id) or "koordinator"
        if row.purpose == "selesai":
            message, _ = await self._to_chat(row, ti.resolved_notice(incident.id, name, row.note))
            return message.message_id
        text = ti.resolved_to_reporter(incident.id, name, row.note)
        message = await bot.send_message(row.chat_id, for_chat(text, row.chat_id, incident.reporter_id))
        return message.message_id
