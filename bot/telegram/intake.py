"""Durable intake: no update is lost to a crash.

python-telegram-bot's `Updater` confirms updates to Telegram (the next `getUpdates` carries the
offset past them) before the bot has handled them: a `kill -9`, an out-of-memory kill or a host
reboot loses every update fetched but not yet handled, silently — the officers believe they
reported. This module takes updates itself:

* polling — `getUpdates`, then the batch is written to the update journal (`storage/updates.py`,
  one transaction, `synchronous=FULL`), and only then does the next `getUpdates` move the
  offset past it. If the journal cannot be written (database locked, disk full) the offset does
  not move: Telegram keeps the updates and hands them out again;
* webhook — the HTTP 200 is answered only after the batch is committed; a failure answers 500,
  and Telegram retries.

A journaled update goes to `Application.update_queue` like PTB's own; the per-chat processor
(`bot.telegram.update_order`) runs it in its chat's order and tells `Intake.processed` when it is
done, which marks it in the journal (marks are written in batches). At start, every journaled
update not marked done — those fetched before a crash — is processed first, in the order it
arrived; the handlers' own idempotency (`processed_updates`, the report's source message) makes
an update processed again after a crash harmless. A periodic sweep processes any that were
left behind while running (a mark that could not be written, say).

Stopping stops taking updates at once; what was journaled and not processed stays for the next
start.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from telegram import Update
from telegram.error import InvalidToken, RetryAfter, TelegramError
from telegram.ext import Application

from bot.services import updates as journal
from bot.services.runtime import Runtime
from bot.telegram.update_order import PerChatUpdateProcessor

log = logging.getLogger(__name__)

#: `getUpdates` long-poll timeout, seconds
POLL_TIMEOUT_S = 10
#: wait after a failed getUpdates or journal write, doubling up to the maximum
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
#: how often journaled updates left unprocessed while running are looked for, and old ones pruned
SWEEP_INTERVAL_S = 60.0
#: journaled updates handed to the application at once; more wait in the journal (bounds memory
#: and what a stop leaves half-done)
MAX_IN_FLIGHT = 5_000
WEBHOOK_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def payload_of(update: Update) -> str:
    """An update as stored: JSON of what Telegram sent (ASCII-escaped: a lone surrogate or NUL in a
    text is stored as it came)."""
    return json.dumps(update.to_dict(), sort_keys=True, separators=(",", ":"))


def _seconds(value: object) -> float:
    """A `retry_after` as seconds (PTB gives an int or a timedelta)."""
    total = getattr(value, "total_seconds", None)
    return float(total()) if callable(total) else float(value)  # type: ignore[arg-type]


class Intake:
    """Takes updates for one application and keeps them in the journal until processed."""

    def __init__(
        self,
        app: Application,
        rt: Runtime,
        *,
        allowed_updates: Sequence[str] | None = None,
        poll_interval: float = 0.0,
        poll_timeout: int = POLL_TIMEOUT_S,
    ) -> None:
        self.app = app
        self.rt = rt
        self.allowed_updates = list(allowed_updates) if allowed_updates is not None else None
        self.poll_interval = poll_interval
        self.poll_timeout = poll_timeout
        self._seq_of: dict[int, int] = {}  # id(update) → journal seq, while it is in flight
        self._in_flight: set[int] = set()
        self._done: list[int] = []
        self._marking: set[int] = set()  # processed, its done mark not written yet
        self._flusher: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._webhook: web.AppRunner | None = None
        self._taking = False
        self._behind = False  # more journaled updates than MAX_IN_FLIGHT: the sweep takes the rest
        self.wake = asyncio.Event()
        processor = app.update_processor
        if not isinstance(processor, PerChatUpdateProcessor):
            raise TypeError("the durable intake needs the application's PerChatUpdateProcessor")
        processor.on_processed = self.processed

    @property
    def bot_id(self) -> int:
        return self.app.bot.id

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    # --- starting and stopping ---------------------------------------------------------------

    async def start_polling(self) -> None:
        """Process what a previous run left, then poll."""
        self._taking = True
        await self.replay()
        self._tasks = [
            asyncio.create_task(self._poll_loop(), name="intake-poll"),
            asyncio.create_task(self._sweep_loop(), name="intake-sweep"),
        ]

    async def start_webhook(
        self, *, listen: str, port: int, url_path: str, webhook_url: str, secret_token: str | None
    ) -> None:
        """Process what a previous run left, serve the webhook, then tell Telegram its URL."""
        self._taking = True
        await self.replay()
        server = web.Application(client_max_size=4 * 1024 * 1024)
        server.router.add_post("/" + url_path.strip("/"), self._webhook_request(secret_token))
        self._webhook = web.AppRunner(server, access_log=None)
        await self._webhook.setup()
        await web.TCPSite(self._webhook, listen, port).start()
        self._tasks = [asyncio.create_task(self._sweep_loop(), name="intake-sweep")]
        await self.app.bot.set_webhook(
            webhook_url, secret_token=secret_token, allowed_updates=self.allowed_updates, drop_pending_updates=False
        )

    async def stop(self) -> None:
        """Stop taking updates at once (what is journaled stays for the next start), and write the
        done marks of what was processed."""
        self._taking = False
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        if self._webhook is not None:
            await self._webhook.cleanup()
            self._webhook = None
        await self.flush()

    async def flush(self) -> None:
        """Write the done marks noted so far (the application's stop waits for its updates first)."""
        if self._flusher is not None and not self._flusher.done():
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        await self._write_marks(retry=False)

    # --- taking updates ----------------------------------------------------------------------

    async def replay(self) -> int:
        """Hand every journaled, unprocessed update not yet in flight to the application, in order."""
        rows = await journal.pending(self.rt, self.bot_id)
        self._behind = False
        count = 0
        for row in rows:
            if row.seq in self._in_flight or row.seq in self._marking:
                continue
            if len(self._in_flight) >= MAX_IN_FLIGHT:
                self._behind = True  # the rest once these are done
                break
            try:
                update = Update.de_json(json.loads(row.payload), self.app.bot)
            except (ValueError, TypeError, KeyError) as exc:  # written by this code, so never expected
                log.error("journaled update %s cannot be read (%s); skipped", row.update_id, exc)
                self._note_done(row.seq)
                continue
            self._dispatch(row.seq, update)
            count += 1
        if count:
            log.info("processing %d update(s) received before the last stop", count)
        return count

    async def receive(self, updates: Sequence[Update]) -> int:
        """Journal `updates` (durably, when this returns) and hand the new ones to the application.
        Raises `sqlite3.Error` / `OSError` if they could not be written: nothing was taken."""
        if not updates:
            return 0
        by_id = {update.update_id: update for update in updates}
        new = await journal.record(self.rt, self.bot_id, [(u.update_id, payload_of(u)) for u in updates])
        if len(self._in_flight) + len(new) > MAX_IN_FLIGHT:
            self._behind = True  # journaled: the sweep hands them out once the others are done
            self.wake.set()
            return len(new)
        for seq, update_id in new:
            self._dispatch(seq, by_id[update_id])
        return len(new)

    def _dispatch(self, seq: int, update: Update) -> None:
        self._in_flight.add(seq)
        self._seq_of[id(update)] = seq
        self.app.update_queue.put_nowait(update)

    def processed(self, update: object) -> None:
        """The per-chat processor is done with `update`: mark it done in the journal (soon)."""
        seq = self._seq_of.pop(id(update), None)
        if seq is None:
            return  # not from the journal (a test calling process_update, say)
        self._in_flight.discard(seq)
        self._note_done(seq)
        if self._behind and not self._in_flight:
            self.wake.set()

    def _note_done(self, seq: int) -> None:
        self._done.append(seq)
        self._marking.add(seq)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._write_marks(), name="intake-marks")

    async def _write_marks(self, retry: bool = True) -> None:
        """Write done marks in batches (marks noted while one is written go in the next)."""
        backoff = BACKOFF_FIRST_S
        while self._done:
            batch, self._done = self._done, []
            try:
                await journal.mark_done(self.rt, batch)
            except (sqlite3.Error, OSError) as exc:
                self._done[:0] = batch
                if not retry:
                    log.warning("%d processed update(s) not marked done (%s); they run again at start", len(batch), exc)
                    return
                log.warning("processed updates not marked done yet (%s); retrying in %.1f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
            else:
                self._marking.difference_update(batch)
                backoff = BACKOFF_FIRST_S

    async def _poll_loop(self) -> None:
        offset: int | None = None  # None: everything Telegram has not seen confirmed
        backoff = BACKOFF_FIRST_S
        while self._taking:
            try:
                updates = await self.app.bot.get_updates(
                    offset=offset, timeout=self.poll_timeout, allowed_updates=self.allowed_updates
                )
            except InvalidToken:
                log.critical("getUpdates: the Bot API rejects the token; no updates are taken")
                raise
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
                continue
            except TelegramError as exc:
                # the application's error handler says it (a 409 Conflict: once per while, with an
                # ops alert; a network failure: one line), as it did for PTB's own polling loop
                await self.app.process_error(None, exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
                continue
            if updates:
                try:
                    await self.receive(updates)
                except (sqlite3.Error, OSError) as exc:
                    # not journaled: the offset stays, Telegram keeps them and sends them again
                    log.error(
                        "%d update(s) not recorded (%s); Telegram keeps them, retrying in %.1f s",
                        len(updates),
                        exc,
                        backoff,
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX_S)
                    continue
                offset = updates[-1].update_id + 1
            backoff = BACKOFF_FIRST_S
            if self.poll_interval:
                await asyncio.sleep(self.poll_interval)

    async def _sweep_loop(self) -> None:
        """Hand out journaled updates left behind, and forget old processed ones, now and then."""
        while self._taking:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), SWEEP_INTERVAL_S)
            self.wake.clear()
            try:
                await self.replay()
                await journal.forget_old(self.rt)
            except (sqlite3.Error, OSError) as exc:
                log.warning("update journal sweep failed (%s); next in %.0f s", exc, SWEEP_INTERVAL_S)

    def _webhook_request(self, secret_token: str | None) -> Any:
        async def handle(request: web.Request) -> web.Response:
            if secret_token and request.headers.get(WEBHOOK_SECRET_HEADER) != secret_token:
                return web.Response(status=403)
            if not self._taking:
                return web.Response(status=503)  # stopping: Telegram sends it again later
            try:
                data = await request.json()
                update = Update.de_json(data, self.app.bot)
            except (ValueError, TypeError, KeyError):
                return web.Response(status=400)
            try:
                await self.receive([update])
            except (sqlite3.Error, OSError) as exc:
                log.error("update %s not recorded (%s); Telegram will send it again", update.update_id, exc)
                return web.Response(status=500)
            return web.Response(status=200)

        return handle
