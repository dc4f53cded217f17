"""The Bot API emulator driven over real HTTP (aiohttp client), checked against Telegram's behaviour.

Expected texts and offsets come from Telegram itself (tdlib's parser and the Bot API server's error
wording); no test sleeps — waiting is done on the emulator's events or on long polls that return as
soon as an update arrives.
"""

from __future__ import annotations

import asyncio
import json
import struct
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from telegram import Update

from bot.emulator import (
    BotApiEmulator,
    BotHandle,
    NoMessageError,
    parse_html,
    parse_markdown_v2,
)
from bot.emulator.entities import entities_to_html, find_entities, utf16_len
from bot.emulator.errors import EntityParseError


def make_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = (b"\x00" + b"\x10\x80\xf0" * width) * height
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class Api:
    """Minimal Bot API client: the same encodings python-telegram-bot and other libraries use."""

    def __init__(self, session: aiohttp.ClientSession, emu: BotApiEmulator, bot: BotHandle) -> None:
        self.session = session
        self.emu = emu
        self.bot = bot

    @property
    def base(self) -> str:
        return f"{self.emu.url}/bot{self.bot.token}"

    async def raw(
        self, method: str, how: str = "json", files: dict[str, tuple[str, bytes]] | None = None, **params: Any
    ) -> tuple[int, dict[str, Any]]:
        url = f"{self.base}/{method}"
        if how == "json":
            response = await self.session.post(url, json=params)
        elif how == "query":
            response = await self.session.get(url, params={k: _form(v) for k, v in params.items()})
        elif how == "form":
            response = await self.session.post(url, data={k: _form(v) for k, v in params.items()})
        elif how == "multipart":
            form = aiohttp.FormData()
            for key, value in params.items():
                form.add_field(key, _form(value))
            for key, (filename, data) in (files or {}).items():
                form.add_field(key, data, filename=filename, content_type="application/octet-stream")
            response = await self.session.post(url, data=form)
        else:
            raise ValueError(how)
        async with response:
            return response.status, await response.json()

    async def ok(self, method: str, **params: Any) -> Any:
        status, body = await self.raw(method, **params)
        assert status == 200 and body["ok"] is True, body
        return body["result"]

    async def error(self, method: str, **params: Any) -> tuple[int, str]:
        status, body = await self.raw(method, **params)
        assert body["ok"] is False and body["error_code"] == status, body
        return status, body["description"]


def _form(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(seed=1) as emulator:
        yield emulator


@pytest.fixture
def bot(emu: BotApiEmulator) -> BotHandle:
    return emu.add_bot(username="kpu_koordinasi_bot", first_name="KPU Koordinasi")


@pytest.fixture
async def api(emu: BotApiEmulator, bot: BotHandle) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, emu, bot)


async def started_user(emu: BotApiEmulator, bot: BotHandle, api: Api, user_id: int = 1001, name: str = "Budi"):
    """A user who pressed START; the /start update is consumed so later assertions see only new ones."""
    user = emu.user(user_id, name)
    await user.send(bot, "/start")
    updates = await api.ok("getUpdates")
    await api.ok("getUpdates", offset=updates[-1]["update_id"] + 1)
    return user


# =============================================================================== transport & errors


async def test_token_and_method_errors(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    async with api.session.get(f"{emu.url}/bot{bot.token[:-1]}x/getMe") as response:
        assert response.status == 401
        assert await response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    async with api.session.get(f"{emu.url}/botnot-a-token/getMe") as response:
        assert response.status == 404
        assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    status, description = await api.error("sendMassage", chat_id=1, text="x")
    assert (status, description) == (404, "Not Found")


async def test_get_me_and_parameter_encodings(api: Api, bot: BotHandle) -> None:
    me = await api.ok("getMe")
    assert me == {
        "id": bot.id,
        "is_bot": True,
        "first_name": "KPU Koordinasi",
        "username": "kpu_koordinasi_bot",
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }
    assert bot.token.split(":")[0] == str(bot.id) and len(bot.token.split(":")[1]) == 35
    # method names are case-insensitive; GET with a query string works like POST
    assert await api.ok("GETME", how="query") == me
    assert await api.ok("getme", how="form") == me


async def test_same_request_in_every_encoding(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    await started_user(emu, bot, api)
    markup = {"inline_keyboard": [[{"text": "Ya", "callback_data": "y"}]]}
    results = []
    for how in ("json", "form", "query", "multipart"):
        results.append(
            await api.ok(
                "sendMessage",
                how=how,
                chat_id=1001,
                text="<b>tes</b>",
                parse_mode="HTML",
                reply_markup=markup,
            )
        )
    for result in results:
        assert result["text"] == "tes"
        assert result["entities"] == [{"offset": 0, "length": 3, "type": "bold"}]
        assert result["reply_markup"] == markup
    assert [r["message_id"] for r in results] == [2, 3, 4, 5]


async def test_bad_request_texts(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    await started_user(emu, bot, api)
    assert await api.error("sendMessage", chat_id=1001) == (400, "Bad Request: message text is empty")
    assert await api.error("sendMessage", text="x") == (400, "Bad Request: chat_id is empty")
    assert await api.error("sendMessage", chat_id=999, text="x") == (400, "Bad Request: chat not found")
    assert await api.error("sendMessage", chat_id=1001, text=" \n ") == (
        400,
        "Bad Request: text must be non-empty",
    )
    assert await api.error("sendMessage", chat_id=1001, text="x", parse_mode="bbcode") == (
        400,
        "Bad Request: unsupported parse_mode",
    )
    assert await api.error("sendMessage", chat_id=1001, text="<b>x", parse_mode="HTML") == (
        400,
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
    )
    assert await api.error("sendMessage", chat_id=1001, text="<foo>x</foo>", parse_mode="HTML") == (
        400,
        'Bad Request: can\'t parse entities: Unsupported start tag "foo" at byte offset 0',
    )
    assert await api.error("sendMessage", chat_id=1001, text="1 < 2", parse_mode="HTML") == (
        400,
        'Bad Request: can\'t parse entities: Unsupported start tag "" at byte offset 2',
    )
    assert await api.error("sendMessage", chat_id=1001, text="<b>a</i>", parse_mode="HTML") == (
        400,
        'Bad Request: can\'t parse entities: Unmatched end tag at byte offset 4, expected "</b>", found "</i>"',
    )
    assert await api.error("sendMessage", chat_id=1001, text="Versi 1.0", parse_mode="MarkdownV2") == (
        400,
        "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'",
    )
    assert await api.error("sendMessage", chat_id=1001, text="x", reply_parameters={"message_id": 99}) == (
        400,
        "Bad Request: message to be replied not found",
    )
    ok = await api.ok(
        "sendMessage",
        chat_id=1001,
        text="x",
        reply_parameters={"message_id": 99, "allow_sending_without_reply": True},
    )
    assert "reply_to_message" not in ok
    assert await api.error("editMessageText", chat_id=1001, message_id=99, text="y") == (
        400,
        "Bad Request: message to edit not found",
    )
    assert await api.error("answerCallbackQuery", callback_query_id="123") == (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    assert await api.error("getFile", file_id="nope") == (400, "Bad Request: invalid file_id")
    assert await api.error("sendChatAction", chat_id=1001, action="dancing") == (
        400,
        "Bad Request: wrong parameter action in request",
    )
    assert await api.ok("sendChatAction", chat_id=1001, action="typing") is True
    assert [a.action for a in emu.chat_actions(emu.private_chat(emu.user(1001, "Budi"), bot))] == ["typing"]


async def test_forbidden_texts(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    stranger = emu.user(2001, "Stranger")
    assert await api.error("sendMessage", chat_id=stranger.id, text="halo") == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    await stranger.send(bot, "/start")
    await api.ok("sendMessage", chat_id=stranger.id, text="halo")
    stranger.block(bot)
    assert await api.error("sendMessage", chat_id=stranger.id, text="halo") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    updates = await api.ok("getUpdates")
    blocked = updates[-1]["my_chat_member"]
    assert (blocked["old_chat_member"]["status"], blocked["new_chat_member"]["status"]) == (
        "member",
        "kicked",
    )

    admin = emu.user(2002, "Admin")
    group = emu.group("Grup Lama", members=[admin], announce=False)
    assert await api.error("sendMessage", chat_id=group.id, text="x") == (
        403,
        "Forbidden: bot is not a member of the group chat",
    )
    group.add_bot(bot, by=admin)
    await api.ok("sendMessage", chat_id=group.id, text="x")
    group.remove_bot(bot, by=admin)
    assert await api.error("sendMessage", chat_id=group.id, text="x") == (
        403,
        "Forbidden: bot was kicked from the group chat",
    )
    supergroup = emu.group("Super", members=[admin], supergroup=True, announce=False)
    assert await api.error("sendMessage", chat_id=supergroup.id, text="x") == (
        403,
        "Forbidden: bot is not a member of the supergroup chat",
    )


async def test_fault_injection_and_429_shape(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    await started_user(emu, bot, api)
    emu.fail_next("sendMessage", error_code=429, retry_after=7, times=2, chat_id=1001)
    for _ in range(2):
        status, body = await api.raw("sendMessage", chat_id=1001, text="x")
        assert status == 429
        assert body == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        }
    await api.ok("sendMessage", chat_id=1001, text="x")
    emu.fail_next("sendPhoto", error_code=400, description="Bad Request: PHOTO_INVALID_DIMENSIONS")
    assert await api.error("sendPhoto", chat_id=1001, photo="x") == (
        400,
        "Bad Request: PHOTO_INVALID_DIMENSIONS",
    )


async def test_flood_limits_when_enforced(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    user = await started_user(emu, bot, api)
    assert emu.enforce_flood_limits is False
    for _ in range(5):
        await api.ok("sendMessage", chat_id=user.id, text="tanpa batas")
    emu.enforce_flood_limits = True
    burst = emu.flood_limits.private_burst
    for _ in range(burst):
        await api.ok("sendMessage", chat_id=user.id, text="burst")
    status, body = await api.raw("sendMessage", chat_id=user.id, text="terlalu cepat")
    assert status == 429 and body["parameters"]["retry_after"] >= 1
    assert body["description"] == f"Too Many Requests: retry after {body['parameters']['retry_after']}"

    admin = emu.user(3001, "Admin")
    group = emu.group("Grup Ramai", members=[admin], bots=[bot], announce=False)
    for _ in range(emu.flood_limits.group_per_minute):
        await api.ok("sendMessage", chat_id=group.id, text="info")
    status, body = await api.raw("sendMessage", chat_id=group.id, text="satu lagi")
    assert status == 429 and 1 <= body["parameters"]["retry_after"] <= 60


# =============================================================================== formatting & limits


def test_html_parser_utf16_offsets() -> None:
    text, entities = parse_html("Pemilu 🗳️ <b>Bali</b> — <i>Déjà vu 😀</i> <a href='kpu.go.id'>KPU</a>")
    assert text == "Pemilu 🗳️ Bali — Déjà vu 😀 KPU"
    # 🗳️ is U+1F5F3 (2 UTF-16 units) + U+FE0F (1 unit); 😀 is 2 units
    assert entities == [
        {"offset": 11, "length": 4, "type": "bold"},
        {"offset": 18, "length": 10, "type": "italic"},
        {"offset": 29, "length": 3, "type": "text_link", "url": "http://kpu.go.id/"},
    ]
    assert utf16_len(text) == 32


def test_html_parser_like_telegram() -> None:
    assert parse_html("a &lt; b &amp;&amp; c &gt; d &quot;e&quot; &#128512; &#x41; &copy; & x") == (
        'a < b && c > d "e" 😀 A &copy; & x',
        [],
    )
    text, entities = parse_html(
        '<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler><u>u</u><ins>i</ins><s>s</s>'
        "<strike>k</strike><del>d</del><strong>b</strong><em>e</em><code>c</code>"
        '<pre><code class="language-python">p</code></pre><blockquote>q</blockquote>'
        '<blockquote expandable>x</blockquote><tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    assert text == "stuiskdbecpqx👍"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("spoiler", 0, 1),
        ("spoiler", 1, 1),
        ("underline", 2, 1),
        ("underline", 3, 1),
        ("strikethrough", 4, 1),
        ("strikethrough", 5, 1),
        ("strikethrough", 6, 1),
        ("bold", 7, 1),
        ("italic", 8, 1),
        ("code", 9, 1),
        ("pre", 10, 1),
        ("blockquote", 11, 1),
        ("expandable_blockquote", 12, 1),
        ("custom_emoji", 13, 2),
    ]
    assert entities[10]["language"] == "python"
    assert entities[13]["custom_emoji_id"] == "5368324170671202286"
    errors = {
        "🏟 🏟&lt;<abacaba": "Unclosed start tag at byte offset 13",
        "<span>x</span>": 'Tag "span" must have class "tg-spoiler" at byte offset 0',
        "</b>": "Unexpected end tag at byte offset 0",
        "<b>x</b   y>": "Unclosed end tag at byte offset 4",
        '<a href="x" =y>z</a>': 'Empty attribute name in the tag "a" at byte offset 0',
        "<tg-emoji emoji-id=abc>x</tg-emoji>": "Invalid custom emoji identifier specified",
    }
    for source, message in errors.items():
        with pytest.raises(EntityParseError) as info:
            parse_html(source)
        assert str(info.value) == message
    # empty elements give no entity; invalid links silently give none
    assert parse_html("<b></b>x<a href='not a url'>y</a>") == ("xy", [])


def test_markdown_v2_and_html_round_trip() -> None:
    text, entities = parse_markdown_v2(
        "*tebal* _miring_ __garis__ ~coret~ ||rahasia|| `kode` [KPU](https://kpu.go.id)\\!"
    )
    assert text == "tebal miring garis coret rahasia kode KPU!"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    html = '<b>Rekap <i>TPS 5</i></b> 😀 <a href="https://kpu.go.id/">link</a> <code>a&lt;b</code>'
    parsed_text, parsed_entities = parse_html(html)
    assert entities_to_html(parsed_text, parsed_entities) == html


async def test_text_limit_counts_characters_after_entity_parsing(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    await started_user(emu, bot, api)
    body = "ä" * 4096
    ok = await api.ok("sendMessage", chat_id=1001, text=f"<b>{body[:10]}</b>{body[10:]}", parse_mode="HTML")
    assert len(ok["text"]) == 4096
    assert await api.error("sendMessage", chat_id=1001, text=f"<b>{body}</b>x", parse_mode="HTML") == (
        400,
        "Bad Request: message is too long",
    )
    # Telegram counts Unicode characters for this limit (entity offsets stay UTF-16): 4096 emoji pass
    emoji = await api.ok("sendMessage", chat_id=1001, text="😀" * 4096)
    assert utf16_len(emoji["text"]) == 8192
    assert await api.error("sendMessage", chat_id=1001, text="😀" * 4097) == (
        400,
        "Bad Request: message is too long",
    )
    # surrounding whitespace is trimmed before counting, as Telegram does
    trimmed = await api.ok("sendMessage", chat_id=1001, text="\n  " + "a" * 4096 + "  \n")
    assert trimmed["text"] == "a" * 4096


async def test_caption_limit(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    await started_user(emu, bot, api)
    png = make_png(20, 10)
    ok = await api.ok(
        "sendPhoto",
        how="multipart",
        files={"photo": ("a.png", png)},
        chat_id=1001,
        caption="<i>" + "é" * 1024 + "</i>",
        parse_mode="HTML",
    )
    assert len(ok["caption"]) == 1024
    assert ok["caption_entities"] == [{"offset": 0, "length": 1024, "type": "italic"}]
    assert await api.error(
        "sendPhoto", how="multipart", files={"photo": ("a.png", png)}, chat_id=1001, caption="é" * 1025
    ) == (400, "Bad Request: message caption is too long")


async def test_callback_data_byte_limit_and_buttons(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    await started_user(emu, bot, api)

    def keyboard(data: str) -> dict[str, Any]:
        return {"inline_keyboard": [[{"text": "Pilih", "callback_data": data}]]}

    assert len(("é" * 32).encode()) == 64
    await api.ok("sendMessage", chat_id=1001, text="x", reply_markup=keyboard("é" * 32))
    assert await api.error("sendMessage", chat_id=1001, text="x", reply_markup=keyboard("é" * 32 + "a")) == (
        400,
        "Bad Request: BUTTON_DATA_INVALID",
    )
    assert await api.error(
        "sendMessage", chat_id=1001, text="x", reply_markup={"inline_keyboard": [[{"text": "Tanpa aksi"}]]}
    ) == (
        400,
        "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard",
    )
    assert await api.error(
        "sendMessage",
        chat_id=1001,
        text="x",
        reply_markup={"inline_keyboard": [[{"text": "Dua", "callback_data": "a", "url": "https://kpu.go.id"}]]},
    ) == (
        400,
        "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must have exactly one optional field",
    )
    assert await api.error(
        "sendMessage",
        chat_id=1001,
        text="x",
        reply_markup={"inline_keyboard": [[{"text": "Web", "url": "localhost"}]]},
    ) == (400, "Bad Request: inline keyboard button Wrong HTTP URL")
    admin = emu.user(3001, "Admin")
    group = emu.group("Grup", members=[admin], bots=[bot], announce=False)
    assert await api.error(
        "sendMessage",
        chat_id=group.id,
        text="Kirim lokasi",
        reply_markup={"keyboard": [[{"text": "📍 Lokasi", "request_location": True}]]},
    ) == (400, "Bad Request: location can be requested in private chats only")


async def test_edit_rules(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    user = await started_user(emu, bot, api)
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    sent = await api.ok("sendMessage", chat_id=1001, text="<b>Status</b>: baru", parse_mode="HTML", reply_markup=markup)
    same = dict(
        chat_id=1001,
        message_id=sent["message_id"],
        text="<b>Status</b>: baru",
        parse_mode="HTML",
        reply_markup=markup,
    )
    assert await api.error("editMessageText", **same) == (
        400,
        "Bad Request: message is not modified: specified new message content and reply markup are exactly "
        "the same as a current content and reply markup of the message",
    )
    status, description = await api.error(
        "editMessageReplyMarkup", chat_id=1001, message_id=sent["message_id"], reply_markup=markup
    )
    assert description.startswith("Bad Request: message is not modified")
    edited = await api.ok("editMessageText", **{**same, "text": "<b>Status</b>: selesai"})
    assert edited["text"] == "Status: selesai" and "edit_date" in edited
    assert edited["reply_markup"] == markup
    snapshot = await emu.next_edit(emu.private_chat(user, bot))
    assert snapshot.text == "Status: selesai"
    users_message = await user.send(bot, "pesan saya")
    assert await api.error("editMessageText", chat_id=1001, message_id=users_message.message_id, text="y") == (
        400,
        "Bad Request: message can't be edited",
    )
    photo = await api.ok("sendPhoto", how="multipart", files={"photo": ("p.png", make_png(4, 4))}, chat_id=1001)
    assert await api.error("editMessageText", chat_id=1001, message_id=photo["message_id"], text="y") == (
        400,
        "Bad Request: there is no text in the message to edit",
    )
    assert await api.error("editMessageCaption", chat_id=1001, message_id=sent["message_id"], caption="y") == (
        400,
        "Bad Request: there is no caption in the message to edit",
    )
    captioned = await api.ok("editMessageCaption", chat_id=1001, message_id=photo["message_id"], caption="Foto TPS")
    assert captioned["caption"] == "Foto TPS"
    assert await api.ok("deleteMessage", chat_id=1001, message_id=sent["message_id"]) is True
    assert await api.error("deleteMessage", chat_id=1001, message_id=sent["message_id"]) == (
        400,
        "Bad Request: message to delete not found",
    )
    assert all(m.message_id != sent["message_id"] for m in emu.bot_messages(emu.private_chat(user, bot)))


async def test_commands_per_scope(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    commands = [
        {"command": "lapor", "description": "Kirim laporan"},
        {"command": "/bantuan", "description": " Bantuan "},
    ]
    assert await api.ok("setMyCommands", commands=commands) is True
    assert await api.ok("getMyCommands") == [
        {"command": "lapor", "description": "Kirim laporan"},
        {"command": "bantuan", "description": "Bantuan"},
    ]
    await api.ok("setMyCommands", commands=commands[:1], scope={"type": "all_group_chats"}, language_code="id")
    assert await api.ok("getMyCommands", scope={"type": "all_group_chats"}) == []
    assert await api.ok("getMyCommands", scope={"type": "all_group_chats"}, language_code="id") == commands[:1]
    assert bot.commands("all_group_chats", "id") == commands[:1]
    await api.ok("deleteMyCommands")
    assert await api.ok("getMyCommands") == []
    bad = {
        "Lapor": "Bad Request: BOT_COMMAND_INVALID",
        "lapor-tps": "Bad Request: BOT_COMMAND_INVALID",
        "a" * 33: "Bad Request: command length must not exceed 32",
        "": "Bad Request: command must be non-empty",
    }
    for name, message in bad.items():
        assert await api.error("setMyCommands", commands=[{"command": name, "description": "x"}]) == (
            400,
            message,
        )
    assert await api.error("setMyCommands", commands=[{"command": "ok", "description": "d" * 257}]) == (
        400,
        "Bad Request: command description length must not exceed 256",
    )
    assert await api.error("setMyCommands", commands=[{"command": "ok", "description": "  "}]) == (
        400,
        "Bad Request: command description must be non-empty",
    )
    assert await api.ok("setMyCommands", commands=[{"command": "ok", "description": "d" * 256}]) is True


# =============================================================================== updates


async def test_get_updates_offset_limit_and_negative_offset(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    user = emu.user(1001, "Budi")
    for i in range(5):
        await user.send(bot, f"pesan {i}")
    first = await api.ok("getUpdates", limit=2)
    assert [u["message"]["text"] for u in first] == ["pesan 0", "pesan 1"]
    ids = [u["update_id"] for u in first]
    assert ids[1] == ids[0] + 1
    again = await api.ok("getUpdates", limit=2)  # nothing confirmed yet
    assert [u["update_id"] for u in again] == ids
    rest = await api.ok("getUpdates", offset=ids[1] + 1, limit=0)  # limit is clamped to 1..100
    assert [u["message"]["text"] for u in rest] == ["pesan 2"]
    assert bot.pending_updates == 3
    last = await api.ok("getUpdates", offset=-1)
    assert [u["message"]["text"] for u in last] == ["pesan 4"]
    assert bot.pending_updates == 1  # -1 forgot everything before the last update
    await api.ok("getUpdates", offset=last[0]["update_id"] + 1)
    assert bot.pending_updates == 0
    records = {r.update_id: r for r in bot.updates}
    assert records[ids[0]].delivered_at is not None and records[ids[0]].confirmed_at is not None
    assert bot.update_available_at(ids[0]) <= records[ids[0]].delivered_at


async def test_long_poll_wakes_up_on_update(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    user = emu.user(1001, "Budi")
    poll = asyncio.create_task(api.ok("getUpdates", timeout=10))
    await asyncio.sleep(0)  # let the request reach the server (a scheduling yield, not a delay)
    while bot.account.poll_generation == 0:
        await asyncio.sleep(0)
    started = time.monotonic()
    await user.send(bot, "bangun!")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 1.0
    assert updates[0]["message"]["text"] == "bangun!"


async def test_second_long_poll_terminates_first(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    first = asyncio.create_task(api.raw("getUpdates", timeout=10))
    while bot.account.poll_generation == 0:
        await asyncio.sleep(0)
    second = await api.raw("getUpdates", timeout=0)
    assert second == (200, {"ok": True, "result": []})
    status, body = await asyncio.wait_for(first, 2)
    assert status == 409
    assert body["description"] == (
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    )


async def test_stop_does_not_hang_on_long_poll(bot: BotHandle) -> None:
    emu = BotApiEmulator()
    await emu.start()
    bot = emu.add_bot("stop_test_bot", "Stop")
    async with aiohttp.ClientSession() as session:
        api = Api(session, emu, bot)
        poll = asyncio.create_task(api.raw("getUpdates", timeout=30))
        while bot.account.poll_generation == 0:
            await asyncio.sleep(0)
        started = time.monotonic()
        await emu.stop()
        assert time.monotonic() - started < 2.0
        status, body = await asyncio.wait_for(poll, 2)
        assert (status, body) == (200, {"ok": True, "result": []})


async def test_allowed_updates_are_remembered(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    user = emu.user(1001, "Budi")
    await api.ok("getUpdates", allowed_updates=["callback_query"])
    await user.send(bot, "/start")  # a message: filtered out when created
    assert await api.ok("getUpdates") == []  # allowed_updates omitted: the previous choice still applies
    await api.ok("getUpdates", allowed_updates=[])  # empty list: back to the default set
    await user.send(bot, "/start")
    updates = await api.ok("getUpdates")
    assert [list(u)[1] for u in updates] == ["message"]


async def test_updates_deserialize_in_ptb_without_unknown_fields(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    user = emu.user(1001, "Budi", "Santoso", "budi_ppk")
    await user.send(bot, "/start")
    await api.ok(
        "sendMessage",
        chat_id=user.id,
        text="Pilih",
        reply_markup={"inline_keyboard": [[{"text": "Ya", "callback_data": "ya"}]]},
    )
    message = emu.bot_messages(emu.private_chat(user, bot))[-1]
    await user.press(message, "ya")
    group = emu.group("PPS Kuta", members=[user], bots=[bot], supergroup=True, forum=True)
    group.create_topic("Logistik")
    await user.send_location(bot, -8.65, 115.21)
    updates = await api.ok("getUpdates")
    kinds = [next(k for k in u if k != "update_id") for u in updates]
    assert kinds == ["message", "callback_query", "my_chat_member", "message", "message", "message"]
    legacy = {"new_chat_participant", "new_chat_member"}
    for data in updates:
        update = Update.de_json(data, None)
        assert update is not None
        for obj in (update.message, update.callback_query, update.my_chat_member):
            if obj is not None:
                assert set(obj.api_kwargs) <= legacy, obj.api_kwargs
        if update.callback_query:
            assert update.callback_query.message.api_kwargs == {}
            assert update.callback_query.data == "ya"
    assert updates[3]["message"]["new_chat_members"][0]["id"] == bot.id
    assert updates[4]["message"]["forum_topic_created"]["name"] == "Logistik"
    assert updates[5]["message"]["location"] == {"latitude": -8.65, "longitude": 115.21}


# =============================================================================== groups & privacy


async def test_privacy_mode_delivery(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    other = emu.add_bot("lain_bot", "Lain")
    reader = emu.add_bot("pembaca_bot", "Pembaca", can_read_all_group_messages=True)
    ketut, komang = emu.user(1001, "Ketut"), emu.user(1002, "Komang")
    group = emu.group("PPK Ubud", members=[ketut, komang], bots=[bot, other, reader], announce=False)
    bot_message = await api.ok("sendMessage", chat_id=group.id, text="Silakan lapor")

    await ketut.send(group, "selamat pagi semua")  # plain chatter
    await ketut.send(group, "/lapor TPS 3 aman")  # unaddressed command
    await ketut.send(group, "/lapor@kpu_koordinasi_bot TPS 4")  # addressed to us
    await ketut.send(group, "/lapor@lain_bot TPS 5")  # addressed to another bot
    await komang.send(group, "siap", reply_to=bot_message["message_id"])  # reply to our message
    await komang.send(group, "tolong cek @kpu_koordinasi_bot")  # mention
    await komang.send(group, "lihat /lapor nanti")  # command not at the start
    group.add_member(emu.user(1003, "Nyoman"))  # service message

    updates = await api.ok("getUpdates")
    texts = [u["message"].get("text") or "new_chat_members" for u in updates]
    assert texts == [
        "/lapor TPS 3 aman",
        "/lapor@kpu_koordinasi_bot TPS 4",
        "siap",
        "tolong cek @kpu_koordinasi_bot",
        "new_chat_members",
    ]
    assert updates[2]["message"]["reply_to_message"]["message_id"] == bot_message["message_id"]
    assert "reply_to_message" not in updates[2]["message"]["reply_to_message"]
    assert [u.payload.get("text") for u in other.account.pending][:2] == [
        "/lapor TPS 3 aman",
        "/lapor@lain_bot TPS 5",
    ]
    assert len(reader.account.pending) == 8  # privacy disabled: everything except bot messages
    # our bot's own message reached no one: bots never see other bots' messages
    assert all(u.payload.get("text") != "Silakan lapor" for u in reader.account.pending)


async def test_admin_bot_sees_everything_and_membership_updates(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    admin = emu.user(1001, "Admin")
    group = emu.group("Sekretariat", members=[admin], bots=[bot])
    updates = await api.ok("getUpdates")
    assert updates[0]["my_chat_member"]["new_chat_member"]["status"] == "member"
    assert updates[0]["my_chat_member"]["from"]["id"] == admin.id
    assert updates[1]["message"]["group_chat_created"] is True
    assert updates[1]["message"]["chat"] == {"id": group.id, "title": "Sekretariat", "type": "group"}
    await api.ok("getUpdates", offset=updates[-1]["update_id"] + 1)
    group.promote_bot(bot, by=admin)
    await admin.send(group, "obrolan biasa")
    updates = await api.ok("getUpdates")
    assert updates[0]["my_chat_member"]["new_chat_member"]["status"] == "administrator"
    assert updates[1]["message"]["text"] == "obrolan biasa"
    member = await api.ok("getChatMember", chat_id=group.id, user_id=bot.id)
    assert member["status"] == "administrator" and member["can_delete_messages"] is True
    info = await api.ok("getChat", chat_id=group.id)
    assert info["type"] == "group" and "accent_color_id" in info and "max_reaction_count" in info
    assert await api.ok("leaveChat", chat_id=group.id) is True
    assert await api.error("sendMessage", chat_id=group.id, text="x") == (
        403,
        "Forbidden: bot is not a member of the group chat",
    )


def test_bot_command_entities() -> None:
    def commands(text: str) -> list[str]:
        units = text.encode("utf-16-le")
        return [
            units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le")
            for e in find_entities(text)
            if e["type"] == "bot_command"
        ]

    assert commands("/start") == ["/start"]
    assert commands("/lapor@kpu_koordinasi_bot TPS 3, lalu /rekap") == ["/lapor@kpu_koordinasi_bot", "/rekap"]
    assert commands("😀 /mulai sekarang") == ["/mulai"]
    assert commands("a/b http://x.com/path /ok/no /x1_y") == ["/x1_y"]
    assert commands("/cmd@ab /cmd@bot_name_that_is_long_ok /Ünicode") == ["/cmd@bot_name_that_is_long_ok"]
    entities = find_entities("😀 /mulai")
    assert entities == [{"offset": 3, "length": 6, "type": "bot_command"}]
    kinds = [
        e["type"] for e in find_entities("Hubungi @admin_kpu atau budi@kpu.go.id, lihat kpu.go.id #Pemilu2024 $IDR")
    ]
    assert kinds == ["mention", "email", "url", "hashtag", "cashtag"]


async def test_forum_topics(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    admin = emu.user(1001, "Admin")
    forum = emu.group("KPU Bali", members=[admin], bots=[bot], supergroup=True, forum=True, announce=False)
    assert forum.id < -1_000_000_000_000 and str(forum.id).startswith("-100")
    topic = forum.create_topic("Insiden")
    assert topic > 0
    sent = await api.ok("sendMessage", chat_id=forum.id, text="Laporan insiden", message_thread_id=topic)
    assert sent["message_thread_id"] == topic and sent["is_topic_message"] is True
    general = await api.ok("sendMessage", chat_id=forum.id, text="Umum")
    assert "message_thread_id" not in general and "is_topic_message" not in general
    for bad_thread in (1, 999):
        assert await api.error("sendMessage", chat_id=forum.id, text="x", message_thread_id=bad_thread) == (
            400,
            "Bad Request: message thread not found",
        )
    assert (await emu.next_message(forum, thread_id=0)).text == "Umum"
    assert (await emu.next_message(forum, thread_id=topic)).text == "Laporan insiden"
    await admin.send(forum, "/rekap", thread_id=topic)
    updates = await api.ok("getUpdates")
    assert updates[-1]["message"]["message_thread_id"] == topic
    # a reply to a topic message stays in the topic
    reply = await api.ok(
        "sendMessage",
        chat_id=forum.id,
        text="diterima",
        reply_parameters={"message_id": updates[-1]["message"]["message_id"]},
    )
    assert reply["message_thread_id"] == topic
    assert await api.error("createForumTopic", chat_id=forum.id, name="Logistik") == (
        400,
        "Bad Request: not enough rights to create a topic",
    )
    forum.promote_bot(bot, by=admin, can_manage_topics=True)
    created = await api.ok("createForumTopic", chat_id=forum.id, name="Logistik")
    assert created["name"] == "Logistik" and created["message_thread_id"] in forum.topics
    with pytest.raises(NoMessageError):
        await emu.next_message(forum, thread_id=created["message_thread_id"], timeout=0.05)


# =============================================================================== files


async def test_upload_get_file_download_round_trip(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    await started_user(emu, bot, api)
    png = make_png(1600, 900)
    sent = await api.ok(
        "sendPhoto",
        how="multipart",
        files={"photo": ("grafik.png", png)},
        chat_id=1001,
        caption="Grafik #rekap",
    )
    sizes = sent["photo"]
    assert [(s["width"], s["height"]) for s in sizes] == [
        (90, 51),
        (320, 180),
        (800, 450),
        (1280, 720),
        (1600, 900),
    ]
    assert len({s["file_id"] for s in sizes}) == 5 and all(s["file_unique_id"] for s in sizes)
    assert sent["caption_entities"] == [{"offset": 7, "length": 6, "type": "hashtag"}]
    file = await api.ok("getFile", file_id=sizes[-1]["file_id"])
    assert file["file_path"].startswith("photos/") and file["file_size"] == len(png)
    async with api.session.get(f"{emu.url}/file/bot{bot.token}/{file['file_path']}") as response:
        assert response.status == 200
        assert await response.read() == png
    async with api.session.get(f"{emu.url}/file/bot{bot.token}/photos/missing.jpg") as response:
        assert response.status == 404

    # re-send by file_id, upload a document, and refuse what Telegram refuses
    again = await api.ok("sendPhoto", chat_id=1001, photo=sizes[-1]["file_id"])
    assert again["photo"][-1]["file_id"] == sizes[-1]["file_id"]
    doc = await api.ok(
        "sendDocument", how="multipart", files={"document": ("rekap.csv", b"tps,suara\n1,10\n")}, chat_id=1001
    )
    assert doc["document"]["file_name"] == "rekap.csv" and doc["document"]["mime_type"] == "text/csv"
    doc_file = await api.ok("getFile", file_id=doc["document"]["file_id"])
    async with api.session.get(f"{emu.url}/file/bot{bot.token}/{doc_file['file_path']}") as response:
        assert await response.read() == b"tps,suara\n1,10\n"
    assert await api.error("sendPhoto", how="multipart", files={"photo": ("x.png", b"not an image")}, chat_id=1001) == (
        400,
        "Bad Request: IMAGE_PROCESS_FAILED",
    )
    assert await api.error(
        "sendPhoto", how="multipart", files={"photo": ("x.png", make_png(2100, 100))}, chat_id=1001
    ) == (400, "Bad Request: PHOTO_INVALID_DIMENSIONS")
    assert await api.error("sendPhoto", chat_id=1001, photo=doc["document"]["file_id"]) == (
        400,
        "Bad Request: can't use file of type Document as Photo",
    )
    assert await api.error("sendPhoto", chat_id=1001) == (
        400,
        "Bad Request: there is no photo in the request",
    )


async def test_user_photo_reaches_bot_and_is_downloadable(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    user = emu.user(1001, "Budi")
    png = make_png(640, 480)
    await user.send_photo(bot, png, caption="/foto TPS 7 😀")
    updates = await api.ok("getUpdates")
    message = updates[0]["message"]
    assert message["caption"] == "/foto TPS 7 😀"
    assert message["caption_entities"] == [{"offset": 0, "length": 5, "type": "bot_command"}]
    file = await api.ok("getFile", file_id=message["photo"][-1]["file_id"])
    async with api.session.get(f"{emu.url}/file/bot{bot.token}/{file['file_path']}") as response:
        assert await response.read() == png


async def test_media_group(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    await started_user(emu, bot, api)
    media = [
        {"type": "photo", "media": "attach://satu", "caption": "<b>TPS 1</b>", "parse_mode": "HTML"},
        {"type": "photo", "media": "attach://dua", "caption": "TPS 2"},
    ]
    files = {"satu": ("1.png", make_png(30, 20)), "dua": ("2.png", make_png(20, 30))}
    messages = await api.ok("sendMediaGroup", how="multipart", files=files, chat_id=1001, media=media)
    assert len(messages) == 2
    assert messages[0]["media_group_id"] == messages[1]["media_group_id"]
    assert messages[0]["caption"] == "TPS 1" and messages[0]["caption_entities"][0]["type"] == "bold"
    assert messages[1]["photo"][-1]["height"] == 30
    assert [m.caption for m in emu.bot_messages(emu.private_chat(emu.user(1001, "Budi"), bot))] == [
        "TPS 1",
        "TPS 2",
    ]
    assert await api.error("sendMediaGroup", how="multipart", files=files, chat_id=1001, media=media[:1]) == (
        400,
        "Bad Request: media group must contain 2-10 items",
    )
    assert await api.error("sendMediaGroup", how="multipart", files=files, chat_id=1001, media=media * 6) == (
        400,
        "Bad Request: too many messages to send as an album",
    )
    mixed = [media[0], {"type": "document", "media": "attach://dua"}]
    assert await api.error("sendMediaGroup", how="multipart", files=files, chat_id=1001, media=mixed) == (
        400,
        "Bad Request: document can't be mixed with other media types",
    )
    missing = [media[0], {"type": "photo", "media": "attach://tiga"}]
    assert await api.error("sendMediaGroup", how="multipart", files=files, chat_id=1001, media=missing) == (
        400,
        "Bad Request: can't parse InputMedia: media not found",
    )


# =============================================================================== user side


async def test_press_and_answer_callback_query(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    user = await started_user(emu, bot, api)
    sent = await api.ok(
        "sendMessage",
        chat_id=user.id,
        text="Konfirmasi?",
        reply_markup={
            "inline_keyboard": [[{"text": "Ya", "callback_data": "ya"}, {"text": "Tidak", "callback_data": "tidak"}]]
        },
    )
    message = await emu.next_message(emu.private_chat(user, bot))
    assert message.callback_data == ["ya", "tidak"]
    with pytest.raises(ValueError, match="no button"):
        await user.press(message, "mungkin")
    press = await user.press(message, "tidak")
    updates = await api.ok("getUpdates")
    query = updates[0]["callback_query"]
    assert query["data"] == "tidak" and query["from"]["id"] == user.id
    assert query["message"]["message_id"] == sent["message_id"] and query["chat_instance"]
    assert (
        await api.ok("answerCallbackQuery", callback_query_id=query["id"], text="Dibatalkan", show_alert=True) is True
    )
    answer = await press.answer(timeout=1)
    assert (answer.text, answer.show_alert) == ("Dibatalkan", True)
    assert await api.error("answerCallbackQuery", callback_query_id=query["id"]) == (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )
    emu.callback_query_ttl = 0.0
    late = await user.press(message, "ya")
    assert await api.error("answerCallbackQuery", callback_query_id=late.id) == (
        400,
        "Bad Request: query is too old and response timeout expired or query ID is invalid",
    )


async def test_next_message_order_and_timeout_message(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    user = await started_user(emu, bot, api)
    chat = emu.private_chat(user, bot)
    for text in ("satu", "dua", "tiga"):
        await api.ok("sendMessage", chat_id=user.id, text=text)
    assert [(await emu.next_message(chat)).text for _ in range(3)] == ["satu", "dua", "tiga"]
    with pytest.raises(NoMessageError) as info:
        await emu.next_message(chat, timeout=0.05)
    assert "satu" in str(info.value) and isinstance(info.value, asyncio.TimeoutError)
    assert [m.text for m in emu.messages(chat)] == ["/start", "satu", "dua", "tiga"]
    seen = []
    emu.on_bot_message = seen.append
    await api.ok("sendMessage", chat_id=user.id, text="empat")
    assert [m.text for m in seen] == ["empat"]


async def test_entities_parameter(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    user = await started_user(emu, bot, api)
    text = "Halo 😀 Budi, cek kpu.go.id"
    sent = await api.ok(
        "sendMessage",
        chat_id=user.id,
        text=text,
        entities=[
            {"type": "bold", "offset": 5, "length": 2},  # the emoji: 2 UTF-16 units
            {"type": "text_link", "offset": 8, "length": 4, "url": "https://kpu.go.id"},
            {"type": "url", "offset": 0, "length": 4},  # automatic kinds are ignored...
            {
                "type": "text_mention",
                "offset": 0,
                "length": 4,
                "user": {"id": user.id, "is_bot": False, "first_name": "Budi"},
            },
        ],
    )
    assert sent["entities"] == [
        {
            "offset": 0,
            "length": 4,
            "type": "text_mention",
            "user": {"id": user.id, "is_bot": False, "first_name": "Budi"},
        },
        {"offset": 5, "length": 2, "type": "bold"},
        {"offset": 8, "length": 4, "type": "text_link", "url": "https://kpu.go.id/"},
        {"offset": 18, "length": 9, "type": "url"},  # ...and re-detected by Telegram
    ]
    assert await api.error(
        "sendMessage", chat_id=user.id, text="abc", entities=[{"type": "bold", "offset": 1, "length": 5}]
    ) == (
        400,
        "Bad Request: entity beginning at UTF-16 offset 1 ends after the end of the text at UTF-16 offset 6",
    )
    assert await api.error(
        "sendMessage", chat_id=user.id, text="a😀", entities=[{"type": "bold", "offset": 2, "length": 1}]
    ) == (400, "Bad Request: entity begins in a middle of a UTF-16 symbol at byte offset 5")
    # parse_mode wins over entities, as on Telegram
    both = await api.ok(
        "sendMessage",
        chat_id=user.id,
        text="<i>x</i>",
        parse_mode="HTML",
        entities=[{"type": "bold", "offset": 0, "length": 1}],
    )
    assert both["entities"] == [{"offset": 0, "length": 1, "type": "italic"}]


async def test_webhook_delivery(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    received: asyncio.Queue[tuple[str | None, dict[str, Any]]] = asyncio.Queue()
    answers = [500, 200, 200]

    async def hook(request: aiohttp.web.Request) -> aiohttp.web.Response:
        await received.put((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        return aiohttp.web.Response(status=answers.pop(0))

    app = aiohttp.web.Application()
    app.router.add_post("/hook", hook)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001
    try:
        assert await api.error("setWebhook", url="http://example.com/hook") == (
            400,
            "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
        )
        assert await api.ok("setWebhook", url=f"http://127.0.0.1:{port}/hook", secret_token="rahasia") is True
        assert await api.error("getUpdates") == (
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
        user = emu.user(1001, "Budi")
        await user.send(bot, "/start")
        first = await asyncio.wait_for(received.get(), 2)  # answered 500: Telegram retries
        second = await asyncio.wait_for(received.get(), 2)
        assert first == second and first[0] == "rahasia"
        assert first[1]["message"]["text"] == "/start"
        await emu.wait_confirmed(bot, timeout=2)
        info = await api.ok("getWebhookInfo")
        assert info["url"] == f"http://127.0.0.1:{port}/hook" and info["pending_update_count"] == 0
        assert info["last_error_message"] == "Wrong response from the webhook: 500 Internal Server Error"
        assert await api.ok("deleteWebhook") is True
        assert await api.ok("getUpdates") == []
    finally:
        await runner.cleanup()


async def test_user_edits_and_chat_lookup_by_user_id(emu: BotApiEmulator, bot: BotHandle, api: Api) -> None:
    user = await started_user(emu, bot, api)
    typo = await user.send(bot, "/lapor TPS 3 amna")
    fixed = await user.edit(typo, "/lapor TPS 3 aman")
    assert fixed.edit_date is not None
    updates = await api.ok("getUpdates")
    assert [next(k for k in u if k != "update_id") for u in updates] == ["message", "edited_message"]
    assert updates[1]["edited_message"]["text"] == "/lapor TPS 3 aman"
    assert updates[1]["edited_message"]["message_id"] == typo.message_id
    await api.ok("sendMessage", chat_id=user.id, text="Laporan diperbarui")
    assert (await emu.next_message(user.id)).text == "Laporan diperbarui"  # a user id means the private chat
    with pytest.raises(ValueError, match="own text messages"):
        await user.edit(emu.bot_messages(user.id)[-1], "bukan pesan saya")


def test_legacy_markdown() -> None:
    from bot.emulator import parse_markdown

    text, entities = parse_markdown("*Rekap* _TPS_ `C1` [KPU](https://kpu.go.id) ```py\nprint(1)```")
    assert text == "Rekap TPS C1 KPU print(1)"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("bold", 0, 5),
        ("italic", 6, 3),
        ("code", 10, 2),
        ("text_link", 13, 3),
        ("pre", 17, 8),
    ]
    assert entities[4]["language"] == "py"
    assert entities_to_html(text, entities) == (
        '<b>Rekap</b> <i>TPS</i> <code>C1</code> <a href="https://kpu.go.id/">KPU</a> '
        '<pre><code class="language-py">print(1)</code></pre>'
    )
    with pytest.raises(EntityParseError, match="Can't find end of the entity starting at byte offset 2"):
        parse_markdown("a *b")
