"""Flood: the bot's ~30 messages/s spent in the right order while reports arrive faster than that.

200 officers each send a valid, routine `/lapor` (rendah/sedang: no group post) every 2 s for 3
minutes — 100 reports/s offered, more than three times what Telegram lets one bot send. Meanwhile
an unrelated coordinator sends `/bantuan` every 3 s, and a kritis report (which the province's
coordination group must see) arrives every 10 s. The emulator enforces Telegram's limits (30
messages in any second, 20 a minute per group, about one a second per private chat: 429 with
`retry_after` beyond them), as it does for every e2e test with `enforce_flood_limits`.

The application is the production one (`bot.app.build_application`: its rate limiter, durable
intake, outbox), polling as `python -m bot run` does, in this process; the emulator and the
people run in a process of their own (`_driver_main`), as Telegram and its users are not in the
bot's process. Times are the emulator's `time.monotonic` on both ends:

* `command_p95_s`: a `/bantuan` sent → its answer in the chat;
* `kritis_p95_s`: a kritis report sent → its card posted in the group;
* `receipts_per_s`: receipt messages the officers got per second while the load lasted (what was
  left of the budget), and `reports_confirmed_per_s` the reports those named (an officer's
  receipts that waited together are one message naming them all);
* `lost`: reports an officer sent that are not stored exactly once (a new incident, an update of
  a cumulative one, or a figure that went down waiting for Benar / Batal), plus stored ones whose
  incident no receipt to that officer named by the end. No officer sends the same report twice
  (`officer_lines`): the bot answers a report sent again within 10 minutes with the first one's
  receipt and stores it once, by design — it would look lost here. The bot is given time to drain
  after the load: until every officer's chat has one distinct answer (a receipt's line, a
  receipt, a held figure's question) per report sent there; `unanswered` counts what is missing
  at the timeout, `answered_twice` answers seen again (a receipt delivered twice).

`too_many_requests` counts the 429s the emulator answered (the limiter's job is to cause none).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.common import finish, fmt, percentile, quiet_logs, table, verdict
from bench.ingest import (
    _STORED_SQL,
    ADMIN_ID,
    OFFICER_ID_BASE,
    REGION_ROOT,
    register_group,
    register_officers,
    report_line,
    report_lines,
    start_polling,
    stop_polling,
)
from bot.emulator import parse_html
from bot.texts.incidents import receipt_incident_ids
from bot.texts.reporting import HELD

COORDINATOR_ID = 900
PERIOD_S = 2.0  # each officer reports this often
BANTUAN_EVERY_S = 3.0
KRITIS_EVERY_S = 10.0
COMMAND_TARGET_S = 2.0
KRITIS_TARGET_S = 5.0
_KRITIS = re.compile(r"kode siaga (\d+)")
#: the question of a figure that went down (Benar / Batal): the answer to one report, naming none
_HELD_HEAD = parse_html(HELD.split("\n")[0])[0]


#: a report's whole line in a coalesced receipt (its mark, number, kind and figures as reported)
_ANSWER_LINE = re.compile(r"^(?!✅)\S+ #\d+ [^:\n]+: .*$", re.MULTILINE)


def answers(text: str | None) -> list[str]:
    """The reports a message to an officer answers, one key each: a held figure's question and a
    receipt answer one (the message's text), a coalesced receipt one per report line (several
    reports updating one incident name it once in the head, but each has its line, with its own
    figures). The same key seen again in a chat is an answer delivered twice, not another report:
    an officer never sends the same report twice here (`officer_lines`)."""
    if (text or "").startswith(_HELD_HEAD):
        return [text or ""]
    if not receipt_incident_ids(text):
        return []
    if report_lines(text):
        return _ANSWER_LINE.findall(text or "")
    return [text or ""]


@dataclass(frozen=True)
class Size:
    officers: int
    seconds: float  # how long the load is offered
    drain_timeout: float  # after it, how long the bot may take to confirm every report


SIZES = {
    "full": Size(officers=200, seconds=180.0, drain_timeout=600.0),
    "test": Size(officers=200, seconds=20.0, drain_timeout=120.0),  # tests/e2e/test_flood.py (make test)
    "quick": Size(officers=40, seconds=4.0, drain_timeout=60.0),  # python -m bench --quick: the keys
}


def officer_lines(rng: random.Random, officers: list[int], count: int) -> dict[int, list[str]]:
    """`count` routine reports for each officer, none of an officer's the same as another of theirs:
    a report sent again within 10 minutes (`bot.services.reporting.REPEAT_WINDOW`) is answered with
    the first one's receipt and not stored again — the bot's contract, not a lost report."""
    lines: dict[int, list[str]] = {}
    for officer in officers:
        mine: list[str] = []
        while len(mine) < count:
            line = routine_line(rng)
            if line not in mine:
                mine.append(line)
        lines[officer] = mine
    return lines


def routine_line(rng: random.Random) -> str:
    """A report with no group post (rendah or sedang): the flood officers' everyday reports. Not a
    delivery with damaged items: damage is tinggi at once (posted in the group, like a kritis)."""
    while True:
        line = report_line(rng)
        if "tinggi" not in line and "kritis" not in line and "rusak" not in line:
            return line


# --- the driver: emulator and people, in a process of their own ------------------------------------


class Watch:
    """What the bot sent, as it arrived."""

    def __init__(self, bot_id: int, group_id: int, coordinator_chat: int) -> None:
        self.bot_id = bot_id
        self.group_id = group_id
        self.coordinator_chat = coordinator_chat
        self.answers: list[float] = []  # the coordinator's chat: every message is an answer
        self.kritis_posted: dict[int, float] = {}  # kode siaga → when its card was posted
        self.receipts: dict[int, list[int]] = {}  # officer's chat → incident ids named, in order
        self.receipt_times: list[tuple[float, int]] = []  # (when, how many reports it answered first)
        self.answered: dict[int, set[str]] = {}  # officer's chat → its reports answered (`answers`)
        self.answered_twice = 0  # answers seen again in their chat (a receipt delivered twice)
        self.changed = asyncio.Event()

    def observe(self, snap: Any) -> None:
        if snap.sender_id != self.bot_id or snap.event != "sent":
            return
        if snap.chat_id == self.coordinator_chat:
            self.answers.append(snap.observed_at)
        elif snap.chat_id == self.group_id:
            found = _KRITIS.search(snap.text or "")
            if found is not None:
                self.kritis_posted.setdefault(int(found.group(1)), snap.observed_at)
        else:
            keys = answers(snap.text)
            if keys:
                self.receipts.setdefault(snap.chat_id, []).extend(receipt_incident_ids(snap.text))
                seen = self.answered.setdefault(snap.chat_id, set())
                new = set(keys) - seen
                self.answered_twice += len(keys) - len(new)
                seen |= new
                self.receipt_times.append((snap.observed_at, len(new)))
        self.changed.set()


async def load(emu: Any, kpu: Any, officers: list[Any], siaga: Any, coordinator: Any, watch: Watch, size: Size) -> dict:
    """Offer the flood for `size.seconds`, then wait (at most `size.drain_timeout`) until every
    report was confirmed, every /bantuan answered and every kritis card posted."""
    loop = asyncio.get_running_loop()
    rng = random.Random(16)
    lines = officer_lines(rng, [o.id for o in officers], int(size.seconds / PERIOD_S) + 1)
    sent: list[tuple[int, int]] = []  # (chat, message) of every officer's report
    asked: list[float] = []
    kritis_sent: dict[int, float] = {}
    start = loop.time() + 0.5
    end = start + size.seconds

    async def at(when: float) -> None:
        if (delay := when - loop.time()) > 0:
            await asyncio.sleep(delay)

    async def officer(n: int, person: Any) -> None:
        when = start + n * PERIOD_S / len(officers)
        for line in lines[person.id]:
            if when >= end:
                return
            await at(when)
            message = await person.send(kpu, f"/lapor {line}")
            sent.append((message.chat_id, message.message_id))
            when += PERIOD_S

    async def bantuan() -> None:
        when = start + 0.7
        while when < end:
            await at(when)
            asked.append(time.monotonic())
            await coordinator.send(kpu, "/bantuan")
            when += BANTUAN_EVERY_S

    async def kritis() -> None:
        when, n = start + 1.3, 1
        while when < end:
            await at(when)
            kritis_sent[n] = time.monotonic()
            await siaga.send(kpu, f"/lapor insiden kritis gudang logistik terbakar kode siaga {n}")
            when, n = when + KRITIS_EVERY_S, n + 1

    await asyncio.gather(*(officer(n, p) for n, p in enumerate(officers)), bantuan(), kritis())
    load_end = time.monotonic()

    def unanswered() -> int:
        """Reports sent minus the distinct ones answered, per officer's chat (a chat's surplus,
        an answer delivered twice, say, never hides another chat's missing one)."""
        per_chat = Counter(chat for chat, _ in sent)
        return sum(max(n - len(watch.answered.get(chat, ())), 0) for chat, n in per_chat.items())

    def drained() -> bool:
        return unanswered() == 0 and len(watch.answers) >= len(asked) and set(kritis_sent) <= set(watch.kritis_posted)

    deadline = loop.time() + size.drain_timeout
    while not drained() and loop.time() < deadline:
        watch.changed.clear()
        try:
            await asyncio.wait_for(watch.changed.wait(), deadline - loop.time())
        except TimeoutError:
            break
    receipts_in_load = [(t, n) for t, n in watch.receipt_times if t <= load_end]
    return {
        "sent": sent,
        "asked": asked,
        "answers": watch.answers[: len(asked)],
        "kritis": [(kritis_sent[n], watch.kritis_posted.get(n)) for n in sorted(kritis_sent)],
        "receipts": {str(chat): ids for chat, ids in watch.receipts.items()},
        "receipt_messages": len(watch.receipt_times),
        "receipt_messages_in_load": len(receipts_in_load),
        "reports_confirmed_in_load": sum(n for _, n in receipts_in_load),
        "first_report_at": start,
        "load_seconds": load_end - start,
        "drain_seconds": (max((t for t, _ in watch.receipt_times), default=load_end) - load_end),
        "drained": drained(),
        "unanswered": unanswered(),
        "answered_twice": watch.answered_twice,
    }


def _driver_main(conn: Any, seed: int, officers: int) -> None:
    asyncio.run(_drive(conn, seed, officers))


async def _drive(conn: Any, seed: int, count: int) -> None:
    from bench.common import peak_rss_mb
    from bot.emulator import BotApiEmulator

    loop = asyncio.get_running_loop()
    async with BotApiEmulator(seed=seed) as emu:
        emu.enforce_flood_limits = True
        refused = {"429": 0}
        check = emu.api.flood.check

        def counted(*args: Any, **kwargs: Any) -> None:
            try:
                check(*args, **kwargs)
            except Exception:
                refused["429"] += 1
                raise

        emu.api.flood.check = counted
        kpu = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        officers = [emu.user(OFFICER_ID_BASE + i, f"Petugas {i + 1}") for i in range(count)]
        siaga = emu.user(OFFICER_ID_BASE + count, "Petugas Siaga")  # registered as the last officer
        coordinator = emu.user(COORDINATOR_ID, "Made")
        admin = emu.user(ADMIN_ID, "Admin", username="admin_kpu")
        group = emu.group("KPU Provinsi Bali", members=[admin], bots=[kpu], supergroup=True, announce=False)
        watch = Watch(kpu.id, group.id, emu.private_chat(coordinator, kpu).id)
        emu.on_bot_message = watch.observe
        conn.send({"url": emu.url, "token": kpu.token, "group": group.id})
        while True:
            request = await loop.run_in_executor(None, conn.recv)
            command = request.pop("command")
            if command == "load":
                out = await load(emu, kpu, officers, siaga, coordinator, watch, Size(**request["size"]))
                out["too_many_requests"] = refused["429"]
                conn.send(out)
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
        self.url, self.token, self.group = hello["url"], hello["token"], hello["group"]
        self.peak_rss_mb = 0.0

    async def ask(self, **request: Any) -> dict:
        self.conn.send(request)
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)

    async def close(self) -> None:
        if self.process.is_alive():
            self.peak_rss_mb = (await self.ask(command="stop"))["peak_rss_mb"]
        self.process.join(10)


# --- the bot, in this process -------------------------------------------------------------------


async def register_coordinator(rt: Any) -> None:
    from bot.services import registration
    from storage import users as user_store

    admin = await user_store.get(rt.db, ADMIN_ID)
    invite = await registration.create_invite(rt, admin, "koordinator", REGION_ROOT)
    redeemed = await registration.redeem(rt, invite.code, COORDINATOR_ID, "Made", None)
    assert redeemed.user is not None, redeemed


async def lost_reports(rt: Any, out: dict) -> dict:
    """Reports not stored exactly once (a new incident, or a kept report of a cumulative kind:
    `bench.ingest`), and stored ones whose incident no receipt to that officer named (a figure
    that went down, answered with its Benar / Batal question, names none), from the database."""
    rows = await rt.db.fetchall(_STORED_SQL)
    stored: dict[tuple[int, int], list[tuple[int, str]]] = {}
    for r in rows:
        stored.setdefault((r[0], r[1]), []).append((r[2], r[3]))
    sent = [tuple(key) for key in out["sent"]]
    not_stored = sum(1 for key in sent if key not in stored)
    duplicated = sum(len(stored[key]) - 1 for key in sent if key in stored)
    named = {int(chat): set(ids) for chat, ids in out["receipts"].items()}
    unconfirmed = sum(
        1
        for key in sent
        if key in stored and stored[key][0][1] != "menunggu" and stored[key][0][0] not in named.get(key[0], set())
    )
    held = sum(1 for key in sent if key in stored and stored[key][0][1] == "menunggu")
    return {"not_stored": not_stored, "duplicated": duplicated, "unconfirmed": unconfirmed, "held": held}


async def run(size_name: str, keep_db: Path | None = None) -> dict:
    from bot.app import POLL_INTERVAL_S, RUNTIME_KEY, build_application
    from bot.settings import Settings

    size = SIZES[size_name]
    load_before = os.getloadavg()
    driver = Driver(1616, size.officers)
    with tempfile.TemporaryDirectory(prefix="kpu-bench-flood-") as tmp:
        try:
            settings = Settings(
                _env_file=None,
                TELEGRAM_BOT_TOKEN=driver.token,
                TELEGRAM_API_URL=driver.url,
                DATABASE_PATH=keep_db or Path(tmp) / "flood.sqlite3",
                BOT_ADMIN_IDS=str(ADMIN_ID),
                REGION_ROOT=REGION_ROOT,
                LOG_LEVEL="WARNING",
            )
            app = build_application(settings)  # the production rate limiter
            await start_polling(app, POLL_INTERVAL_S)
            try:
                rt = app.bot_data[RUNTIME_KEY]
                await register_officers(rt, size.officers + 1)  # the last one reports the kritis
                await register_coordinator(rt)
                await register_group(rt, driver.group)
                out = await driver.ask(command="load", size=asdict(size))
                counts = await lost_reports(rt, out)
            finally:
                await stop_polling(app)
        finally:
            await driver.close()
    load_after = os.getloadavg()
    commands = [answer - asked for asked, answer in zip(out["asked"], out["answers"], strict=False)]
    commands += [float("inf")] * (len(out["asked"]) - len(commands))  # never answered
    kritis = [(posted - sent) if posted is not None else float("inf") for sent, posted in out["kritis"]]
    lost = counts["not_stored"] + counts["duplicated"] + counts["unconfirmed"]
    reports = len(out["sent"])
    return {
        "flood": {
            "command_p95_s": round(percentile(commands, 95), 3),
            "kritis_p95_s": round(percentile(kritis, 95), 3),
            "receipts_per_s": round(out["receipt_messages_in_load"] / out["load_seconds"], 1),
            "lost": lost,
        },
        "_flood": {
            "size": asdict(size),
            "reports": reports,
            "offered_per_s": round(reports / out["load_seconds"], 1),
            "commands": len(commands),
            "command_max_s": round(max(commands, default=0.0), 3),
            "kritis": len(kritis),
            "kritis_max_s": round(max(kritis, default=0.0), 3),
            "reports_confirmed_per_s": round(out["reports_confirmed_in_load"] / out["load_seconds"], 1),
            "receipt_messages": out["receipt_messages"],
            "drain_s": round(out["drain_seconds"], 1),
            "drained": out["drained"],
            "unanswered": out["unanswered"],
            "answered_twice": out["answered_twice"],
            "too_many_requests": out["too_many_requests"],
            **counts,
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in load_after],
            "emulator_peak_rss_mb": driver.peak_rss_mb,
        },
    }


def print_table(result: dict) -> None:
    f, d = result["flood"], result["_flood"]
    rows = [
        [
            "offered",
            f"{d['reports']:,} reports from {d['size']['officers']} officers in {d['size']['seconds']:.0f} s "
            f"({fmt(d['offered_per_s'])}/s)",
            "",
            "",
        ],
        [
            f"/bantuan answered, p95 (max) of {d['commands']}",
            f"{fmt(f['command_p95_s'], 's')} ({fmt(d['command_max_s'], 's')})",
            f"≤ {COMMAND_TARGET_S:.0f} s",
            verdict(f["command_p95_s"] <= COMMAND_TARGET_S),
        ],
        [
            f"kritis posted in the group, p95 (max) of {d['kritis']}",
            f"{fmt(f['kritis_p95_s'], 's')} ({fmt(d['kritis_max_s'], 's')})",
            f"≤ {KRITIS_TARGET_S:.0f} s",
            verdict(f["kritis_p95_s"] <= KRITIS_TARGET_S),
        ],
        [
            "receipt messages / reports confirmed, per s of load",
            f"{fmt(f['receipts_per_s'])} / {fmt(d['reports_confirmed_per_s'])}",
            "",
            "",
        ],
        ["last receipt after the load ended", fmt(d["drain_s"], "s"), "", ""],
        [
            "lost (not stored once / never confirmed)",
            f"{f['lost']} ({d['not_stored']} + {d['duplicated']} duplicated / {d['unconfirmed']})",
            "0",
            verdict(f["lost"] == 0),
        ],
        [
            "reports never answered / answers delivered twice",
            f"{d['unanswered']} / {d['answered_twice']}",
            "0 / 0",
            verdict(d["unanswered"] == 0 and d["answered_twice"] == 0),
        ],
        ["429s from the emulator", d["too_many_requests"], "", ""],
        [
            "load average (1, 5, 15 min) before / after",
            f"{'/'.join(f'{x:.2f}' for x in d['load_before'])} / {'/'.join(f'{x:.2f}' for x in d['load_after'])}",
            "",
            "",
        ],
    ]
    print(table("Flood — Telegram's budget spent in order of urgency", ["figure", "measured", "target", ""], rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test: the keys)")
    parser.add_argument("--size", choices=sorted(SIZES), default=None, help="full (default), test or quick")
    parser.add_argument("--part-out", type=Path, default=None, help="write the results (JSON) here")
    parser.add_argument(
        "--keep-db", type=Path, default=None, help="the bot's database here (a new file), kept to query after"
    )
    args = parser.parse_args()
    if args.keep_db is not None and args.keep_db.exists():
        parser.error(f"--keep-db: {args.keep_db} exists")
    quiet_logs()
    result = asyncio.run(run(args.size or ("quick" if args.quick else "full"), args.keep_db))
    print_table(result)
    finish(result, args.part_out)


if __name__ == "__main__":
    main()
