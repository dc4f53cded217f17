"""Fan-out: every province and kabupaten/kota group (552) gets its digest at once, through the
production rate limiter, from an emulator that enforces Telegram's flood limits.

On a copy of the national database (`bench.dataset`), 552 supergroups with the bot are
registered (`storage.groups.register`, not timed), one per province and kabupaten/kota. The bot
is the application of `bot.app.build_application` (its `bot.telegram.rate_limit.TelegramRateLimiter`, 3
retries after a 429), started as the tests start it; the emulator runs in a process of its own
with `enforce_flood_limits = True` (30 messages in any second per bot, 20 in any minute per group,
an album of k photos counting k).

Timed end to end, the way a commissioner waits for it: every group has a daily schedule at 07:00
(`storage.schedules`); at "07:00" (the bot's clock stands at the dataset's moment) all 552 daily
jobs fire together and each runs what the job runs, `bot.telegram.digests.run_due`: claim the
occurrence, compute the digest (`DigestCache`), send its text while its charts are drawn in the
bot's drawing workers (`CHART_WORKERS`, one per core less the bot's own; started with the bot and warm, as they are
long before 07:00), send the album — at most `DIGESTS_AT_ONCE` at a time (`Runtime.digest_slots`).
`fanout.end_to_end_seconds` runs from the jobs' start to the last message the emulator receives;
`fanout.seconds` until the last job returns. Each digest's data is read when its turn comes and
says so: its header shows that minute.

Then the on-demand path: `ASKS` admins (the whole country, region ID, not among the 552) ask
/ringkasan in their private chats one after another within the minute; the first computes and draws, the others are
served from the cache (charts resent by file_id). `ondemand.repeat_ms` is the p95 of the repeats
from the command sent to the answer's first message received (the bot's own latency);
`repeat_all_ms` to its last message, which Telegram paces in a private chat (the emulator, as
Telegram: a burst of 3, then 1 a second), so a 5-message digest takes about 2 s whatever the bot
does.

`chart_s` is the slowest chart each drawing worker drew (max over workers); `_bot_peak_rss_mb` the
bot's peak RSS summed over its processes (its own and each worker's VmHWM).

The bound Telegram's limits imply, from the messages actually delivered: the whole fan-out
cannot be faster than 30 messages in any second — n messages need ⌈n/30⌉ − 1 seconds — nor than
any one group's m messages at 20 in any minute, (⌈m/20⌉ − 1) minutes. Target: ≤ 1.25 × the bound.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import shutil
import tempfile
import time
from collections import Counter
from datetime import UTC
from pathlib import Path

from bench import dataset
from bench.common import cli, finish, fmt, peak_rss_mb, percentile, quiet_logs, table, verdict

ADMIN_ID = 1
GLOBAL_PER_S = 30
GROUP_PER_MIN = 20
QUICK_GROUPS = 5
#: groups of the whole country asking /ringkasan one after another within the minute
ASKS = 21
ASKERS = tuple(range(101, 101 + ASKS))
QUICK_ASKS = 3
TARGET_RATIO = 1.25


def bound_seconds(per_group: dict[int, int]) -> tuple[float, float, float]:
    """The least time Telegram's windows allow for these messages: 30 go at once and the next 30 a
    second later, so n messages need ⌈n/30⌉ − 1 s; a group's m need (⌈m/20⌉ − 1) minutes."""
    total = sum(per_group.values())
    overall = float(max(0, math.ceil(total / GLOBAL_PER_S) - 1))
    group = max(((math.ceil(m / GROUP_PER_MIN) - 1) * 60.0 for m in per_group.values() if m), default=0.0)
    return max(overall, group), overall, group


# --- the emulator, in a process of its own ----------------------------------------------------------
#
# The emulator keeps every photo it is sent (1,656 PNGs of 50-500 KB here): in the bot's process it
# would be most of the peak RSS, which must be the bot's. So it serves from a child process, driven
# through a pipe.


def _emulator_main(conn, seed: int) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(_emulator_serve(conn, seed))


async def _emulator_serve(conn, seed: int) -> None:  # type: ignore[no-untyped-def]
    from bench.common import peak_rss_mb
    from bot.emulator import BotApiEmulator

    loop = asyncio.get_running_loop()
    async with BotApiEmulator(seed=seed) as emu:
        bot = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        admin = emu.user(ADMIN_ID, "Admin", username="admin_kpu")
        refused = Counter()
        check = emu.api.flood.check

        def counted_check(bot_id, chat_id, is_private, count=1):  # type: ignore[no-untyped-def]
            try:
                check(bot_id, chat_id, is_private, count)
            except Exception:
                window = emu.api.flood._groups.get((bot_id, chat_id), ())  # noqa: SLF001 - diagnosis only
                per_group = not is_private and len(window) + count > emu.flood_limits.group_per_minute
                refused["per-group limit" if per_group else "30/s limit"] += 1
                raise

        emu.api.flood.check = counted_check
        arrivals: list[float] = []
        emu.on_bot_message = lambda snap: arrivals.append(snap.observed_at) if snap.event == "sent" else None
        conn.send({"url": emu.url, "token": bot.token})
        chats = {}
        before: dict[int, int] = {}
        while True:
            request = await loop.run_in_executor(None, conn.recv)
            command = request["command"]
            if command == "groups":
                ids = []
                for title in request["titles"]:
                    chat = emu.group(title, members=[admin], bots=[bot], supergroup=True, announce=False)
                    chats[chat.id] = chat
                    ids.append(chat.id)
                conn.send(ids)
            elif command == "flood":
                emu.enforce_flood_limits = request["on"]
                refused.clear()
                arrivals.clear()
                # what the groups got before 07:00 (the night's posts) is not the fan-out's
                before = {chat_id: len(emu.bot_messages(chat, bot)) for chat_id, chat in chats.items()}
                conn.send(True)
            elif command == "stats":
                per_group, photos, texts, media_groups, photo_bytes = {}, 0, 0, set(), 0
                kinds: Counter[str] = Counter()
                for chat_id, chat in chats.items():
                    sent = emu.bot_messages(chat, bot)[before.get(chat_id, 0) :]
                    per_group[chat_id] = len(sent)
                    photos += sum(1 for m in sent if m.photo_bytes)
                    photo_bytes += sum(len(m.photo_bytes) for m in sent if m.photo_bytes)
                    texts += sum(1 for m in sent if m.text is not None)
                    kinds.update(" ".join(m.text.split()[:3]) for m in sent if m.text is not None)
                    media_groups |= {m.media_group_id for m in sent if m.media_group_id}
                conn.send(
                    {
                        "per_group": per_group,
                        "photos": photos,
                        "texts": texts,
                        "media_groups": len(media_groups),
                        "photo_mb": round(photo_bytes / 2**20, 1),
                        "refused_429": dict(refused),
                        "first_at": min(arrivals, default=None),
                        "last_at": max(arrivals, default=None),
                        "arrivals": sorted(arrivals),
                        "text_kinds": kinds.most_common(6),
                        "peak_rss_mb": peak_rss_mb(),
                    }
                )
            elif command == "ask":  # an admin asks in private; how long until the bot's answer has arrived
                user = emu.user(request["user_id"], f"Admin {request['user_id']}")
                chat = emu.private_chat(user, bot)
                expected = request.get("messages")
                started = time.monotonic()
                await user.send(bot, request["text"])
                got, first, last, first_line, photos = 0, None, started, "", 0
                while expected is None or got < expected:
                    # the first time, the answer is over once its charts came and nothing more for 3 s
                    wait = 60.0 if expected is not None or not photos else 3.0
                    try:
                        message = await emu.next_message(chat, timeout=wait)
                    except TimeoutError:
                        break
                    got, last = got + 1, time.monotonic()
                    photos += bool(message.photo_bytes)
                    first = first or last
                    first_line = first_line or (message.text or "").split("\n")[0]
                conn.send(
                    {
                        "messages": got,
                        "ms": ((first or last) - started) * 1000,
                        "all_ms": (last - started) * 1000,
                        "first_line": first_line,
                    }
                )
            elif command == "stop":
                conn.send(True)
                return


class EmulatorProcess:
    def __init__(self, seed: int = 552) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_emulator_main, args=(child, seed), name="bot-api-emulator", daemon=True)
        self.process.start()
        hello = self.conn.recv()
        self.url, self.token = hello["url"], hello["token"]

    def ask(self, **request):  # type: ignore[no-untyped-def]
        self.conn.send(request)
        return self.conn.recv()

    def close(self) -> None:
        if self.process.is_alive():
            self.ask(command="stop")
        self.process.join(10)


async def night_before(rt) -> dict[str, int]:
    """Run the minute jobs' work until they find nothing left at the digest moment (the clock
    stands still: at 07:00 they find nothing more to do) and mark what they queued as sent during
    the night: the escalation job's (shortfalls past the logistics deadline raised to tinggi, kritis
    and tinggi left untaken escalated), the follow-ups of taken incidents, the silent kecamatan."""
    from bot.domain.clock import to_db
    from bot.services import incidents as lifecycle
    from bot.services import silence
    from bot.texts import incidents as incident_texts

    raised = escalated = 0
    while shortfalls := await lifecycle.raise_due_shortfalls(rt):  # a run raises up to 200
        raised += len(shortfalls)
    while moved := await lifecycle.auto_escalate(rt, incident_texts.auto_escalation_note):  # up to 100 a level
        escalated += len(moved)
    followed: set[int] = set()
    while done := await lifecycle.remind_taken(rt):  # a run takes up to 200; the night had many runs
        followed.update(incident.id for incident, _ in done)
    chased = await silence.chase(rt)
    queued = await rt.db.write(
        "UPDATE outbox SET sent_at = ? WHERE sent_at IS NULL AND failed_at IS NULL RETURNING id", (to_db(rt.clock()),)
    )
    return {
        "shortfalls_raised": raised,
        "escalated": escalated,
        "taken_followed_up": len(followed),
        "silent_kecamatan_reminded": chased,
        "rows_sent": len(queued),
    }


async def fan_out(db_path: Path, limit: int | None, asks: int) -> dict:
    from bot import chart_pool as charts
    from bot.app import RUNTIME_KEY, build_application, start_bot, stop_bot
    from bot.settings import Settings
    from bot.telegram.digests import run_due
    from storage import groups as group_store
    from storage import schedules as schedule_store

    at = dataset.AT.astimezone(UTC)
    emu = EmulatorProcess()
    try:
        settings = Settings(
            _env_file=None,
            TELEGRAM_BOT_TOKEN=emu.token,
            TELEGRAM_API_URL=emu.url,
            DATABASE_PATH=db_path,
            BOT_ADMIN_IDS=",".join(map(str, (ADMIN_ID, *ASKERS))),
            REGION_ROOT="ID",
            ELECTION_DAY=dataset.ELECTION_DAY,
            BOT_TIMEZONE="Asia/Makassar",
            LOG_LEVEL="WARNING",
        )
        app = build_application(settings, clock=lambda: at)
        await start_bot(app, poll_interval=0.0, poll_timeout=1)  # storage, drawing workers, intake
        try:
            rt = app.bot_data[RUNTIME_KEY]
            regions = await rt.db.fetchall(
                "SELECT code, name, kind FROM regions WHERE level IN ('provinsi', 'kabkota') ORDER BY code"
            )
            regions = regions[:limit] if limit else regions
            titles = [f"KPU {name}" if kind == "Kota" else f"KPU {kind} {name}" for _, name, kind in regions]
            chat_ids = emu.ask(command="groups", titles=titles)
            targets = []
            for (code, _, _), title, chat_id in zip(regions, titles, chat_ids, strict=True):
                await group_store.register(
                    rt.db, chat_id=chat_id, region_code=code, thread_id=None, title=title, by=ADMIN_ID, at=at
                )
                await schedule_store.replace(
                    rt.db, chat_id=chat_id, times=["07:00"], region_code=code, thread_id=None, by=ADMIN_ID, at=at
                )
                targets.append((chat_id, code))
            # the bot has been running for a while by 07:00: its drawing workers are up, and its
            # minute jobs have done what the night asked of them — every shortfall past the
            # logistics deadline raised, every kritis/tinggi left untaken escalated as its time
            # came, every taken incident left without an update reminded and flagged, every silent
            # kecamatan reminded (the dataset holds incidents, not that history: left to the jobs,
            # their first run would do the whole country's night at 07:00, beside the digests);
            # what they queued went out during the night
            night = await night_before(rt)
            for warm_up in charts.start():
                await asyncio.wrap_future(warm_up)

            # 07:00: every group's daily job fires at once and runs what the job runs (`run_due`:
            # claim, compute, send the text, draw the charts in the workers, send them)
            emu.ask(command="flood", on=True)
            done = 0
            samples: list[tuple[float, float, int]] = []

            async def one(chat_id: int) -> bool:
                nonlocal done
                try:
                    return await run_due(app.bot, rt, chat_id, ["07:00"])
                finally:
                    done += 1

            workers = charts.worker_pids()

            async def sample_rss() -> None:
                while True:
                    samples.append((time.perf_counter() - started, bot_rss_mb(workers), done))
                    await asyncio.sleep(0.5)

            started_mono = time.monotonic()
            started = time.perf_counter()
            sampler = asyncio.create_task(sample_rss())
            outcomes = await asyncio.gather(*(one(chat_id) for chat_id, _ in targets), return_exceptions=True)
            seconds = time.perf_counter() - started
            sampler.cancel()
            stats = emu.ask(command="stats")

            # on demand: /ringkasan of the whole country asked by `asks` admins in their private
            # chats, one after another within the minute: the first computes and draws, the others
            # are served from the cache. A second apart, so that the 30-a-second window (which a
            # digest of 5 or 6 messages would fill in a few repeats) does not hide the bot's own time.
            answers: list[dict] = []
            for user_id in ASKERS[:asks]:
                await asyncio.sleep(1.0)
                expected = answers[0]["messages"] if answers else None
                answers.append(  # in a thread: the bot's event loop must run meanwhile to answer
                    await asyncio.to_thread(
                        emu.ask, command="ask", user_id=user_id, text="/ringkasan", messages=expected
                    )
                )
            chart_s = charts.slowest_chart_s()
            worker_peaks = {pid: peak_rss_of(pid) for pid in charts.worker_pids()}
        finally:
            await stop_bot(app)
    finally:
        emu.close()
    failures = Counter(f"{type(o).__name__}: {o}" for o in outcomes if isinstance(o, BaseException))
    failures.update("not sent" for o in outcomes if o is False)
    arrivals = stats.pop("arrivals")
    stats["per_20s"] = (
        [
            sum(1 for t in arrivals if k <= t - started_mono < k + 20)
            for k in range(0, int(stats["last_at"] - started_mono) + 1, 20)
        ]
        if arrivals
        else []
    )
    stats["first_s"] = stats["first_at"] - started_mono if stats["first_at"] else None
    stats["last_s"] = stats["last_at"] - started_mono if stats["last_at"] else None
    short = sum(1 for chat_id, _ in targets if stats["per_group"].get(chat_id, 0) < 4)
    peak = max(samples, key=lambda x: x[1], default=(0.0, 0.0, 0))
    return {
        "groups": len(targets),
        "seconds": seconds,
        "failures": dict(failures),
        "incomplete_groups": short,
        "rss_peak_sample": peak,
        "chart_s_by_pid": chart_s,
        "worker_peak_rss_mb": worker_peaks,
        "answers": answers,
        "night": night,
        **stats,
    }


def peak_rss_of(pid: int) -> float:
    """Peak resident memory (VmHWM), MB, of a running process."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def bot_rss_mb(workers: list[int]) -> float:
    """Resident memory now, MB, of the bot: its process and its drawing workers."""
    return current_rss_mb() + sum(current_rss_mb(pid) for pid in workers)


def current_rss_mb(pid: int | str = "self") -> float:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return float("nan")


def run(quick: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="kpu-bench-fanout-") as tmp:
        source, generated_s = dataset.ensure(2_000 if quick else 1_000_000, cache=not quick, folder=Path(tmp))
        work = Path(tmp) / "fanout.sqlite3"
        shutil.copyfile(source, work)  # the groups are registered in a copy, never in the cache
        result = asyncio.run(fan_out(work, QUICK_GROUPS if quick else None, QUICK_ASKS if quick else ASKS))
    bound, overall, group = bound_seconds(result["per_group"])
    total = sum(result["per_group"].values())
    end_to_end = result["last_s"] if result["last_s"] is not None else result["seconds"]
    ratio = end_to_end / bound if bound else float("nan")  # a few messages fit in one window: no bound
    groups = result["groups"]
    answers = result["answers"]
    repeat_ms = percentile([a["ms"] for a in answers[1:]], 95) if answers[1:] else float("nan")
    repeat_all_ms = percentile([a["all_ms"] for a in answers[1:]], 95) if answers[1:] else float("nan")
    chart_s = max(result["chart_s_by_pid"].values(), default=float("nan"))
    main_peak = peak_rss_mb()
    bot_peak = main_peak + sum(result["worker_peak_rss_mb"].values())
    rows = [
        ["groups (provinces + kabupaten/kota), each a 07:00 schedule", fmt(groups)],
        [
            "messages delivered (texts + photos)",
            f"{total:,} ({result['texts']:,} + {result['photos']:,} in {result['media_groups']:,} albums)",
        ],
        ["most messages in one group", fmt(max(result["per_group"].values(), default=0))],
        ["texts, by their first words", "; ".join(f"{n}× {k}" for k, n in result["text_kinds"])],
        ["bound: 30 in any second", fmt(overall, "s")],
        ["bound: busiest group at 20 in any minute", fmt(group, "s")],
        ["bound", fmt(bound, "s")],
        ["07:00 → last group's last chart delivered", fmt(end_to_end, "s")],
        [
            f"end to end / bound (target ≤ {TARGET_RATIO})",
            f"{ratio:.2f}  {verdict(ratio <= TARGET_RATIO)}" if bound else "— (fits in one window)",
        ],
        ["first message after 07:00", fmt(result["first_s"], "s")],
        ["messages a second, by 20 s", " ".join(f"{n / 20:.0f}" for n in result["per_20s"])],
        ["429s the emulator answered", ", ".join(f"{n} {k}" for k, n in result["refused_429"].items()) or "0"],
        ["failed deliveries", ", ".join(f"{n}× {k}" for k, n in result["failures"].items()) or "0"],
        ["groups missing messages", fmt(result["incomplete_groups"])],
        [
            "before 07:00 (untimed): the night's minute jobs",
            "{shortfalls_raised:,} shortfalls raised, {escalated:,} escalations, {taken_followed_up:,} taken"
            " incidents followed up, {silent_kecamatan_reminded:,} silent kecamatan, {rows_sent:,} messages".format(
                **result["night"]
            ),
        ],
        [
            "slowest chart, per drawing worker",
            ", ".join(f"{v:.3f} s" for v in result["chart_s_by_pid"].values()) or "—",
        ],
        [
            f"/ringkasan (national) by {len(answers)} admins within the minute: answered after, first / repeats p95",
            f"{fmt(answers[0]['ms'] if answers else None, 'ms')} / {fmt(repeat_ms, 'ms')}",
        ],
        [
            "… whole answer delivered (Telegram's pace in a private chat: 3, then 1 a second), first / repeats p95",
            f"{fmt(answers[0]['all_ms'] if answers else None, 'ms')} / {fmt(repeat_all_ms, 'ms')}"
            + (f" ({answers[0]['messages']} messages: {answers[0]['first_line'][:30]}…)" if answers else ""),
        ],
        [
            "bot's RSS at its highest sample (all processes)",
            "{:.0f} MB at {:.0f} s, {} of {} digests done".format(
                result["rss_peak_sample"][1], result["rss_peak_sample"][0], result["rss_peak_sample"][2], groups
            ),
        ],
        [
            "bot's peak RSS: main + drawing workers",
            f"{main_peak:.0f} + "
            + " + ".join(f"{v:.0f}" for v in result["worker_peak_rss_mb"].values())
            + f" = {bot_peak:.0f} MB",
        ],
        [
            "emulator (own process): photos held, peak RSS",
            f"{fmt(result['photo_mb'], 'MB')}, {fmt(result['peak_rss_mb'], 'MB')}",
        ],
    ]
    print(
        table(
            "Fan-out: every group's 07:00 digest through the daily job's path, rate limiter → emulator enforcing "
            "flood limits",
            ["", "value"],
            rows,
        )
    )
    return {
        "fanout": {
            "groups": groups,
            "seconds": round(result["seconds"], 2),
            "end_to_end_seconds": round(end_to_end, 2),
            "bound_seconds": round(bound, 2),
        },
        "chart_s": round(chart_s, 4),
        "chart_s_by_process": {str(pid): round(v, 4) for pid, v in result["chart_s_by_pid"].items()},
        "ondemand": {
            "repeat_ms": round(repeat_ms, 1),
            "repeat_all_ms": round(repeat_all_ms, 1),
            "first_ms": round(answers[0]["ms"], 1) if answers else None,
            "first_all_ms": round(answers[0]["all_ms"], 1) if answers else None,
        },
        "_bot_peak_rss_mb": round(bot_peak, 1),
        "_fanout_detail": {
            "messages": total,
            "photos": result["photos"],
            "texts": result["texts"],
            "media_groups": result["media_groups"],
            "ratio": round(ratio, 2),
            "failures": result["failures"],
            "incomplete_groups": result["incomplete_groups"],
            "refused_429": result["refused_429"],
            "first_s": result["first_s"],
            "last_s": result["last_s"],
            "worker_peak_rss_mb": {str(k): round(v, 1) for k, v in result["worker_peak_rss_mb"].items()},
            "emulator_peak_rss_mb": result["peak_rss_mb"],
            "generated_s": round(generated_s, 1),
        },
    }


def main() -> None:
    args = cli(__doc__.splitlines()[0])
    quiet_logs()
    finish(run(quick=args.quick), args.part_out)


if __name__ == "__main__":
    main()
