"""The HTTP client the bot talks to the Bot API with: aiohttp behind python-telegram-bot's
`BaseRequest` interface.

PTB's default client is httpx. Measured against the emulator on 127.0.0.1 (`bench/`), one Bot API
call costs about 1 ms of CPU through httpx and half that through aiohttp, whose HTTP parser is
compiled; every report costs one or two calls, so on election morning this is most of the bot's
own CPU. aiohttp is already a dependency (the emulator serves with it).

`AiohttpRequest` follows `telegram.request.HTTPXRequest`'s contract: the same default timeouts,
a connection pool, TLS certificates from `certifi` (as httpx), an outbound proxy given as
`proxy` (`TELEGRAM_PROXY_URL`; without it the usual `HTTPS_PROXY`, `NO_PROXY`, ... apply), file uploads as multipart/form-data, and
its failures as PTB's own errors (`TimedOut`, `NetworkError`), so the rest of the bot — the rate
limiter, retries, the outbox — sees no difference.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING

import aiohttp
import certifi
from telegram import Bot, User
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

if TYPE_CHECKING:  # PTB's own alias for "a value or DEFAULT_NONE", the type BaseRequest.do_request declares
    from telegram._utils.types import ODVInput


class AiohttpRequest(BaseRequest):
    """A PTB request backend on `aiohttp.ClientSession` (one session per instance).

    Timeouts, in seconds, as in `HTTPXRequest`: `connect_timeout` to open a connection,
    `pool_timeout` to wait for a free one when all `connection_pool_size` are busy, `read_timeout`
    between bytes of the answer, `write_timeout` (`media_write_timeout` with files) to send the
    request. aiohttp has no separate write timeout: a request that uploads is bounded as a whole
    by write + read timeout.
    """

    __slots__ = ("_connect", "_media_write", "_pool", "_pool_size", "_proxy", "_read", "_session", "_write")

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
        proxy: str | None = None,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._media_write = media_write_timeout
        self._proxy = proxy
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            tls = ssl.create_default_context(cafile=certifi.where())
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ssl=tls),
                headers={"User-Agent": self.USER_AGENT},
                trust_env=True,
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _timeout(
        self, files: bool, read: object, write: object, connect: object, pool: object
    ) -> aiohttp.ClientTimeout:
        def value(given: object, default: float | None) -> float | None:
            return default if given is BaseRequest.DEFAULT_NONE else given  # type: ignore[return-value]

        read_s = value(read, self._read)
        write_s = value(write, self._media_write if files else self._write)
        connect_s = value(connect, self._connect)
        pool_s = value(pool, self._pool)
        # waiting for a free connection and opening one are one budget in aiohttp
        acquire = None if connect_s is None or pool_s is None else connect_s + pool_s
        total = None
        if files and write_s is not None and read_s is not None:
            total = write_s + read_s
        return aiohttp.ClientTimeout(total=total, connect=acquire, sock_connect=connect_s, sock_read=read_s)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """See `BaseRequest.do_request`: (status code, body) of one HTTP request."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data and request_data.contains_files else None
        fields = request_data.json_parameters if request_data else None
        body: aiohttp.FormData | dict[str, str] | None = fields or None
        if files:
            form = aiohttp.FormData(quote_fields=False)  # names as written, like httpx
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (file_name, content, mime_type) in files.items():
                form.add_field(name, content, filename=file_name, content_type=mime_type)
            body = form
        timeout = self._timeout(bool(files), read_timeout, write_timeout, connect_timeout, pool_timeout)
        try:
            async with self._session.request(method, url, data=body, timeout=timeout, proxy=self._proxy) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's timeouts are TimeoutError (ServerTimeoutError too)
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


async def get_me(token: str, api_url: str, proxy: str | None = None) -> User:
    """The bot's own account (`getMe`), with clients that are closed whatever happens.

    PTB's `Bot.shutdown` does nothing when `initialize` failed (a rejected token, an unreachable
    server), which would leave aiohttp's sessions open; the command line checks the token with
    this before it starts the bot, so a bad start is one line and nothing left open."""
    requests = (
        AiohttpRequest(connection_pool_size=1, proxy=proxy),
        AiohttpRequest(connection_pool_size=1, proxy=proxy),
    )
    bot = Bot(
        token,
        base_url=f"{api_url}/bot",
        base_file_url=f"{api_url}/file/bot",
        request=requests[0],
        get_updates_request=requests[1],
    )
    try:
        await bot.initialize()
        return bot.bot
    finally:
        for request in requests:
            await request.shutdown()
