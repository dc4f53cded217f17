"""Fan-out: every province and kabupaten/kota group (552) gets its digest at once, through the
production rate limiter, from an emulator that enforces Telegram's flood limits.

On a copy of the national database (`bench.dataset`), 552 supergroups with the bot are
registered (`storage.groups.register`, not timed), one per province and kabupaten/kota. The bot
is the application of `bot.app.build_application` (its `bot.telegram.rate_limit.TelegramRateLimiter`, 3
retries after a 429), started as the tests start it; the emulator runs in a process of its own
with `enforce_flood_limits = True` (30 messages in any second per bot, 20 in any minute per group,
an album of k photos counting k).

Two timed phases, the way the bound is meant: it bounds the sending, not the drawing.

1. prepare: every group's digest computed and drawn (`bot.telegram.digests.prepare_digest`: the
   text parts and the three charts), one after another; the charts go to a temporary folder.
2. deliver: all 552 `bot.telegram.digests.send_digest` calls (with the prepared digest) started together — what the
   07:00 jobs do — each under the production bound on digests in flight (`Runtime.digest_slots`,
   reading its charts when its turn comes), until the last returns. This is `fanout.seconds`.

In production the two overlap (`send_digest` sends a digest's text, draws its charts, sends
them): 07:00 for every group of the country is then about as long as phase 1, the drawing.

The bound Telegram's limits imply, from the messages actually delivered: the whole fan-out
cannot be faster than 30 messages in any second — n messages need ⌈n/30⌉ − 1 seconds — nor than
any one group's m messages at 20 in any minute, (⌈m/20⌉ − 1) minutes. Target: ≤ 1.1 × the bound.
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
from bench.common import cli, finish, fmt, quiet_logs, table, verdict

ADMIN_ID = 1
GLOBAL_PER_S = 30
GROUP_PER_MIN = 20
QUICK_GROUPS = 5


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
                conn.send(True)
            elif command == "stats":
                per_group, photos, texts, media_groups, photo_bytes = {}, 0, 0, set(), 0
                for chat_id, chat in chats.items():
                    sent = emu.bot_messages(chat, bot)
                    per_group[chat_id] = len(sent)
                    photos += sum(1 for m in sent if m.photo_bytes)
                    photo_bytes += sum(len(m.photo_bytes) for m in sent if m.photo_bytes)
                    texts += sum(1 for m in sent if m.text is not None)
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
                        "peak_rss_mb": peak_rss_mb(),
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


async def fan_out(db_path: Path, charts_dir: Path, limit: int | None) -> dict:
    from bot.app import RUNTIME_KEY, build_application, start_bot, stop_bot
    from bot.settings import Settings
    from bot.telegram.digests import PreparedDigest, prepare_digest, send_digest
    from storage import groups as group_store

    at = dataset.AT.astimezone(UTC)
    emu = EmulatorProcess()
    try:
        settings = Settings(
            _env_file=None,
            TELEGRAM_BOT_TOKEN=emu.token,
            TELEGRAM_API_URL=emu.url,
            DATABASE_PATH=db_path,
            BOT_ADMIN_IDS=str(ADMIN_ID),
            REGION_ROOT="ID",
            ELECTION_DAY=dataset.ELECTION_DAY,
            BOT_TIMEZONE="Asia/Makassar",
            LOG_LEVEL="WARNING",
        )
        app = build_application(settings, clock=lambda: at)
        await start_bot(app, poll_interval=0.0, poll_timeout=1)
        try:
            rt = app.bot_data[RUNTIME_KEY]
            regions = await rt.db.fetchall(
                "SELECT code, name, kind FROM regions WHERE level IN ('provinsi', 'kabkota') ORDER BY code"
            )
            regions = regions[:limit] if limit else regions
            titles = [f"KPU {name}" if kind == "Kota" else f"KPU {kind} {name}" for _, name, kind in regions]
            chat_ids = emu.ask(command="groups", titles=titles)
            targets = []
            code_of: dict[int, str] = {}
            for (code, _, _), title, chat_id in zip(regions, titles, chat_ids, strict=True):
                await group_store.register(
                    rt.db, chat_id=chat_id, region_code=code, thread_id=None, title=title, by=ADMIN_ID, at=at
                )
                targets.append((chat_id, code))
                code_of[chat_id] = code

            # 1. prepare: compute and draw every digest; the charts wait on disk
            texts: dict[int, list[str]] = {}
            chart_files: dict[int, list[tuple[str, Path]]] = {}
            chart_bytes = 0
            started = time.perf_counter()
            for chat_id, code in targets:
                prepared = await prepare_digest(rt, code)
                texts[chat_id] = prepared.parts
                chart_files[chat_id] = []
                for name, png in prepared.charts:
                    path = charts_dir / name
                    path.write_bytes(png)
                    chart_bytes += len(png)
                    chart_files[chat_id].append((name, path))
            prepare_s = time.perf_counter() - started

            # 2. deliver: every group at once, under the production bound on digests in flight
            emu.ask(command="flood", on=True)
            done = 0
            samples: list[tuple[float, float, int]] = []

            async def one(chat_id: int) -> int:
                nonlocal done
                try:
                    prepared = PreparedDigest(texts[chat_id], chart_files[chat_id])  # charts read when sent
                    return await send_digest(app.bot, rt, chat_id, code_of[chat_id], prepared=prepared)
                finally:
                    done += 1

            async def sample_rss() -> None:
                while True:
                    samples.append((time.perf_counter() - started, current_rss_mb(), done))
                    await asyncio.sleep(0.5)

            started_mono = time.monotonic()
            started = time.perf_counter()
            sampler = asyncio.create_task(sample_rss())
            outcomes = await asyncio.gather(*(one(chat_id) for chat_id, _ in targets), return_exceptions=True)
            seconds = time.perf_counter() - started
            sampler.cancel()
        finally:
            await stop_bot(app)
        stats = emu.ask(command="stats")
    finally:
        emu.close()
    failures = Counter(f"{type(o).__name__}: {o}" for o in outcomes if isinstance(o, BaseException))
    stats["first_s"] = stats["first_at"] - started_mono if stats["first_at"] else None
    stats["last_s"] = stats["last_at"] - started_mono if stats["last_at"] else None
    short = sum(1 for chat_id, _ in targets if stats["per_group"].get(chat_id, 0) < 4)
    peak = max(samples, key=lambda x: x[1], default=(0.0, 0.0, 0))
    return {
        "groups": len(targets),
        "seconds": seconds,
        "prepare_s": prepare_s,
        "chart_mb": chart_bytes / 2**20,
        "failures": dict(failures),
        "incomplete_groups": short,
        "rss_peak_sample": peak,
        **stats,
    }


def current_rss_mb() -> float:
    try:
        return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return float("nan")


def run(quick: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="kpu-bench-fanout-") as tmp:
        source, generated_s = dataset.ensure(2_000 if quick else 1_000_000, cache=not quick, folder=Path(tmp))
        work = Path(tmp) / "fanout.sqlite3"
        shutil.copyfile(source, work)  # the groups are registered in a copy, never in the cache
        charts_dir = Path(tmp) / "charts"
        charts_dir.mkdir()
        result = asyncio.run(fan_out(work, charts_dir, QUICK_GROUPS if quick else None))
    bound, overall, group = bound_seconds(result["per_group"])
    total = sum(result["per_group"].values())
    ratio = result["seconds"] / bound if bound else float("nan")  # a few messages fit in one window: no bound
    groups = result["groups"]
    rows = [
        ["groups (provinces + kabupaten/kota)", fmt(groups)],
        [
            "1. prepare: digests computed and drawn, one after another",
            f"{fmt(result['prepare_s'], 's')} ({result['prepare_s'] / max(groups, 1):.2f} s a digest, "
            f"charts {result['chart_mb']:.0f} MB)",
        ],
        [
            "2. deliver: messages (texts + photos)",
            f"{total:,} ({result['texts']:,} + {result['photos']:,} in {result['media_groups']:,} albums)",
        ],
        ["most messages in one group", fmt(max(result["per_group"].values(), default=0))],
        ["bound: 30 in any second", fmt(overall, "s")],
        ["bound: busiest group at 20 in any minute", fmt(group, "s")],
        ["bound", fmt(bound, "s")],
        ["measured", fmt(result["seconds"], "s")],
        [
            "measured / bound (target ≤ 1.1)",
            f"{ratio:.2f}  {verdict(ratio <= 1.1)}" if bound else "— (fits in one window)",
        ],
        ["first / last message after the start", f"{fmt(result['first_s'], 's')} / {fmt(result['last_s'], 's')}"],
        ["429s the emulator answered", ", ".join(f"{n} {k}" for k, n in result["refused_429"].items()) or "0"],
        ["failed deliveries", ", ".join(f"{n}× {k}" for k, n in result["failures"].items()) or "0"],
        ["groups missing messages", fmt(result["incomplete_groups"])],
        [
            "bot's RSS at its highest sample (deliver)",
            "{:.0f} MB at {:.0f} s, {} of {} digests done".format(
                result["rss_peak_sample"][1], result["rss_peak_sample"][0], result["rss_peak_sample"][2], groups
            ),
        ],
        [
            "emulator (own process): photos held, peak RSS",
            f"{fmt(result['photo_mb'], 'MB')}, {fmt(result['peak_rss_mb'], 'MB')}",
        ],
    ]
    print(
        table(
            "Fan-out: every group's digest at once, TelegramRateLimiter → emulator enforcing flood limits",
            ["", "value"],
            rows,
        )
    )
    return {
        "fanout": {"groups": groups, "seconds": round(result["seconds"], 2), "bound_seconds": round(bound, 2)},
        "_fanout_detail": {
            "messages": total,
            "photos": result["photos"],
            "texts": result["texts"],
            "media_groups": result["media_groups"],
            "ratio": round(ratio, 2),
            "prepare_s": round(result["prepare_s"], 1),
            "chart_mb": round(result["chart_mb"], 1),
            "failures": result["failures"],
            "incomplete_groups": result["incomplete_groups"],
            "refused_429": result["refused_429"],
            "first_s": result["first_s"],
            "last_s": result["last_s"],
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
