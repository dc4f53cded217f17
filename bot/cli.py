"""The command line: `kpu-bot <verb>` or `python -m bot <verb>` (run, demo, sandbox, migrate,
import-plan, import-tps, invite, backup, restore, --version).

Every failure is one line on stderr, never a traceback, and its exit code tells a service manager
what to do (sysexits.h):

- 2: bad input (a missing file, a bad CSV line), or another bot already runs on the database;
- 78 (EX_CONFIG): a bad setting, a token the Bot API rejects — restarting will not help;
- 69 (EX_UNAVAILABLE): the Bot API cannot be reached, or the database cannot be opened — try again.

Nothing printed or logged shows the token. `bot/__main__.py` starts it (after taking the database's
lock for `run`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sqlite3
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot import instance, version
from bot.app import INTAKE_KEY, build_application, finish_stopping, open_runtime, start_bot
from bot.devtools.demo import run_demo
from bot.devtools.sandbox import run_sandbox
from bot.domain.baselines import BaselineKind
from bot.logging_setup import install_excepthook, redact, remember_token, setup_logging
from bot.services import baselines, registration
from bot.settings import Settings, SettingsError, load_settings
from bot.telegram.http import get_me
from bot.texts import baselines as tb
from storage import backup as backups
from storage.db import DatabaseUnavailable, connect, migrate
from storage.instance import InstanceLock, InstanceRunning

EXIT_USAGE = 2
EXIT_UNAVAILABLE = 69  # sysexits EX_UNAVAILABLE: the Bot API or the database cannot be reached; retry
EXIT_CONFIG = 78  # sysexits EX_CONFIG: a bad setting; retrying without a fix will not help
#: after SIGTERM/SIGINT, how long the updates in progress may take before the process exits
#: anyway (what is left stays in the update journal for the next start; a service manager's
#: stop timeout is 90 s, and the issue's contract 10 s)
SHUTDOWN_GRACE_S = 6.0
log = logging.getLogger("bot")


class CliError(Exception):
    """A user error on the command line: printed as one line, exit code 2."""

    exit_code = EXIT_USAGE


class ConfigError(CliError):
    """A setting the Bot API refuses (the token, WEBHOOK_URL): exit code 78."""

    exit_code = EXIT_CONFIG


class Unavailable(CliError):
    """The Bot API cannot be reached or answers with an error at start: exit code 69."""

    exit_code = EXIT_UNAVAILABLE


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kpu-bot", description="Bot koordinasi KPU di Telegram")
    parser.add_argument("--version", action="version", version=f"kpu-bot {version()}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    run = verbs.add_parser("run", help="jalankan bot (long polling; --webhook untuk mode webhook)")
    run.add_argument("--webhook", action="store_true", help="terima update lewat webhook (WEBHOOK_URL)")
    demo = verbs.add_parser("demo", help="skenario contoh melawan emulator Bot API, tanpa token dan jaringan")
    demo.add_argument("--out", type=Path, default=None, help="folder keluaran (bawaan: demo-output-<waktu>)")
    demo.add_argument("--root", default=None, help="wilayah akar demo (bawaan: REGION_ROOT)")
    verbs.add_parser("sandbox", help="emulator interaktif: ketik sebagai pengguna, lihat jawaban bot")
    verbs.add_parser("migrate", help="perbarui skema basis data")
    invite = verbs.add_parser("invite", help="cetak tautan undangan sekali pakai")
    invite.add_argument("--role", required=True)
    invite.add_argument("--region", required=True)
    invite.add_argument(
        "--bot-username", default=None, help="username bot untuk tautan (bawaan: ditanyakan ke Bot API dengan token)"
    )
    backup = verbs.add_parser("backup", help="salinan daring basis data yang konsisten, diperiksa, mode 0600")
    backup.add_argument("file", type=Path)
    restore = verbs.add_parser("restore", help="pulihkan basis data dari cadangan (bot harus berhenti)")
    restore.add_argument("file", type=Path)
    import_plan = verbs.add_parser(
        "import-plan", help="impor kebutuhan logistik dari CSV atau Excel .xlsx (kode_wilayah,barang,jumlah)"
    )
    import_plan.add_argument("file", type=Path, metavar="FILE.csv|FILE.xlsx")
    import_tps = verbs.add_parser(
        "import-tps", help="impor jumlah TPS dari CSV atau Excel .xlsx (kode_wilayah,jumlah_tps)"
    )
    import_tps.add_argument("file", type=Path, metavar="FILE.csv|FILE.xlsx")
    return parser


#: the updates `run` asks for: edited messages too, so that the gate (handlers/gate.py) can stop
#: them — an edit changes nothing, and an edited /lapor is answered with one line saying so
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


def _settings() -> Settings:
    settings = load_settings()
    remember_token(settings.TELEGRAM_BOT_TOKEN)
    return settings


def _bot_api_error(exc: Exception, settings: Settings, *, webhook: bool = False) -> CliError:
    """A Bot API failure at start as one line that names the setting to check (never the token):
    a refusal is a configuration error (78), no answer is "unavailable" (69)."""
    url = settings.TELEGRAM_API_URL
    if isinstance(exc, InvalidToken):
        return ConfigError(
            f"TELEGRAM_BOT_TOKEN: ditolak oleh server Bot API di {url} "
            "(periksa token dari BotFather, dan TELEGRAM_API_URL)"
        )
    detail = redact(str(exc), settings.TELEGRAM_BOT_TOKEN)
    if isinstance(exc, BadRequest):  # a subclass of NetworkError: the server answered, and said no
        name = "WEBHOOK_URL" if webhook else "TELEGRAM_API_URL"
        return ConfigError(f"{name}: Bot API di {url} menolak permintaan ({detail})")
    via = f" lewat proxy {settings.TELEGRAM_PROXY_URL}" if settings.TELEGRAM_PROXY_URL else ""
    if isinstance(exc, NetworkError):
        return Unavailable(f"TELEGRAM_API_URL: Bot API di {url} tidak terjangkau{via} ({detail})")
    return Unavailable(f"TELEGRAM_API_URL: Bot API di {url} menjawab dengan galat ({detail})")


def webhook_path(url: str) -> str:
    """The local path the webhook listens on: the path of WEBHOOK_URL ("" for the root)."""
    return urlsplit(url).path.strip("/")


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings()
    token = settings.require_token()
    setup_logging(settings.LOG_LEVEL, token, settings.LOG_FORMAT)
    if args.webhook and not settings.WEBHOOK_URL:
        raise SettingsError("WEBHOOK_URL: wajib diisi untuk mode --webhook")
    try:  # first, so that a second bot is refused at once, before it talks to Telegram
        lock = instance.hold(settings)  # (bot/__main__.py took it already, before loading this module)
    except instance.InstanceRunning as exc:
        raise CliError(instance.refusal(settings, exc)) from None
    except OSError as exc:
        raise DatabaseUnavailable(
            f"{settings.DATABASE_PATH}: kunci {exc.filename} tidak bisa dibuat ({exc.strerror})"
        ) from None
    try:
        return _run_locked(args, settings, token)
    finally:
        lock.release()


def _run_locked(args: argparse.Namespace, settings: Settings, token: str) -> int:
    try:  # the token and the server first, with clients that are closed if they fail
        asyncio.run(get_me(token, settings.TELEGRAM_API_URL, settings.TELEGRAM_PROXY_URL))
    except TelegramError as exc:
        raise _bot_api_error(exc, settings, webhook=args.webhook) from None
    app = build_application(settings, webhook=args.webhook)
    webhook = None
    if args.webhook:
        assert settings.WEBHOOK_URL, "checked above, before the token"
        webhook = {
            "listen": settings.WEBHOOK_LISTEN,
            "port": settings.WEBHOOK_PORT,
            "url_path": webhook_path(settings.WEBHOOK_URL),
            "webhook_url": settings.WEBHOOK_URL,
            "secret_token": settings.WEBHOOK_SECRET,
        }
    try:
        asyncio.run(_serve(app, webhook))
    except TelegramError as exc:  # only a failure while starting gets here: running, the intake retries
        raise _bot_api_error(exc, settings, webhook=args.webhook) from None
    return 0


async def _serve(app: Application, webhook: dict | None) -> None:
    """Run until SIGTERM or SIGINT; then stop taking updates at once and exit within
    `SHUTDOWN_GRACE_S` and a few seconds, whatever the backlog: the update journal keeps what was
    not processed for the next start (`bot.telegram.intake`)."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await start_bot(app, allowed_updates=ALLOWED_UPDATES, webhook=webhook)
    await stopping.wait()
    log.info("stopping: no more updates are taken")
    intake = app.bot_data.pop(INTAKE_KEY)
    await intake.stop()
    try:
        await asyncio.wait_for(app.stop(), SHUTDOWN_GRACE_S)
    except TimeoutError:
        left = intake.in_flight
        log.warning("stopping without finishing %d update(s); they are processed at the next start", left)
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.wait(others, timeout=2)
    await intake.flush()
    await finish_stopping(app)


async def _migrate(settings: Settings) -> list[str]:
    conn = await connect(settings.DATABASE_PATH)
    try:
        return await migrate(conn)
    except DatabaseUnavailable as exc:
        raise DatabaseUnavailable(f"{settings.DATABASE_PATH}: {exc}") from exc
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(f"{settings.DATABASE_PATH}: skema tidak bisa diperbarui ({exc})") from exc
    finally:
        await conn.close()


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = _settings()
    applied = asyncio.run(_migrate(settings))
    print(f"{settings.DATABASE_PATH}: " + (", ".join(applied) if applied else "skema sudah terbaru"))
    return 0


async def _bot_username(settings: Settings) -> str:
    if not settings.TELEGRAM_BOT_TOKEN:
        raise SettingsError(
            "TELEGRAM_BOT_TOKEN: belum diisi; isi token, atau beri --bot-username NAMA_BOT "
            "(username bot untuk tautan, tanpa token)"
        )
    try:
        me = await get_me(settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_API_URL)
    except TelegramError as exc:
        error = _bot_api_error(exc, settings)
        raise type(error)(f"{error}; atau beri --bot-username NAMA_BOT") from None
    assert me.username is not None, "getMe of a bot always has its username"
    return me.username


async def _invite(settings: Settings, role: str, region: str, username: str | None) -> str:
    bot_username = username or await _bot_username(settings)
    rt = await open_runtime(settings)
    try:
        rt.bot_username = bot_username
        result = await registration.create_invite(rt, None, role, region)
    finally:
        await rt.db.close()
    if isinstance(result, registration.InviteRefused):
        raise CliError(
            f"--role: peran {role!r} tidak dikenal (petugas, koordinator, komisioner, admin)"
            if result.reason == "bad_role"
            else f"--region: wilayah {region!r} tidak ada di bawah REGION_ROOT={settings.REGION_ROOT}"
        )
    expires = result.expires_at.astimezone(settings.tz)
    return (
        f"{result.link}\n"
        f"peran {result.role.value}, wilayah {result.region.code} {result.region.name}, "
        f"sekali pakai, berlaku sampai {expires:%Y-%m-%d %H:%M %Z}"
    )


def cmd_invite(args: argparse.Namespace) -> int:
    settings = _settings()
    print(asyncio.run(_invite(settings, args.role, args.region, args.bot_username)))
    return 0


async def _backup(settings: Settings, target: Path) -> None:
    if not settings.DATABASE_PATH.exists():
        raise CliError(f"{settings.DATABASE_PATH}: basis data belum ada")
    if target.exists():
        raise CliError(f"{target}: berkas sudah ada; pilih nama lain")
    try:
        await backups.backup(settings.DATABASE_PATH, target)
    except backups.BackupFailed as exc:
        raise CliError(str(exc)) from None
    except FileExistsError:
        raise CliError(f"{target}: berkas sudah ada; pilih nama lain") from None
    except (sqlite3.Error, OSError) as exc:
        raise CliError(f"{target}: cadangan tidak bisa ditulis ({getattr(exc, 'strerror', None) or exc})") from None


def cmd_backup(args: argparse.Namespace) -> int:
    settings = _settings()
    asyncio.run(_backup(settings, args.file))
    print(f"cadangan ditulis ke {args.file} (diperiksa: ok, mode 0600)")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Check the backup, refuse while a bot runs, move the current database aside, put the backup
    in place and migrate it."""
    settings = _settings()
    database = settings.DATABASE_PATH.resolve()
    source: Path = args.file
    if source.resolve() == database:
        raise CliError(f"{source}: ini basis data yang sedang dipakai, bukan cadangan")
    try:
        lock = InstanceLock(database).acquire()
    except InstanceRunning as exc:
        holder = f"pid {exc.pid}" if exc.pid is not None else "proses lain"
        raise CliError(
            f"DATABASE_PATH: {database} sedang dipakai bot ({holder}); hentikan bot dulu, lalu ulangi"
        ) from None
    try:
        try:
            moved = backups.restore(database, source, datetime.now(UTC))
        except backups.BackupFailed as exc:
            raise CliError(str(exc)) from None
        except OSError as exc:
            raise CliError(f"{database}: tidak bisa dipulihkan ({exc.strerror or exc})") from None
        applied = asyncio.run(_migrate(settings))
    finally:
        lock.release()
    for path in moved:
        print(f"basis data lama dipindahkan ke {path}")
    print(f"{database}: dipulihkan dari {source}" + (f"; skema diperbarui: {', '.join(applied)}" if applied else ""))
    return 0


def _read_csv(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CliError(f"{path}: berkas tidak ada") from None
    except IsADirectoryError:
        raise CliError(f"{path}: ini folder, bukan berkas CSV atau Excel") from None
    except OSError as exc:
        raise CliError(f"{path}: tidak bisa dibaca ({exc.strerror or exc})") from None


async def _import_baseline(settings: Settings, kind: str, path: Path, data: bytes) -> str:
    rt = await open_runtime(settings)
    try:
        result = await baselines.import_baseline(rt, data, None, BaselineKind(kind), source=str(path))
    except sqlite3.Error as exc:  # busy (the bot is writing), locked, read-only, disk full: nothing stored
        raise CliError(tb.DATABASE_FAILED.format(path=settings.DATABASE_PATH, reason=exc)) from None
    finally:
        await rt.db.close()
    if not result.ok:
        raise CliError(
            "\n".join([f"{path}: {tb.summary(result)}", *(f"{path}: {line}" for line in tb.error_lines(result))])
        )
    return f"{path}: {tb.summary(result)}"


def cmd_import_plan(args: argparse.Namespace) -> int:
    settings = _settings()
    data = _read_csv(args.file)
    print(asyncio.run(_import_baseline(settings, "rencana", args.file, data)))
    return 0


def cmd_import_tps(args: argparse.Namespace) -> int:
    settings = _settings()
    data = _read_csv(args.file)
    print(asyncio.run(_import_baseline(settings, "tps", args.file, data)))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    return asyncio.run(run_demo(out=args.out, root=args.root))


def cmd_sandbox(args: argparse.Namespace) -> int:
    return asyncio.run(run_sandbox())


VERBS = {
    "run": cmd_run,
    "migrate": cmd_migrate,
    "invite": cmd_invite,
    "backup": cmd_backup,
    "restore": cmd_restore,
    "demo": cmd_demo,
    "sandbox": cmd_sandbox,
    "import-plan": cmd_import_plan,
    "import-tps": cmd_import_tps,
}


def main(argv: Sequence[str] | None = None) -> int:
    install_excepthook()  # a traceback nobody expected still never shows the token
    setup_logging("WARNING")  # `run` sets LOG_LEVEL; the other verbs only tell what went wrong
    args = _parser().parse_args(argv)
    try:
        return VERBS[args.verb](args)
    except SettingsError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return EXIT_CONFIG
    except CliError as exc:
        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except DatabaseUnavailable as exc:
        print(f"error: DATABASE_PATH: {redact(str(exc))}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        return 0
