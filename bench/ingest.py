"""Ingest: the full bot against a bare python-telegram-bot echo bot, on the same Bot API emulator.

A — the application of `bot.app.build_application` (production wiring: handlers, per-chat
ordered concurrent update processing, SQLite on disk with `synchronous=FULL`), officers registered
through the services (`bot.services.registration`, not timed) sending valid one-line `/lapor` reports.
B — a bare PTB `Application` (defaults) with one `CommandHandler("lapor")` that echoes the text,
on a second bot of the same emulator.

Where things run: A and B share this process and its event loop; the emulator and the simulated
officers run in a process of their own (`_driver_main`), as Telegram's servers and its users
are not in the bot's process — so the bots' figures are not the load generator's. Both bots
poll with 1 s long polls. Rounds alternate A B A B. In a round the officers
keep `WINDOW` reports in flight: a new one is sent whenever a receipt arrives, so the bot never
waits for work and never faces an unbounded backlog ("as fast as the bot takes them").
Throughput is reports / (last receipt − first report available to getUpdates); the latency of a
report is from its update's `available_at` to the `observed_at` of its receipt (both the
emulator's `time.monotonic`). Receipts are matched to reports per private chat in order, and for A
checked against the incident number in the receipt. Then a paced sender offers a fixed 50
reports/s to A (the event loop's clock schedules each send; nothing spins) for the latency at that
load. Lost and duplicated reports are counted from A's database: incidents per (source chat,
message) against what was sent.

Two variants, each with its own emulator and database:

* `bot` (results.json): neither bot has a rate limiter — what each one takes.
* `limiter`: A with its production rate limiter (`bot.telegram.rate_limit.TelegramRateLimiter`), B with
  PTB's `AIORateLimiter`, both keeping a bot near Telegram's ~30 messages per second overall. One
  receipt per report caps any bot there; this shorter run shows the bot holding that ceiling
  without losing a report, and its latency paced at 25/s, under it.

A polls as `python -m bot run` does (`bot.app.POLL_INTERVAL_S` between getUpdates calls), B with
`run_polling`'s default (none).
"""

from __future__ import annotations

import asyncio
import itertools
import multiprocessing
import random
import re
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, CommandHandler, ContextTypes

from bench.common import cli, finish, fmt, percentile, quiet_logs, table, verdict
from bot.emulator import parse_html
from bot.texts.incidents import RECEIPTS_HEAD, receipt_incident_ids

#: how a coalesced receipt begins, as Telegram shows it ("✅ Laporan Anda diterima: ")
COALESCED_HEAD = parse_html(RECEIPTS_HEAD.split("{ids}")[0] + "</b>")[0]

ADMIN_ID = 1
OFFICER_ID_BASE = 100_000
REGION_ROOT = "51"  # Bali: 9 kabupaten/kota, 57 kecamatan
GROUP_REGION = "51"  # the province's coordination group gets the few tinggi/kritis postings
WINDOW = 100  # reports in flight in the throughput rounds (one getUpdates batch)
FLOOD_RETRIES = 3  # build_application's default


@dataclass(frozen=True)
class Size:
    officers: int
    rounds: int  # per system
    per_round: int
    warmup: int
    paced_seconds: float
    rate: float  # reports per second offered in the paced run

    @property
    def reports(self) -> int:
        return self.rounds * self.per_round


SIZES = {
    ("bot", False): Size(officers=250, rounds=4, per_round=1_250, warmup=200, paced_seconds=20.0, rate=50.0),
    ("limiter", False): Size(officers=250, rounds=2, per_round=300, warmup=30, paced_seconds=10.0, rate=25.0),
    ("bot", True): Size(officers=20, rounds=2, per_round=40, warmup=10, paced_seconds=1.0, rate=50.0),
    ("limiter", True): Size(officers=20, rounds=1, per_round=20, warmup=5, paced_seconds=0.5, rate=25.0),
}


# --- the reports ---------------------------------------------------------------------------------

ITEMS = ("kotak", "bilik", "surat", "tinta", "segel", "formulir", "sampul", "braille")
INCIDENTS_LOW = (
    "spanduk kampanye belum diturunkan",
    "antrean panjang di TPS {n}",
    "listrik padam sebentar di TPS {n}",
    "saksi terlambat datang",
    "daftar pemilih tetap belum ditempel di TPS {n}",
)
INCIDENTS_HIGH = ("jembatan menuju TPS {n} putus", "kotak suara TPS {n} basah terkena banjir")


_SERIAL = itertools.count()


def _tag() -> str:
    """A word no other report of the run has ("pos ab"): officers do not send the same words twice,
    and the bot answers an identical report within 10 minutes with the first one's receipt."""
    k, letters = next(_SERIAL), ""
    while True:
        k, r = divmod(k, 26)
        letters += "abcdefghijklmnopqrstuvwxyz"[r]
        if k == 0:
            return f"pos {letters}"


def report_line(rng: random.Random) -> str:
    """A valid one-line report (text after `/lapor`): mostly rendah/sedang, ~2 % tinggi/kritis."""
    roll = rng.random()
    n = rng.randint(1, 40)
    if roll < 0.30:  # complete, undamaged delivery → rendah
        planned = rng.randint(20, 2_000)
        return f"logistik {rng.choice(ITEMS)} {planned}/{planned}"
    if roll < 0.45:  # small shortfall or damage → sedang
        planned = rng.randint(100, 2_000)
        received = planned - rng.randint(1, planned // 20)
        return f"logistik {rng.choice(ITEMS)} {received}/{planned} rusak {rng.randint(1, 3)} kemasan sobek"
    if roll < 0.60:  # voter data → sedang
        problem = rng.choice(("ganda", "meninggal", "pindah", "tms", "belum"))
        return f"data {problem} {rng.randint(1, 30)} temuan pencocokan di desa {n} {_tag()}"
    if roll < 0.80:  # counting progress → rendah
        total = rng.randint(50, 300)
        done = rng.randint(0, total)
        return f"hitung {done}/{total} sirekap {rng.randint(0, done)}"
    if roll < 0.98:
        severity = "rendah" if roll < 0.89 else "sedang"
        return f"insiden {severity} {rng.choice(INCIDENTS_LOW).format(n=n)} {_tag()}"
    return f"insiden {rng.choice(('tinggi', 'kritis'))} {rng.choice(INCIDENTS_HIGH).format(n=n)} {_tag()}"


#: a report's line in a coalesced receipt ("⚪ #12 Penghitungan suara: …"; not "✅ #12 selesai …")
_REPORT_LINE = re.compile(r"^(?!✅)\S+ #(\d+) [^:\n]+: ", re.MULTILINE)


def report_lines(text: str | None) -> list[int]:
    """The incident of each report a coalesced receipt confirms, a line each, in order (reports
    updating one incident name it once in the head but have a line each); [] for any other message."""
    if not (text or "").startswith(COALESCED_HEAD) or not receipt_incident_ids(text):
        return []
    return [int(found) for found in _REPORT_LINE.findall(text or "")]


# --- the driver: emulator and officers, in a process of their own ----------------------------------


class Receipts:
    """The messages one bot sent to private chats, per chat in order, with their arrival time."""

    def __init__(self, bot_id: int) -> None:
        self.bot_id = bot_id
        self.per_chat: dict[int, list[tuple[float, str]]] = defaultdict(list)
        self.count = 0
        self.window: asyncio.Semaphore | None = None
        self.changed = asyncio.Event()

    def observe(self, snap: Any) -> None:
        if snap.sender_id != self.bot_id or snap.event != "sent" or snap.chat_id <= 0:
            return
        lines = report_lines(snap.text)
        # an officer's receipts that waited together are one message naming them all: one each
        texts = [f"#{i}" for i in lines] if lines else [snap.text or ""]
        for text in texts:
            self.per_chat[snap.chat_id].append((snap.observed_at, text))
            self.count += 1
            if self.window is not None:
                self.window.release()
        self.changed.set()

    async def wait_for(self, total: int, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.count < total:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), remaining)
            except TimeoutError:
                return

    def cursor(self) -> dict[int, int]:
        return {chat: len(items) for chat, items in self.per_chat.items()}


class System:
    """One bot under test, seen from the emulator: its handle, its officers, its receipts."""

    def __init__(self, name: str, handle: Any, officers: list[Any]) -> None:
        self.name = name
        self.handle = handle
        self.officers = officers
        self.receipts = Receipts(handle.id)
        self.next_officer = 0

    async def send(self, text: str, sent: list[tuple[int, int]]) -> None:
        user = self.officers[self.next_officer % len(self.officers)]
        self.next_officer += 1
        message = await user.send(self.handle, f"/lapor {text}")
        sent.append((message.chat_id, message.message_id))

    def settle(self, mode: str, sent: list[tuple[int, int]], before: dict[int, int]) -> dict:
        """Match this run's receipts to its reports (per chat, in order) and time them."""
        available = {
            (r.payload["chat"]["id"], r.payload["message_id"]): r.available_at
            for r in self.handle.updates
            if r.kind == "message"
        }
        by_chat: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for key in sent:
            by_chat[key[0]].append(key)
        latencies, missing, extra, pairs = [], 0, 0, []
        first = min((available[key] for key in sent), default=0.0)
        last = first
        for chat, keys in by_chat.items():
            got = self.receipts.per_chat.get(chat, [])[before.get(chat, 0) :]
            missing += max(0, len(keys) - len(got))
            extra += max(0, len(got) - len(keys))
            for key, (observed, text) in zip(keys, got, strict=False):
                latencies.append((observed - available[key]) * 1000)
                last = max(last, observed)
                pairs.append((key, text))
        return {
            "system": self.name,
            "mode": mode,
            "reports": len(sent),
            "seconds": last - first,
            "latencies_ms": latencies,
            "missing": missing,
            "extra": extra,
            "sent": sent,
            "pairs": pairs if self.name == "A" else [],
        }


async def saturated(system: System, lines: list[str], window: int, timeout: float) -> dict:
    """Keep `window` reports in flight until all `lines` were answered."""
    before = system.receipts.cursor()
    start_count = system.receipts.count
    system.receipts.window = asyncio.Semaphore(window)
    sent: list[tuple[int, int]] = []
    try:
        for text in lines:
            try:
                await asyncio.wait_for(system.receipts.window.acquire(), timeout)
            except TimeoutError:
                break
            await system.send(text, sent)
        await system.receipts.wait_for(start_count + len(sent), timeout)
    finally:
        system.receipts.window = None
    return system.settle("saturated", sent, before)


async def paced(system: System, lines: list[str], rate: float, timeout: float) -> dict:
    """Offer `rate` reports per second, on the event loop's clock, whatever the bot does."""
    before = system.receipts.cursor()
    start_count = system.receipts.count
    loop = asyncio.get_running_loop()
    sent: list[tuple[int, int]] = []
    start = loop.time() + 0.01
    for i, text in enumerate(lines):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        await system.send(text, sent)
    await system.receipts.wait_for(start_count + len(sent), timeout)
    return system.settle("paced", sent, before)


def _driver_main(conn: Any, seed: int, officers: int) -> None:
    asyncio.run(_drive(conn, seed, officers))


async def _drive(conn: Any, seed: int, officers: int) -> None:
    from bench.common import peak_rss_mb
    from bot.emulator import BotApiEmulator

    loop = asyncio.get_running_loop()
    async with BotApiEmulator(seed=seed) as emu:
        kpu = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        echo = emu.add_bot("echo_bench_bot", "Echo")
        people = [emu.user(OFFICER_ID_BASE + i, f"Petugas {i + 1}") for i in range(officers)]
        admin = emu.user(ADMIN_ID, "Admin", username="admin_kpu")
        group = emu.group("KPU Provinsi Bali", members=[admin], bots=[kpu], supergroup=True, announce=False)
        systems = {"A": System("A", kpu, people), "B": System("B", echo, people)}  # the same people, two chats
        emu.on_bot_message = lambda snap: [s.receipts.observe(snap) for s in systems.values()]
        conn.send({"url": emu.url, "tokens": {"A": kpu.token, "B": echo.token}, "group": group.id})
        while True:
            request = await loop.run_in_executor(None, conn.recv)
            command = request.pop("command")
            if command == "saturated":
                window = request.get("window", WINDOW)
                conn.send(await saturated(systems[request["system"]], request["lines"], window, request["timeout"]))
            elif command == "paced":
                conn.send(
                    await paced(systems[request["system"]], request["lines"], request["rate"], request["timeout"])
                )
            elif command == "stop":
                emu.on_bot_message = None
                conn.send({"peak_rss_mb": peak_rss_mb()})
                return


class Driver:
    """The emulator process, asked over a pipe without blocking this process's event loop."""

    def __init__(self, seed: int, officers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_driver_main, args=(child, seed, officers), name="bot-api-emulator", daemon=True
        )
        self.process.start()
        hello = self.conn.recv()
        self.url, self.tokens, self.group = hello["url"], hello["tokens"], hello["group"]
        self.peak_rss_mb = 0.0

    async def ask(self, **request: Any) -> dict:
        self.conn.send(request)
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)

    async def close(self) -> None:
        if self.process.is_alive():
            self.peak_rss_mb = (await self.ask(command="stop"))["peak_rss_mb"]
        self.process.join(10)


# --- the two applications, in this process -----------------------------------------------------------


async def start_polling(app: Application, poll_interval: float) -> None:
    if app.updater is None:  # A: the bot's own durable intake, as `python -m bot run` takes updates
        from bot.app import start_bot

        await start_bot(app, poll_interval=poll_interval, poll_timeout=1)
        return
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)  # run_polling does this; here we drive the steps ourselves
    await app.start()
    await app.updater.start_polling(poll_interval=poll_interval, timeout=1, drop_pending_updates=False)


async def stop_polling(app: Application) -> None:
    if app.updater is None:
        from bot.app import stop_bot

        await stop_bot(app)
        return
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


def echo_application(url: str, token: str, limiter: bool) -> Application:
    """B: a bare PTB application (its defaults), one CommandHandler that echoes the text."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.message.reply_text(update.message.text)

    builder = ApplicationBuilder().token(token).base_url(f"{url}/bot").base_file_url(f"{url}/file/bot")
    if limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=FLOOD_RETRIES))
    app = builder.build()
    app.add_handler(CommandHandler("lapor", echo))
    return app


async def register_officers(rt: Any, count: int) -> None:
    """Petugas spread over the kecamatan of the root, registered through the services."""
    from bot.services import registration
    from storage import users as user_store

    kecamatan = [
        row["code"] for row in await rt.db.fetchall("SELECT code FROM regions WHERE level = 'kecamatan' ORDER BY code")
    ]
    admin = await user_store.get(rt.db, ADMIN_ID)
    for i in range(count):
        invite = await registration.create_invite(rt, admin, "petugas", kecamatan[i % len(kecamatan)])
        redeemed = await registration.redeem(rt, invite.code, OFFICER_ID_BASE + i, f"Petugas {i + 1}", None)
        assert redeemed.user is not None, redeemed


async def register_group(rt: Any, chat_id: int) -> None:
    from storage import groups as group_store

    await group_store.register(
        rt.db,
        chat_id=chat_id,
        region_code=GROUP_REGION,
        thread_id=None,
        title="KPU Provinsi Bali",
        by=ADMIN_ID,
        at=datetime.now(UTC),
    )


#: every report stored: a new incident (data, insiden), or a kept report of a cumulative kind
#: (logistik, hitung, rekap) — the first of its kecamatan opens the incident, later ones update
#: it in place, one whose figure went down waits for its reporter's answer
_STORED_SQL = """SELECT source_chat_id, source_message_id, id AS incident_id, 'berlaku' AS state FROM incidents
                  WHERE kind NOT IN ('logistik', 'hitung', 'rekap')
                 UNION ALL
                 SELECT source_chat_id, source_message_id, incident_id, state FROM incident_reports"""


async def db_counts(rt: Any, sent: list[tuple[int, int]]) -> tuple[int, int]:
    """(lost, duplicated): reports sent that were not stored exactly once, from the database."""
    rows = await rt.db.fetchall(
        f"SELECT source_chat_id, source_message_id, count(*) FROM ({_STORED_SQL}) GROUP BY 1, 2"
    )
    stored = {(r[0], r[1]): r[2] for r in rows}
    wanted = set(sent)
    lost = len(wanted - set(stored))
    duplicated = sum(n - 1 for n in stored.values()) + sum(n for key, n in stored.items() if key not in wanted)
    return lost, duplicated


async def check_receipts(rt: Any, run: dict) -> int:
    """Receipts of A that do not name the incident their report made or updated (a report that
    waits for Benar / Batal is answered with the question, which names none)."""
    number = re.compile(r"#(\d+)")
    rows = await rt.db.fetchall(_STORED_SQL)
    made = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    wrong = 0
    for key, text in run["pairs"]:
        incident_id, state = made.get(tuple(key), (None, None))
        found = number.search(text)
        if state == "menunggu":
            wrong += found is not None
        elif found is None or int(found.group(1)) != incident_id:
            wrong += 1
    return wrong


async def run_variant(name: str, size: Size, workdir: Path, seed: int) -> dict:
    from bot.app import POLL_INTERVAL_S, RUNTIME_KEY, build_application
    from bot.settings import Settings

    limiter = name == "limiter"
    rng = random.Random(seed)
    driver = Driver(seed, size.officers)
    try:
        settings = Settings(
            _env_file=None,
            TELEGRAM_BOT_TOKEN=driver.tokens["A"],
            TELEGRAM_API_URL=driver.url,
            DATABASE_PATH=workdir / f"ingest-{name}.sqlite3",
            BOT_ADMIN_IDS=str(ADMIN_ID),
            REGION_ROOT=REGION_ROOT,
            LOG_LEVEL="WARNING",
        )
        app_a = build_application(settings, rate_limiter=limiter, flood_retries=FLOOD_RETRIES)
        app_b = echo_application(driver.url, driver.tokens["B"], limiter)
        await start_polling(app_a, POLL_INTERVAL_S)  # as `python -m bot run` polls
        await start_polling(app_b, 0.0)  # run_polling's default
        try:
            rt = app_a.bot_data[RUNTIME_KEY]
            await register_officers(rt, size.officers)
            await register_group(rt, driver.group)
            timeout = 120.0 if limiter else 60.0
            sent_a: list[tuple[int, int]] = []

            async def run(system: str, mode: str, count: int) -> dict:
                lines = [report_line(rng) for _ in range(count)]
                if mode == "saturated":
                    out = await driver.ask(command="saturated", system=system, lines=lines, timeout=timeout)
                else:
                    out = await driver.ask(
                        command="paced", system=system, lines=lines, rate=size.rate, timeout=timeout + count / 25
                    )
                if system == "A":
                    sent_a.extend(tuple(key) for key in out["sent"])
                    out["mismatched"] = await check_receipts(rt, out)
                return out

            for system in ("A", "B"):  # warm-up: connections, caches, first-time paths; not counted
                await run(system, "saturated", size.warmup)
            runs = []
            for _ in range(size.rounds):
                for system in ("A", "B"):
                    runs.append(await run(system, "saturated", size.per_round))
            paced_run = await run("A", "paced", int(size.rate * size.paced_seconds))
            lost, duplicated = await db_counts(rt, sent_a)
            mismatched = sum(r.get("mismatched", 0) for r in [*runs, paced_run])
        finally:
            await stop_polling(app_b)
            await stop_polling(app_a)
    finally:
        await driver.close()

    def summary(system: str) -> dict:
        mine = [r for r in runs if r["system"] == system]
        reports = sum(r["reports"] for r in mine)
        seconds = sum(r["seconds"] for r in mine)
        latencies = [x for r in mine for x in r["latencies_ms"]]
        return {
            "per_s": reports / seconds if seconds else float("nan"),
            "rounds": [round(r["reports"] / r["seconds"], 1) if r["seconds"] else float("nan") for r in mine],
            "reports": reports,
            "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95),
            "p99_ms": percentile(latencies, 99),
            "missing_receipts": sum(r["missing"] for r in mine),
            "extra_receipts": sum(r["extra"] for r in mine),
        }

    sa, sb = summary("A"), summary("B")
    p = paced_run["latencies_ms"]
    return {
        "limiter": limiter,
        "size": size.__dict__,
        "A": sa,
        "B": sb,
        "ratio": sa["per_s"] / sb["per_s"],
        "paced": {
            "rate": size.rate,
            "reports": paced_run["reports"],
            "offered_s": size.paced_seconds,
            "p50_ms": percentile(p, 50),
            "p95_ms": percentile(p, 95),
            "p99_ms": percentile(p, 99),
            "max_ms": max(p, default=0.0),
            "missing_receipts": paced_run["missing"],
        },
        "lost": lost,
        "duplicated": duplicated,
        "mismatched_receipts": mismatched,
        "sent": len(sent_a),
        "emulator_peak_rss_mb": driver.peak_rss_mb,
    }


# --- how ingest grows with the officers reporting at once -----------------------------------------

#: officers reporting at the same time, each with one report in flight (the next once its receipt
#: is in): 10 is a quiet afternoon, 1,000 election morning in a province
OFFICER_COUNTS = (10, 100, 1_000)


async def run_officers(officers: int, reports: int, workdir: Path, seed: int) -> dict:
    """The full bot (no rate limiter, as in the `bot` variant) taking `reports` from `officers`
    officers each keeping one report in flight: reports/s, latency, lost and duplicated."""
    from bot.app import POLL_INTERVAL_S, RUNTIME_KEY, build_application
    from bot.settings import Settings

    rng = random.Random(seed)
    driver = Driver(seed, officers)
    try:
        settings = Settings(
            _env_file=None,
            TELEGRAM_BOT_TOKEN=driver.tokens["A"],
            TELEGRAM_API_URL=driver.url,
            DATABASE_PATH=workdir / f"ingest-officers-{officers}.sqlite3",
            BOT_ADMIN_IDS=str(ADMIN_ID),
            REGION_ROOT=REGION_ROOT,
            LOG_LEVEL="WARNING",
        )
        app = build_application(settings, rate_limiter=False, flood_retries=FLOOD_RETRIES)
        await start_polling(app, POLL_INTERVAL_S)
        try:
            rt = app.bot_data[RUNTIME_KEY]
            await register_officers(rt, officers)
            await register_group(rt, driver.group)
            sent: list[tuple[int, int]] = []
            outs = []
            for count in (min(officers, 100), reports):  # a warm-up, then the measured run
                lines = [report_line(rng) for _ in range(count)]
                out = await driver.ask(command="saturated", system="A", lines=lines, timeout=120.0, window=officers)
                sent.extend(tuple(key) for key in out["sent"])
                outs.append(out)
            lost, duplicated = await db_counts(rt, sent)
        finally:
            await stop_polling(app)
    finally:
        await driver.close()
    measured = outs[-1]
    latencies = measured["latencies_ms"]
    return {
        "officers": officers,
        "reports": measured["reports"],
        "reports_per_s": measured["reports"] / measured["seconds"] if measured["seconds"] else float("nan"),
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "missing_receipts": measured["missing"],
        "lost": lost,
        "duplicated": duplicated,
    }


def print_officers(by_officers: dict[int, dict]) -> None:
    base = by_officers[min(by_officers)]
    rows = [
        [
            f"{n:,}",
            fmt(r["reports"]),
            fmt(r["reports_per_s"], "/s"),
            f"{r['reports_per_s'] / base['reports_per_s']:.2f} ×",
            fmt(r["p50_ms"], "ms"),
            fmt(r["p95_ms"], "ms"),
            f"{r['lost']} / {r['duplicated']}",
        ]
        for n, r in by_officers.items()
    ]
    print(
        table(
            "Ingest by officers reporting at once (each one report in flight; the full bot, no rate limiter)",
            ["officers", "reports", "reports/s", f"vs {min(by_officers)}", "p50", "p95", "lost / dup."],
            rows,
        )
    )


def print_tables(variants: dict[str, dict]) -> None:
    for name, v in variants.items():
        size = v["size"]
        label = (
            "A with its TelegramRateLimiter, B with PTB's AIORateLimiter (~30 messages/s overall)"
            if v["limiter"]
            else "no rate limiter in either bot: what each one takes"
        )
        rows = []
        for system, title in (("A", "A: full bot, /lapor"), ("B", "B: bare PTB echo")):
            s = v[system]
            rows.append(
                [
                    title,
                    fmt(s["per_s"], "/s"),
                    ", ".join(f"{x:.0f}" for x in s["rounds"]),
                    fmt(s["p50_ms"], "ms"),
                    fmt(s["p95_ms"], "ms"),
                    fmt(s["p99_ms"], "ms"),
                    s["missing_receipts"],
                ]
            )
        print(
            table(
                f"Ingest [{name}] — {label}; {size['rounds']} rounds × {size['per_round']:,} reports per "
                f"system, A B alternating, {WINDOW} in flight, {size['officers']} officers",
                ["system", "reports/s", "per round", "p50", "p95", "p99", "no receipt"],
                rows,
            )
        )
        p = v["paced"]
        print(
            f"ratio A/B: {v['ratio']:.2f}    A at a fixed {p['rate']:.0f} reports/s for {p['offered_s']:.0f} s "
            f"({p['reports']:,} reports): p50 {fmt(p['p50_ms'], 'ms')}, p95 {fmt(p['p95_ms'], 'ms')}, "
            f"p99 {fmt(p['p99_ms'], 'ms')}, max {fmt(p['max_ms'], 'ms')}"
        )
        print(
            f"database: {v['sent']:,} reports sent to A (warm-up included), lost {v['lost']}, duplicated "
            f"{v['duplicated']}; receipts naming the wrong incident: {v['mismatched_receipts']}; "
            f"emulator process peak RSS {v['emulator_peak_rss_mb']:.0f} MB"
        )


def headline(variant: dict) -> dict:
    """The `ingest` keys of results.json."""
    return {
        "reports_per_s": round(variant["A"]["per_s"], 1),
        "echo_per_s": round(variant["B"]["per_s"], 1),
        "ratio": round(variant["ratio"], 3),
        "p50_ms": round(variant["A"]["p50_ms"], 1),
        "p95_ms": round(variant["A"]["p95_ms"], 1),
        "p99_ms": round(variant["A"]["p99_ms"], 1),
        "p95_ms_at_50_per_s": round(variant["paced"]["p95_ms"], 1),
        "lost": variant["lost"],
        "duplicated": variant["duplicated"],
    }


def targets(ingest: dict) -> list[tuple[str, str, str, bool]]:
    return [
        ("ingest ratio A/B", f"{ingest['ratio']:.2f}", "≥ 0.8", ingest["ratio"] >= 0.8),
        ("ingest reports/s", fmt(ingest["reports_per_s"]), "≥ 300", ingest["reports_per_s"] >= 300),
        (
            "p95 at 50 reports/s",
            fmt(ingest["p95_ms_at_50_per_s"], "ms"),
            "≤ 100 ms",
            ingest["p95_ms_at_50_per_s"] <= 100,
        ),
        (
            "lost / duplicated",
            f"{ingest['lost']} / {ingest['duplicated']}",
            "0 / 0",
            ingest["lost"] == 0 and ingest["duplicated"] == 0,
        ),
    ]


async def run(quick: bool = False, variants: tuple[str, ...] = ("bot", "limiter")) -> dict:
    out: dict[str, dict] = {}
    by_officers: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="kpu-bench-ingest-") as tmp:
        for i, name in enumerate(variants):
            started = time.perf_counter()
            out[name] = await run_variant(name, SIZES[(name, quick)], Path(tmp), seed=600 + i)
            out[name]["wall_s"] = round(time.perf_counter() - started, 1)
        for i, officers in enumerate(OFFICER_COUNTS[:1] if quick else OFFICER_COUNTS):
            reports = 40 if quick else max(600, 2 * officers)
            by_officers[officers] = await run_officers(officers, reports, Path(tmp), seed=700 + i)
    print_tables(out)
    print_officers(by_officers)
    ingest = headline(out["bot"])
    ingest["by_officers"] = {
        str(n): {"reports_per_s": round(r["reports_per_s"], 1), "p95_ms": round(r["p95_ms"], 1)}
        for n, r in by_officers.items()
    }
    for r in [*out.values(), *by_officers.values()]:  # nothing lost under the production limiter either
        if r is not out["bot"]:
            ingest["lost"] += r["lost"]
            ingest["duplicated"] += r["duplicated"]
    print(
        table(
            "Ingest against the targets",
            ["figure", "measured", "target", ""],
            [[a, b, c, verdict(d)] for a, b, c, d in targets(ingest)],
        )
    )
    return {"ingest": ingest, "_ingest_variants": out}


def main() -> None:
    args = cli(__doc__.splitlines()[0])
    quiet_logs()
    part = asyncio.run(run(quick=args.quick))
    finish(part, args.part_out)


if __name__ == "__main__":
    main()
