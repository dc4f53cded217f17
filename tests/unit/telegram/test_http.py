"""The aiohttp request backend (bot.telegram.http) against a small HTTP server on 127.0.0.1."""

import asyncio
import json
import socket

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.telegram.http import AiohttpRequest


@pytest.fixture
async def server():
    """A server that records what it receives; /hang answers only when the test lets it."""
    seen: list[dict] = []
    hang = asyncio.Event()

    async def echo(request: web.Request) -> web.Response:
        if request.content_type.startswith("multipart/"):
            fields = {}
            async for part in await request.multipart():
                body = await part.read()
                fields[part.name] = {
                    "filename": part.filename,
                    "type": part.headers.get("Content-Type"),
                    "body": body.decode("latin-1"),
                }
            seen.append({"multipart": fields})
        else:
            seen.append({"form": dict(await request.post()), "agent": request.headers.get("User-Agent")})
        return web.json_response({"ok": True, "result": True}, status=200)

    async def hanging(request: web.Request) -> web.Response:
        await hang.wait()
        return web.json_response({"ok": True})

    async def teapot(request: web.Request) -> web.Response:
        return web.json_response({"ok": False, "error_code": 418, "description": "no"}, status=418)

    app = web.Application()
    app.router.add_post("/echo", echo)
    app.router.add_post("/hang", hanging)
    app.router.add_post("/teapot", teapot)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - the port the OS chose
    yield f"http://127.0.0.1:{port}", seen
    hang.set()
    await runner.cleanup()


def data(**values) -> RequestData:
    return RequestData([RequestParameter.from_input(name, value) for name, value in values.items()])


async def test_form_fields_status_and_body(server):
    url, seen = server
    async with AiohttpRequest() as request:
        status, body = await request.do_request(f"{url}/echo", "POST", data(chat_id=5, text="Halo <b>Bali</b>"))
        assert (status, json.loads(body)) == (200, {"ok": True, "result": True})
        teapot, _ = await request.do_request(f"{url}/teapot", "POST", data(chat_id=5))
        assert teapot == 418  # PTB turns the status and body into its own error
    assert seen[0]["form"] == {"chat_id": "5", "text": "Halo <b>Bali</b>"}
    assert "python-telegram-bot" in seen[0]["agent"]


async def test_files_go_as_multipart_with_name_and_type(server):
    url, seen = server
    photo = InputFile(b"\x89PNG fake", filename="grafik logistik.png")
    async with AiohttpRequest() as request:
        status, _ = await request.do_request(f"{url}/echo", "POST", data(chat_id=7, photo=photo, caption="Ringkasan"))
    assert status == 200
    fields = seen[0]["multipart"]
    assert fields["chat_id"]["body"] == "7" and fields["caption"]["body"] == "Ringkasan"
    [file_field] = [f for f in fields.values() if f["filename"]]
    assert file_field["filename"] == "grafik logistik.png" and file_field["body"] == "\x89PNG fake"
    assert file_field["type"] == "image/png"


async def test_a_silent_server_is_timed_out(server):
    url, _ = server
    async with AiohttpRequest(read_timeout=0.2) as request:
        with pytest.raises(TimedOut):
            await request.do_request(f"{url}/hang", "POST", data(chat_id=1))


async def test_an_unreachable_server_is_a_network_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with AiohttpRequest() as request:
        with pytest.raises(NetworkError, match="aiohttp.ClientConnectorError"):
            await request.do_request(f"http://127.0.0.1:{port}/getMe", "POST")


async def test_only_an_initialized_request_sends_and_shutdown_closes():
    request = AiohttpRequest()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/getMe", "POST")
    await request.initialize()
    await request.shutdown()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request("http://127.0.0.1:9/getMe", "POST")
    assert AiohttpRequest(read_timeout=7.5).read_timeout == 7.5
    with pytest.raises(ValueError):
        AiohttpRequest(connection_pool_size=0)
