"""/siaran: one broadcast to 500 users in scope, through the outbox and the production rate
limiter, to an emulator enforcing Telegram's flood limits.

The bot is `bot.app.build_application` (its `TelegramRateLimiter`), started as the tests start it,
with the emulator in this process and `enforce_flood_limits = True`. 500 petugas of Bali are
stored as registered users who opened a chat with the bot (not timed); the admin sends
`/siaran <teks>`. Timed: from the command to the admin's "terkirim ke n pengguna".

Bound: Telegram's 30 messages in any second overall — n messages cannot go out faster than n / 30
seconds (the issue's bound, 500 / 30 ≈ 16.7 s). Lost: recipients without the message; every 429
the emulator answered is counted (the target is none).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from bench.common import cli, finish, fmt, quiet_logs, table, verdict

ADMIN_ID = 1
USERS = 500
QUICK_USERS = 40
KECAMATAN = ("51.03.01", "51.03.02", "51.71.01", "51.08.01", "51.01.01")
TEXT = "Rapat koordinasi logistik besok 09.00 WITA di kantor KPU Provinsi Bali. Mohon seluruh PPK hadir."


async def broadcast(db_path: Path, users: int) -> dict:
    from bot.app import RUNTIME_KEY, build_application, start_bot, stop_bot
    from bot.emulator import BotApiEmulator
    from bot.settings import Settings

    async with BotApiEmulator() as emu:
        bot = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        admin = emu.user(ADMIN_ID, "Admin", username="admin_kpu")
        settings = Settings(
            _env_file=None,
            TELEGRAM_BOT_TOKEN=bot.token,
            TELEGRAM_API_URL=emu.url,
            DATABASE_PATH=db_path,
            BOT_ADMIN_IDS=str(ADMIN_ID),
            REGION_ROOT="51",
            LOG_LEVEL="WARNING",
        )
        app = build_application(settings)
        await start_bot(app, poll_interval=0.0, poll_timeout=1)  # the durable intake, as `python -m bot run`
        try:
            rt = app.bot_data[RUNTIME_KEY]
            handles, rows = [], []
            for n in range(users):
                uid = 10_000 + n
                handle = emu.user(uid, f"Petugas {n}")
                emu.world.private_chat(handle.account, bot.account).started = True  # registered earlier
                handles.append(handle)
                rows.append(
                    (uid, "petugas", KECAMATAN[n % len(KECAMATAN)], f"Petugas {n}", "2024-02-01T00:00:00+00:00")
                )
            async with rt.db.transaction() as conn:
                await conn.executemany(
                    "INSERT INTO users (telegram_id, role, region_code, full_name, registered_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    rows,
                )
            refused: list[str] = []
            check = emu.api.flood.check

            def counted_check(*args, **kwargs):  # type: ignore[no-untyped-def]
                try:
                    return check(*args, **kwargs)
                except Exception as exc:
                    refused.append(str(exc))
                    raise

            emu.api.flood.check = counted_check
            emu.enforce_flood_limits = True
            chat = emu.private_chat(admin, bot)
            started = time.perf_counter()
            await admin.send(bot, f"/siaran {TEXT}")
            queued = await emu.next_message(chat, timeout=30)
            done = await emu.next_message(chat, timeout=120 + users / 10)
            seconds = time.perf_counter() - started
            per_user = [len(emu.bot_messages(emu.private_chat(h, bot))) for h in handles]
            received = sum(1 for n in per_user if n)
            duplicated = sum(n - 1 for n in per_user if n > 1)
        finally:
            await stop_bot(app)
    return {
        "users": users,
        "seconds": seconds,
        "received": received,
        "duplicated": duplicated,
        "refused_429": len(refused),
        "queued": queued.text,
        "done": done.text,
    }


def run(quick: bool = False) -> dict:
    users = QUICK_USERS if quick else USERS
    with tempfile.TemporaryDirectory(prefix="kpu-bench-siaran-") as tmp:
        result = asyncio.run(broadcast(Path(tmp) / "siaran.sqlite3", users))
    bound = users / 30
    lost = users - result["received"]
    ratio = result["seconds"] / bound
    rows = [
        ["recipients", fmt(users)],
        ["bound: 30 messages in any second", fmt(bound, "s")],
        ["measured: /siaran to the sender's outcome", fmt(result["seconds"], "s")],
        ["measured / bound (target ≤ 1.1)", f"{ratio:.2f}  {verdict(ratio <= 1.1)}"],
        ["429s the emulator answered", fmt(result["refused_429"])],
        ["lost (recipients without the message)", f"{lost}  {verdict(lost == 0)}"],
        ["sent twice", f"{result['duplicated']}  {verdict(result['duplicated'] == 0)}"],
        ["the sender read", result["done"]],
    ]
    print(table("/siaran: one broadcast through the outbox, emulator enforcing flood limits", ["", "value"], rows))
    return {
        "siaran": {
            "users": users,
            "seconds": round(result["seconds"], 2),
            "bound_seconds": round(bound, 2),
            "lost": lost,
            "duplicated": result["duplicated"],
            "refused_429": result["refused_429"],
        }
    }


def main() -> None:
    args = cli(__doc__.splitlines()[0])
    quiet_logs()
    finish(run(quick=args.quick), args.part_out)


if __name__ == "__main__":
    main()
