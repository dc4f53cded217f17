"""HTTP layer: the Bot API routes on aiohttp, file downloads and webhook delivery.

Faithful to ``api.telegram.org``: ``/bot<token>/<method>`` accepts GET and POST with parameters in the
query string, ``application/x-www-form-urlencoded``, ``multipart/form-data`` (file parts are uploads)
or a JSON object body; method names are case-insensitive; every answer is JSON with ``ok`` and either
``result`` or ``error_code``/``description`` (+ ``parameters``), with the HTTP status equal to the error
code.  A malformed token or an unknown method gives 404 ``Not Found``, a well-formed unknown token
401 ``Unauthorized``.  Files are served at ``/file/bot<token>/<file_path>``.  Webhook delivery POSTs
each update as JSON (with ``X-Telegram-Bot-Api-Secret-Token`` when set) one at a time, in order, and
confirms it on a 2xx answer.

Simplified: webhook retries use a short fixed back-off instead of Telegram's growing one; answering
a webhook request with a method call in the response body is not supported.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from .errors import NOT_FOUND, UNAUTHORIZED, ApiError
from .files import MAX_DOCUMENT, FileStore
from .methods import BotApi
from .params import Params, Upload, json_arg
from .world import BotAccount, World

# api.telegram.org answers 404 for paths whose token is not "<digits>:<secret>" and 401 for unknown tokens
TOKEN_RE = re.compile(r"^[1-9]\d{0,19}:[^/\s]+$")


def _json_response(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=status,
        content_type="application/json",
    )


class ApiServer:
    """Builds the aiohttp application serving one :class:`BotApi`."""

    def __init__(self, api: BotApi, world: World, files: FileStore) -> None:
        self.api = api
        self.world = world
        self.files = files
        self.request_count = 0
        self.method_counts: dict[str, int] = {}

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_DOCUMENT + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self.handle_method)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self.handle_file)
        app.router.add_route("*", "/{tail:.*}", self.handle_unknown)
        return app

    async def handle_unknown(self, request: web.Request) -> web.Response:
        return _json_response(NOT_FOUND.payload(), 404)

    def _bot(self, token: str) -> BotAccount:
        if not TOKEN_RE.match(token):
            raise NOT_FOUND
        bot = self.world.bots_by_token.get(token)
        if bot is None:
            raise UNAUTHORIZED
        return bot

    async def handle_method(self, request: web.Request) -> web.Response:
        self.request_count += 1
        method = request.match_info["method"].lower()
        self.method_counts[method] = self.method_counts.get(method, 0) + 1
        try:
            bot = self._bot(request.match_info["token"])
            params = await read_params(request)
            result = await self.api.call(bot, method, params)
        except ApiError as exc:
            return _json_response(exc.payload(), exc.code)
        return _json_response({"ok": True, "result": result})

    async def handle_file(self, request: web.Request) -> web.Response:
        try:
            self._bot(request.match_info["token"])
        except ApiError as exc:
            return _json_response(exc.payload(), exc.code)
        stored = self.files.by_path(request.match_info["path"])
        if stored is None:
            return _json_response(NOT_FOUND.payload(), 404)
        return web.Response(body=stored.data, content_type="application/octet-stream")


async def read_params(request: web.Request) -> Params:
    """Collect parameters the way the official server does (query string first, then the body)."""
    args: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for key, value in request.query.items():
        args.setdefault(key, value)
    if request.body_exists:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                for key, value in body.items():
                    if value is not None:
                        args.setdefault(str(key), json_arg(value))
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for name, part in form.items():
                if isinstance(part, web.FileField):
                    files.setdefault(name, Upload(part.file.read(), part.filename, part.content_type))
                else:
                    args.setdefault(name, part if isinstance(part, str) else bytes(part).decode())
    return Params(args, files)


class WebhookSender:
    """Pushes updates of bots that set a webhook, one request at a time per bot."""

    def __init__(self, api: BotApi, world: World) -> None:
        self.api = api
        self.world = world
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.session: ClientSession | None = None
        self.retry_delay = 0.2

    def ensure(self, bot: BotAccount) -> None:
        task = self.tasks.get(bot.id)
        if task is None or task.done():
            self.tasks[bot.id] = asyncio.get_running_loop().create_task(self._run(bot))

    async def _run(self, bot: BotAccount) -> None:
        if self.session is None:
            self.session = ClientSession(timeout=ClientTimeout(total=60))
        while bot.webhook_url and not self.api.closing:
            if not bot.pending:
                await bot.updates_signal.wait(1.0)
                continue
            record = bot.pending[0]
            url = bot.webhook_url
            headers = {"Content-Type": "application/json"}
            if bot.webhook_secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = bot.webhook_secret
            if record.delivered_at is None:
                record.delivered_at = self.world.monotonic()
            try:
                async with self.session.post(url, data=json.dumps(record.json()), headers=headers) as resp:
                    ok = 200 <= resp.status < 300
                    error = f"Wrong response from the webhook: {resp.status} {resp.reason}"
            except Exception as exc:  # connection refused, timeouts, ...
                ok, error = False, f"Connection error: {exc.__class__.__name__}"
            if ok:
                if bot.pending and bot.pending[0] is record:
                    bot.pending.pop(0).confirmed_at = self.world.monotonic()
                    self.world.changed.fire()
            else:
                bot.webhook_last_error = (self.world.now(), error)
                await asyncio.sleep(self.retry_delay)

    async def close(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        for task in self.tasks.values():
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        self.tasks.clear()
        if self.session is not None:
            await self.session.close()
            self.session = None
