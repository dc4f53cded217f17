"""Application wiring: the python-telegram-bot `Application`, storage lifecycle, command menu.

`build_application(settings)` is the one place that assembles the bot; `python -m bot run`, the
demo, the sandbox, the tests and the benchmarks all use it, against real Telegram or any Bot API
server at `TELEGRAM_API_URL` (the built-in emulator included).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from typing import Any

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackContext,
    ContextTypes,
    Defaults,
    TypeHandler,
)

from bot import chart_pool, version
from bot.context import NOTIFIER_KEY, RUNTIME_KEY, KpuContext, job_queue_of
from bot.domain.clock import Clock, utc_now
from bot.logging_setup import bind_ids
from bot.services import incidents as lifecycle
from bot.services import silence
from bot.services.runtime import Runtime
from bot.settings import Settings
from bot.telegram import digests as digest_delivery
from bot.telegram import menus
from bot.telegram.health import HealthServer, Liveness, PollingRequest
from bot.telegram.http import AiohttpRequest
from bot.telegram.intake import POLL_TIMEOUT_S, Intake
from bot.telegram.ops import OpsAlerts
from bot.telegram.outbox import Notifier
from bot.telegram.rate_limit import TelegramRateLimiter
from bot.telegram.update_order import PerChatUpdateProcessor
from bot.texts import incidents as incident_texts
from handlers import register
from storage import regions as region_store
from storage import users as user_store
from storage.db import Database, DatabaseUnavailable, schema_version

log = logging.getLogger(__name__)

#: pause between two getUpdates calls (`run_polling(poll_interval=…)`). Idle, a long poll waits
#: for the next update anyway; under load the updates of 30 ms come in one call instead of one
#: call each, which halves the bot's CPU per report (bench/ingest.py) for at most 30 ms more wait.
POLL_INTERVAL_S = 0.03
#: the key of the running `Intake` in `bot_data`
INTAKE_KEY = "intake"
OUTBOX_INTERVAL_S = 5
ESCALATION_INTERVAL_S = 60
SILENCE_INTERVAL_S = 120
#: keys of what `build_application` keeps in `bot_data` besides the runtime and the notifier
LIVENESS_KEY = "liveness"
HEALTH_KEY = "health_server"
ALERTS_KEY = "ops_alerts"
MENUS_KEY = "menus_task"


async def open_runtime(settings: Settings, clock: Clock = utc_now) -> Runtime:
    """Open the database, bring the schema up to date, load regions, bootstrap admins."""
    db = await Database.open(settings.DATABASE_PATH)
    try:
        rt = Runtime(settings=settings, db=db, clock=clock)
        log.info("database %s (schema version %d)", settings.DATABASE_PATH.resolve(), await schema_version(db.conn))
        added = await region_store.ensure_loaded(db, settings.REGION_ROOT)
        if added:
            log.info("loaded %d regions under %s", added, settings.REGION_ROOT)
        if settings.BOT_ADMIN_IDS:
            await user_store.ensure_admins(db, settings.BOT_ADMIN_IDS, settings.REGION_ROOT, clock())
    except BaseException as exc:
        await db.close()  # an open connection's thread would keep the process from ever exiting
        if isinstance(exc, (sqlite3.Error, OSError)):
            raise DatabaseUnavailable(f"{settings.DATABASE_PATH} tidak bisa dipakai ({exc})") from exc
        raise
    return rt


async def deliver_outbox(context: CallbackContext) -> None:
    """Job: send due notifications and receipts (retries included). The sending runs in the
    notifier's own task, not in the job: a backlog of receipts at shutdown is left in the outbox
    for the next start (`Notifier.close`), not cancelled inside the scheduler with a traceback."""
    context.application.bot_data[NOTIFIER_KEY].kick()


async def escalate_overdue(context: CallbackContext) -> None:
    """Job: escalate kritis/tinggi incidents left untaken too long, remind whoever took one and
    left it without an update (REMIND_TAKEN_MIN), then deliver the news."""
    rt = context.application.bot_data[RUNTIME_KEY]
    results = await lifecycle.auto_escalate(rt, incident_texts.auto_escalation_note)
    reminded = await lifecycle.remind_taken(rt)
    if any(r.ok for r in results) or reminded:
        context.application.bot_data[NOTIFIER_KEY].kick()


async def chase_silence(context: CallbackContext) -> None:
    """Job: remind the petugas of kecamatan silent on counting (`bot.services.silence.chase`)."""
    if await silence.chase(context.application.bot_data[RUNTIME_KEY]):
        context.application.bot_data[NOTIFIER_KEY].kick()


async def bind_update_ids(update: object, context: CallbackContext) -> None:
    """Handler group -2: every record logged while this update is handled names it, its chat and
    its sender (`LOG_FORMAT=json` writes them as fields)."""
    if isinstance(update, Update):
        bind_ids(
            update_id=update.update_id,
            chat_id=update.effective_chat.id if update.effective_chat else None,
            user_id=update.effective_user.id if update.effective_user else None,
        )


def schedule_jobs(app: Application) -> None:
    """The repeating jobs; their state lives in the database, so a restart loses nothing."""
    jq = job_queue_of(app)
    jq.run_repeating(
        deliver_outbox,
        interval=OUTBOX_INTERVAL_S,
        first=1,
        name="outbox",
        job_kwargs={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
    )
    jq.run_repeating(
        escalate_overdue,
        interval=ESCALATION_INTERVAL_S,
        first=5,
        name="eskalasi_otomatis",
        job_kwargs={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
    )
    jq.run_repeating(
        chase_silence,
        interval=SILENCE_INTERVAL_S,
        first=10,
        name="penghitungan_sunyi",
        job_kwargs={"coalesce": True, "max_instances": 1, "misfire_grace_time": 120},
    )


def build_application(
    settings: Settings,
    *,
    clock: Clock = utc_now,
    rate_limiter: bool = True,
    flood_retries: int = 3,
    webhook: bool = False,
) -> Application:
    """Build the bot. Needs `TELEGRAM_BOT_TOKEN`; storage opens in `post_init`.

    Updates of different chats are processed concurrently, those of one chat in order
    (`bot.telegram.update_order`); the Bot API is spoken to over aiohttp (`bot.telegram.http`).

    The rate limiter keeps within Telegram's limits and waits out a 429's `retry_after` up to
    `flood_retries` times before the request fails (the outbox then reschedules it).

    With `HEALTH_PORT` set, `/healthz` and `/metrics` are served while the bot runs
    (`bot.telegram.health`); operational alerts go to `OPS_CHAT_ID` (`bot.telegram.ops`)."""
    token = settings.require_token()
    api = settings.TELEGRAM_API_URL
    proxy = settings.TELEGRAM_PROXY_URL
    liveness = Liveness(webhook=webhook)

    async def post_init(app: Application) -> None:
        rt = await open_runtime(settings, clock)
        rt.bot_username = app.bot.username
        chart_pool.configure(settings.CHART_WORKERS)
        chart_pool.start()  # the drawing workers load matplotlib now, not at 07:00
        rt.bot_id = app.bot.id
        alerts = OpsAlerts(app.bot, settings.OPS_CHAT_ID)
        rt.alert = alerts.report
        app.bot_data[ALERTS_KEY] = alerts
        app.bot_data[RUNTIME_KEY] = rt
        app.bot_data[LIVENESS_KEY] = liveness
        notifier = Notifier(rt, app.bot)
        await notifier.take_over()
        app.bot_data[NOTIFIER_KEY] = notifier
        if settings.HEALTH_PORT:
            health = HealthServer(rt, liveness, settings.HEALTH_LISTEN, settings.HEALTH_PORT)
            await health.start()
            app.bot_data[HEALTH_KEY] = health
        await menus.set_defaults(app.bot)
        app.bot_data[MENUS_KEY] = asyncio.get_running_loop().create_task(
            menus.sync_all(app.bot, rt), name="command-menus"
        )
        schedule_jobs(app)
        await digest_delivery.start_schedules(app, rt)  # missed digests follow in the background
        log.info(
            "bot @%s ready: kpu-bot %s, %s, root region %s",
            app.bot.username,
            version(),
            "webhook" if webhook else "long polling",
            settings.REGION_ROOT,
        )

    async def post_shutdown(app: Application) -> None:
        menus_task = app.bot_data.pop(MENUS_KEY, None)
        if menus_task is not None and not menus_task.done():
            menus_task.cancel()
        health: HealthServer | None = app.bot_data.pop(HEALTH_KEY, None)
        if health is not None:
            await health.stop()
        notifier: Notifier | None = app.bot_data.pop(NOTIFIER_KEY, None)
        if notifier is not None:
            await notifier.close()
        alerts: OpsAlerts | None = app.bot_data.pop(ALERTS_KEY, None)
        if alerts is not None:
            await alerts.close()
        rt: Runtime | None = app.bot_data.pop(RUNTIME_KEY, None)
        if rt is not None:
            await rt.db.close()
        chart_pool.shutdown()  # each drawing worker finishes its chart and exits

    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api}/bot")
        .base_file_url(f"{api}/file/bot")
        .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .context_types(ContextTypes(context=KpuContext))
        .concurrent_updates(PerChatUpdateProcessor())
        .request(AiohttpRequest(proxy=proxy))
        .get_updates_request(PollingRequest(liveness, connection_pool_size=1, proxy=proxy))
        .local_mode(settings.TELEGRAM_LOCAL_MODE)
        .updater(None)  # updates are taken by the durable intake (`start_bot`), not PTB's Updater
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if rate_limiter:
        builder = builder.rate_limiter(TelegramRateLimiter(max_retries=flood_retries))
    app = builder.build()

    app.add_handler(TypeHandler(Update, bind_update_ids), group=-2)
    register(app)
    return app


async def start_bot(
    app: Application,
    *,
    poll_interval: float = POLL_INTERVAL_S,
    poll_timeout: int = POLL_TIMEOUT_S,
    allowed_updates: list[str] | None = None,
    webhook: dict[str, Any] | None = None,
) -> Intake:
    """Start a built application and its durable intake (`bot.telegram.intake`): storage and jobs
    (`post_init`), then the updates a previous run left unprocessed, then polling — or, with
    `webhook` (the keyword arguments of `Intake.start_webhook`), the webhook."""
    assert app.post_init is not None, "build_application sets post_init"
    await app.initialize()
    try:
        await app.post_init(app)
        await app.start()
        intake = Intake(
            app,
            app.bot_data[RUNTIME_KEY],
            allowed_updates=allowed_updates,
            poll_interval=poll_interval,
            poll_timeout=poll_timeout,
        )
        app.bot_data[INTAKE_KEY] = intake
        if webhook is None:
            await intake.start_polling()
        else:
            await intake.start_webhook(**webhook)
    except BaseException:
        await stop_bot(app)
        raise
    return intake


async def stop_bot(app: Application) -> None:
    """Undo `start_bot`: stop taking updates at once, let the application finish what it holds,
    then storage last. (`python -m bot run` bounds the middle step, `bot.__main__`.)"""
    intake: Intake | None = app.bot_data.pop(INTAKE_KEY, None)
    if intake is not None:
        await intake.stop()
    if app.running:
        await app.stop()
    if intake is not None:
        await intake.flush()
    await finish_stopping(app)


async def finish_stopping(app: Application) -> None:
    """The last steps of a stop: PTB's shutdown, then storage (`post_shutdown`)."""
    assert app.post_shutdown is not None, "build_application sets post_shutdown"
    with contextlib.suppress(RuntimeError):  # never initialized: nothing to shut down
        await app.shutdown()
    await app.post_shutdown(app)
