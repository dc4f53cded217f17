"""`GET /healthz` and `GET /metrics` on `HEALTH_LISTEN:HEALTH_PORT`, in both modes.

`/healthz` is 200 with a short JSON body while updates are being received and the database
answers, 503 with the reason otherwise. "Being received" means, in polling mode, that the last
getUpdates call succeeded less than `STALE_AFTER` seconds ago (a long poll returns at least every
`POLL_TIMEOUT_S`); in webhook mode the bot cannot see Telegram's side, so the webhook server being up
is what counts.

`/metrics` is Prometheus' text exposition format (version 0.0.4), written here in a few lines
rather than with `prometheus-client`: the figures are a dozen gauges and counters, half of them read
from the database at scrape time, and the client's process-global registry would need a custom
collector anyway and would clash between the many applications one test process builds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from aiohttp import web

from bot.services import operations
from bot.services.runtime import Runtime
from bot.telegram.http import AiohttpRequest
from bot.telegram.ops import COUNTERS

log = logging.getLogger(__name__)

STALE_AFTER = 45.0  # seconds without a successful getUpdates before /healthz says 503
DB_TIMEOUT = 5.0


@dataclass
class Liveness:
    """Whether updates are coming in: fed by the getUpdates request (`PollingRequest`)."""

    webhook: bool = False
    clock: Callable[[], float] = time.monotonic
    last_ok: float | None = None
    last_error: str | None = None
    started: float = field(default_factory=time.monotonic)

    def updates_ok(self) -> None:
        self.last_ok = self.clock()
        self.last_error = None

    def updates_failed(self, reason: str) -> None:
        self.last_error = reason

    def problem(self) -> str | None:
        """None while updates come in; otherwise why not, in one line."""
        if self.webhook:
            return None
        if self.last_error is not None:
            return f"getUpdates gagal: {self.last_error}"
        if self.last_ok is None:
            return "belum menerima update dari Bot API"
        age = self.clock() - self.last_ok
        if age > STALE_AFTER:
            return f"getUpdates terakhir berhasil {age:.0f} detik lalu"
        return None


class PollingRequest(AiohttpRequest):
    """The getUpdates client: tells `liveness` how each long poll went."""

    __slots__ = ("liveness",)

    def __init__(self, liveness: Liveness, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.liveness = liveness

    async def do_request(self, url: str, method: str, *args: object, **kwargs: object) -> tuple[int, bytes]:
        try:
            status, body = await super().do_request(url, method, *args, **kwargs)  # type: ignore[arg-type]
        except Exception as exc:
            if url.endswith("/getUpdates"):
                self.liveness.updates_failed(f"{type(exc).__name__}: {exc}")
            raise
        if url.endswith("/getUpdates"):
            if status == 200:
                self.liveness.updates_ok()
            else:
                self.liveness.updates_failed(f"HTTP {status}")
        return status, body


def _line(name: str, value: float, labels: dict[str, str] | None = None) -> str:
    label = ""
    if labels:
        label = "{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"
    return f"{name}{label} {value:g}"


def _family(name: str, kind: str, doc: str, samples: Iterable[str]) -> list[str]:
    return [f"# HELP {name} {doc}", f"# TYPE {name} {kind}", *samples]


def exposition(figures: operations.Figures, counters: dict[str, int], now: datetime) -> str:
    """The Prometheus text of the figures and counters."""
    oldest = (now - figures.outbox_oldest).total_seconds() if figures.outbox_oldest else 0.0
    lines = [
        *_family(
            "kpu_reports_received_total",
            "counter",
            "Reports received (/lapor), all time.",
            [_line("kpu_reports_received_total", figures.reports)],
        ),
        *_family(
            "kpu_incidents",
            "gauge",
            "Incidents by status.",
            [_line("kpu_incidents", n, {"status": s}) for s, n in sorted(figures.incidents_by_status.items())],
        ),
        *_family(
            "kpu_outbox_pending",
            "gauge",
            "Notifications waiting to be sent.",
            [_line("kpu_outbox_pending", figures.outbox_pending)],
        ),
        *_family(
            "kpu_outbox_oldest_pending_seconds",
            "gauge",
            "Age of the oldest notification waiting (0 when none).",
            [_line("kpu_outbox_oldest_pending_seconds", max(oldest, 0.0))],
        ),
        *_family(
            "kpu_outbox_given_up_total",
            "counter",
            "Notifications given up for good.",
            [_line("kpu_outbox_given_up_total", figures.outbox_failed)],
        ),
    ]
    for name, doc in (
        ("telegram_429", "Telegram flood-control answers (429 Too Many Requests) since start."),
        ("digests_sent", "Digests sent since start."),
        ("digests_given_up", "Digests given up since start."),
        ("handler_errors", "Errors while handling an update since start."),
        ("callbacks_answered_late", "Button presses handled but answered after Telegram's limit since start."),
    ):
        metric = f"kpu_{name}_total"
        lines += _family(metric, "counter", doc, [_line(metric, counters.get(name, 0))])
    return "\n".join(lines) + "\n"


class HealthServer:
    """The aiohttp server of `/healthz` and `/metrics` (started with the bot, stopped with it)."""

    def __init__(self, rt: Runtime, liveness: Liveness, host: str, port: int) -> None:
        self.rt = rt
        self.liveness = liveness
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        log.info("health and metrics on http://%s:%d/healthz and /metrics", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _database_problem(self) -> str | None:
        try:
            await asyncio.wait_for(operations.database_answers(self.rt), DB_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - any failure is the answer
            return f"basis data tidak menjawab: {type(exc).__name__}: {exc}"
        return None

    async def healthz(self, request: web.Request) -> web.Response:
        problem = self.liveness.problem() or await self._database_problem()
        body = {
            "status": "ok" if problem is None else "error",
            "mode": "webhook" if self.liveness.webhook else "polling",
        }
        if problem is not None:
            body["reason"] = problem
        return web.Response(
            text=json.dumps(body, ensure_ascii=False),
            status=200 if problem is None else 503,
            content_type="application/json",
        )

    async def metrics(self, request: web.Request) -> web.Response:
        try:
            figures = await asyncio.wait_for(operations.figures(self.rt), DB_TIMEOUT)
        except Exception as exc:  # noqa: BLE001
            return web.Response(text=f"basis data tidak menjawab: {exc}\n", status=503)
        text = exposition(figures, dict(COUNTERS), self.rt.clock())
        return web.Response(text=text, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
