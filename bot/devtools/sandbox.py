"""`python -m bot sandbox`: talk to the real bot yourself, through the built-in emulator.

You type as a user; the bot's answers are printed; photos and documents it sends are saved to
files. Lines starting with one of the sandbox's own commands are not sent to the bot:

    /as <id> [nama]        speak as this Telegram user (created on first use)
    /di pribadi            talk in your private chat with the bot (the default)
    /di <judul grup>       talk in a group (created on first use, with the bot and you in it)
    /tekan <n>             press button n (1, 2, …) of the bot's last message in this chat
    /foto <berkas> [teks]  send a photo file, with an optional caption (e.g. "/lapor …")
    /balas <teks>          send text as a reply to the bot's last message in this chat
    /keluar                stop

Everything else is sent as typed. The user id in BOT_ADMIN_IDS (or 1) is the admin from the start.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import TextIO

from bot.app import build_application
from bot.devtools.demo import start_polling, stop_polling
from bot.emulator import BotApiEmulator
from bot.emulator.client import BotHandle, ChatHandle, SentMessage, UserHandle
from bot.logging_setup import setup_logging
from bot.settings import load_settings

HELP = __doc__.split("\n\n", 2)[2]


class Sandbox:
    def __init__(self, emu: BotApiEmulator, bot: BotHandle, out: Path, user: UserHandle) -> None:
        self.emu, self.bot, self.out = emu, bot, out
        self.user = user
        self.chat: ChatHandle | None = None  # None: private chat
        self.groups: dict[str, ChatHandle] = {}
        self.last: dict[int, SentMessage] = {}
        self.saved = 0

    def show(self, message: SentMessage) -> None:
        self.last[message.chat_id] = message
        where = (
            "pribadi"
            if message.chat_id > 0
            else next(
                (title for title, chat in self.groups.items() if chat.id == message.chat_id), str(message.chat_id)
            )
        )
        edited = " (diedit)" if message.event == "edited" else ""
        body = message.text if message.text is not None else (message.caption or "")
        for data, suffix in ((message.photo_bytes, "png"), (message.document_bytes, None)):
            if data:
                self.saved += 1
                name = (
                    message.document_name if suffix is None and message.document_name else f"foto_{self.saved}.{suffix}"
                )
                path = self.out / name
                path.write_bytes(data)
                body = f"[disimpan: {path}] " + body
        print(f"\n🤖 [{where}]{edited} {body}")
        for n, (label, _) in enumerate((b for row in message.buttons for b in row), start=1):
            print(f"   ({n}) {label}")

    def prompt(self) -> str:
        where = "pribadi" if self.chat is None else self.chat.title
        return f"[{self.user.first_name} #{self.user.id} @ {where}] > "

    async def handle(self, line: str) -> bool:
        words = line.split(maxsplit=1)
        command, rest = (words[0], words[1] if len(words) > 1 else "") if words else ("", "")
        target: BotHandle | ChatHandle = self.chat if self.chat is not None else self.bot
        chat_id = self.chat.id if self.chat is not None else self.emu.private_chat(self.user, self.bot).id
        if command == "/keluar":
            return False
        if command == "/as":
            parts = rest.split(maxsplit=1)
            if not parts or not parts[0].isdigit():
                print("Bentuk: /as <id> [nama]")
            else:
                self.user = self.emu.user(int(parts[0]), parts[1] if len(parts) > 1 else f"Pengguna {parts[0]}")
                self.chat = None
        elif command == "/di":
            if rest in ("", "pribadi"):
                self.chat = None
            else:
                if rest not in self.groups:
                    self.groups[rest] = self.emu.group(rest, members=[self.user], bots=[self.bot], supergroup=True)
                self.chat = self.groups[rest]
                self.chat.add_member(self.user)
        elif command == "/tekan":
            last = self.last.get(chat_id)
            data = [d for row in (last.buttons if last else []) for _, d in row]
            if last is None or not rest.isdigit() or not 1 <= int(rest) <= len(data):  # no message: no buttons
                print("Tidak ada tombol itu.")
            elif (pressed := data[int(rest) - 1]) is None:  # a URL button opens a link; Telegram sends nothing
                print("Tombol itu membuka tautan (t.me), tidak dikirim ke bot.")
            else:
                handle = await self.user.press(last, pressed)
                answer = await handle.answer(timeout=10)
                if answer.text:
                    print(f"\n🔔 {answer.text}")
        elif command == "/foto":
            parts = rest.split(maxsplit=1)
            path = Path(parts[0]) if parts else None
            if path is None or not path.is_file():
                print("Bentuk: /foto <berkas.png> [keterangan]")
            else:
                await self.user.send_photo(target, path.read_bytes(), caption=parts[1] if len(parts) > 1 else None)
        elif command == "/balas":
            await self.user.send(target, rest, reply_to=self.last.get(chat_id))
        elif line.strip():
            await self.user.send(target, line)
        return True


def read_lines(stream: TextIO) -> asyncio.Queue[str | None]:
    """The lines typed on `stream`, as they come; None at the end.

    A daemon thread reads them: it never holds up the exit, so Ctrl-C stops the sandbox at once
    (`input()` in the loop's default executor kept the process waiting for one more Enter)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def put(item: str | None) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, item)
        except RuntimeError:  # the loop is closed: the sandbox has stopped
            raise SystemExit from None

    def read() -> None:
        for line in stream:
            put(line.rstrip("\r\n"))
        put(None)

    threading.Thread(target=read, name="sandbox-stdin", daemon=True).start()
    return queue


async def run_sandbox() -> int:
    base = load_settings()
    setup_logging("WARNING")
    out = Path(f"sandbox-{datetime.now():%Y%m%d-%H%M%S}")
    out.mkdir(parents=True, exist_ok=True)
    admin_id = base.BOT_ADMIN_IDS[0] if base.BOT_ADMIN_IDS else 1
    async with BotApiEmulator() as emu:
        bot = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        settings = base.model_copy(
            update={
                "TELEGRAM_BOT_TOKEN": bot.token,
                "TELEGRAM_API_URL": emu.url,
                "DATABASE_PATH": out / "bot.sqlite3",
                "BOT_ADMIN_IDS": [admin_id],
            }
        )
        sandbox = Sandbox(emu, bot, out, emu.user(admin_id, "Admin"))
        emu.on_bot_message = sandbox.show
        app = build_application(settings)
        await start_polling(app)
        print(f"Sandbox bot koordinasi KPU (wilayah {settings.REGION_ROOT}); berkas di {out.resolve()}")
        print(HELP)
        lines = read_lines(sys.stdin)
        try:
            while True:
                print(sandbox.prompt(), end="", flush=True)
                line = await lines.get()
                if line is None:  # end of input (Ctrl-D, or the end of a piped script)
                    break
                if not await sandbox.handle(line):
                    break
                await asyncio.sleep(0.3)  # let the answers print before the next prompt (cosmetic)
        finally:
            await stop_polling(app)
    print(f"\nSelesai. Basis data dan berkas sandbox: {out.resolve()}", file=sys.stderr)
    return 0
