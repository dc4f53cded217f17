"""A real python-telegram-bot Application talking HTTP to the emulator.

Each test builds an Application with ``base_url``/``base_file_url`` pointed at the emulator, starts it
with polling (1 s long polls, so shutdown is quick), acts as users and waits for the bot's effects with
event-driven helpers — no sleeps.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
    Update,
)
from telegram.error import BadRequest, Forbidden, RetryAfter
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.emulator import BotApiEmulator, BotHandle


def make_png(width: int, height: int, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid truecolour PNG built with zlib/struct only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + bytes(rgb) * width
    raw = row * height
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def assert_no_unknown_fields(obj: object, path: str = "update") -> None:
    """Every field the emulator sends must be one python-telegram-bot knows (no invented fields)."""
    legacy = {
        "new_chat_participant",
        "new_chat_member",
        "left_chat_participant",
        "forward_from",
        "forward_date",
    }
    if isinstance(obj, TelegramObject):
        unknown = set(obj.api_kwargs) - legacy
        assert not unknown, f"{path} has fields PTB does not know: {unknown}"
        for name in obj.__slots__ if hasattr(obj, "__slots__") else ():
            if name.startswith("_"):
                continue
            assert_no_unknown_fields(getattr(obj, name, None), f"{path}.{name}")
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            assert_no_unknown_fields(item, f"{path}[{i}]")


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator(seed=7) as emulator:
        yield emulator


@pytest.fixture
def bot(emu: BotApiEmulator) -> BotHandle:
    return emu.add_bot(username="kpu_koordinasi_bot", first_name="KPU Koordinasi")


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def build_app(emu: BotApiEmulator, bot: BotHandle, *, rate_limiter: bool = False) -> Application:
    builder = ApplicationBuilder().token(bot.token).base_url(f"{emu.url}/bot").base_file_url(f"{emu.url}/file/bot")
    if rate_limiter:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=2))
    return builder.build()


@pytest.fixture
async def running() -> AsyncIterator[Callable[[Application], Awaitable[Application]]]:
    """Start applications with polling; stop them in reverse order at teardown."""
    started: list[Application] = []

    async def start(app: Application) -> Application:
        await app.initialize()
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        started.append(app)
        return app

    yield start
    for app in reversed(started):
        assert app.updater is not None
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        "Kamu bilang: <b>" + " ".join(context.args or []) + "</b>",
        parse_mode="HTML",
        do_quote=True,
        reply_markup=InlineKeyboardMarkup(
            [
                [InlineKeyboardButton("Setuju ✅", callback_data="vote:yes")],
                [InlineKeyboardButton("Situs KPU", url="https://kpu.go.id")],
            ]
        ),
    )


async def on_vote(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    await query.answer(f"Terima kasih, pilihan {query.data.split(':')[1]} dicatat", show_alert=True)
    await query.edit_message_text("Pilihan dicatat.")


async def test_command_echo_and_button_round_trip(emu: BotApiEmulator, bot: BotHandle, running) -> None:
    app = build_app(emu, bot)
    app.add_handler(CommandHandler("echo", echo))
    app.add_handler(CallbackQueryHandler(on_vote, pattern="^vote:"))
    await running(app)
    assert app.bot.username == "kpu_koordinasi_bot"

    budi = emu.user(1001, "Budi", username="budi_ppk")
    chat = emu.private_chat(budi, bot)
    sent = await budi.send(bot, "/echo halo")
    reply = await emu.next_message(chat)

    assert reply.text == "Kamu bilang: halo"
    assert reply.html == "Kamu bilang: <b>halo</b>"
    assert reply.entities == ({"offset": 13, "length": 4, "type": "bold"},)
    assert reply.reply_to_message_id == sent.message_id
    assert reply.buttons == [
        [("Setuju ✅", "vote:yes")],
        [("Situs KPU", "https://kpu.go.id/")],
    ]

    press = await budi.press(reply, "vote:yes")
    answer = await press.answer(timeout=3)
    assert answer.show_alert is True
    assert answer.text == "Terima kasih, pilihan yes dicatat"
    edited = await emu.next_edit(chat)
    assert edited.message_id == reply.message_id
    assert edited.text == "Pilihan dicatat."
    assert edited.buttons == []  # editing without reply_markup removes the keyboard, as on Telegram
    assert edited.edit_date is not None

    with pytest.raises(ValueError):
        await budi.press(reply, "vote:no")


async def test_updates_parse_cleanly_in_ptb(emu: BotApiEmulator, bot: BotHandle, running) -> None:
    """Everything the bot receives de-serialises without unknown fields or warnings."""
    seen: list[Update] = []

    async def record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)
        assert update.effective_message is not None
        await update.effective_message.reply_text(f"got {len(seen)}")  # stays in the message's topic

    app = build_app(emu, bot)
    app.add_handler(MessageHandler(filters.ALL, record))
    await running(app)

    siti = emu.user(1002, "Siti", "Rahma", username="siti_kpps")
    group = emu.group("PPK Denpasar Barat", members=[siti], bots=[bot], supergroup=True, forum=True)
    topic = group.create_topic("Logistik")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        await siti.send(bot, "halo 👋 https://kpu.go.id #pemilu")
        await emu.next_message(emu.private_chat(siti, bot))
        await siti.send(group, "/lapor@kpu_koordinasi_bot kotak suara tiba", thread_id=topic)
        in_topic = await emu.next_message(group, thread_id=topic)
        await siti.send_photo(bot, make_png(64, 48), caption="/foto TPS 5")
        await emu.next_message(emu.private_chat(siti, bot))

    assert in_topic.thread_id == topic
    assert in_topic.raw["is_topic_message"] is True
    for update in seen:
        assert_no_unknown_fields(update)
    topic_update = next(
        u
        for u in seen
        if u.effective_message and u.effective_message.message_thread_id == topic and u.effective_message.text
    )
    assert topic_update.effective_message.is_topic_message is True
    entity_types = [e.type for e in topic_update.effective_message.entities]
    assert entity_types == ["bot_command"]
    photo_update = seen[-1]
    assert photo_update.effective_message.photo[-1].width == 64
    assert photo_update.effective_message.caption_entities[0].type == "bot_command"


async def test_bot_sends_photo_and_test_reads_it_back(emu: BotApiEmulator, bot: BotHandle, running) -> None:
    png = make_png(320, 200, (10, 120, 200))

    async def chart(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_photo(update.effective_chat.id, png, caption="<i>Rekap</i> suara", parse_mode="HTML")

    app = build_app(emu, bot)
    app.add_handler(CommandHandler("rekap", chart))
    await running(app)

    ayu = emu.user(1003, "Ayu")
    await ayu.send(bot, "/rekap")
    photo = await emu.next_message(emu.private_chat(ayu, bot))
    assert photo.photo_bytes == png
    assert photo.photo_size == (320, 200)
    assert photo.caption == "Rekap suara"
    assert photo.caption_entities == ({"offset": 0, "length": 5, "type": "italic"},)
    sizes = [(p["width"], p["height"]) for p in photo.raw["photo"]]
    assert sizes == [(90, 56), (320, 200)]

    # the bot itself can download what it sent through getFile + the file endpoint
    message = Message.de_json(photo.raw, app.bot)
    assert message is not None
    telegram_file = await message.photo[-1].get_file()
    assert telegram_file.file_path is not None and telegram_file.file_path.startswith(f"{emu.url}/file/bot")
    assert bytes(await telegram_file.download_as_bytearray()) == png


async def test_user_upload_downloaded_by_bot(emu: BotApiEmulator, bot: BotHandle, running) -> None:
    received: dict[str, bytes] = {}

    async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.document is not None
        tg_file = await message.document.get_file()
        received[message.document.file_name or ""] = bytes(await tg_file.download_as_bytearray())
        await message.reply_text(f"Berkas {message.document.file_name} diterima ({message.document.mime_type})")

    app = build_app(emu, bot)
    app.add_handler(MessageHandler(filters.Document.ALL, on_document))
    await running(app)

    dewa = emu.user(1004, "Dewa")
    await dewa.send_document(bot, b"%PDF-1.4 formulir C1", "c1_tps5.pdf", caption="Formulir C1")
    reply = await emu.next_message(emu.private_chat(dewa, bot))
    assert reply.text == "Berkas c1_tps5.pdf diterima (application/pdf)"
    assert received == {"c1_tps5.pdf": b"%PDF-1.4 formulir C1"}


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_errors_surface_as_ptb_exceptions(emu: BotApiEmulator, bot: BotHandle) -> None:
    app = build_app(emu, bot)
    await app.initialize()
    try:
        stranger = emu.user(2001, "Stranger")
        with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
            await app.bot.send_message(stranger.id, "halo")
        await stranger.send(bot, "/start")
        info = await app.bot.get_chat(stranger.id)
        assert (info.type, info.first_name) == ("private", "Stranger")
        assert_no_unknown_fields(info, "chat")
        with pytest.raises(BadRequest, match="(?i)can't find end tag corresponding to start tag"):
            await app.bot.send_message(stranger.id, "<b>halo", parse_mode="HTML")
        with pytest.raises(BadRequest, match="Chat not found"):
            await app.bot.send_message(-100123, "halo")
        emu.fail_next("sendMessage", error_code=429, retry_after=3)
        with pytest.raises(RetryAfter) as info:
            await app.bot.send_message(stranger.id, "halo")
        assert info.value.retry_after == 3
    finally:
        await app.shutdown()


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_aio_rate_limiter_retries_after_429(emu: BotApiEmulator, bot: BotHandle, running) -> None:
    async def hello(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Selamat datang!")

    app = build_app(emu, bot, rate_limiter=True)
    app.add_handler(CommandHandler("start", hello))
    await running(app)

    wayan = emu.user(1005, "Wayan")
    rule = emu.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=wayan.id)
    await wayan.send(bot, "/start")
    reply = await emu.next_message(emu.private_chat(wayan, bot), timeout=4)
    assert reply.text == "Selamat datang!"
    assert len(rule.hits) == 1  # the first attempt got the 429, the limiter retried after retry_after


async def test_two_bots_side_by_side_privacy_mode(emu: BotApiEmulator, bot: BotHandle, running) -> None:
    echo_bot = emu.add_bot(username="echo_bench_bot", first_name="Echo")
    seen: dict[str, list[str]] = {"kpu": [], "echo": []}

    def recorder(name: str) -> Handler:
        async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message = update.effective_message
            if message is not None and message.text:
                seen[name].append(message.text)
                await message.reply_text(f"{name}: {message.text}")

        return handler

    kpu_app = build_app(emu, bot)
    kpu_app.add_handler(MessageHandler(filters.TEXT, recorder("kpu")))
    echo_app = build_app(emu, echo_bot)
    echo_app.add_handler(MessageHandler(filters.TEXT, recorder("echo")))
    await running(kpu_app)
    await running(echo_app)

    made = emu.user(1006, "Made")
    group = emu.group("Koordinasi Kecamatan", members=[made], bots=[bot, echo_bot], announce=False)
    await made.send(group, "obrolan biasa tanpa perintah")
    await made.send(group, "/status@echo_bench_bot")
    echo_reply = await emu.next_message(group)
    assert echo_reply.sender_id == echo_bot.id
    await made.send(group, "/status")
    replies = {(await emu.next_message(group)).sender_id for _ in range(2)}
    assert replies == {bot.id, echo_bot.id}
    # privacy mode: neither bot saw the plain chatter; the addressed command reached only its bot;
    # bots never see each other's replies
    assert seen["kpu"] == ["/status"]
    assert seen["echo"] == ["/status@echo_bench_bot", "/status"]
