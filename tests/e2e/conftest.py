"""End-to-end fixtures: the real Application talking HTTP to the Bot API emulator on 127.0.0.1.

`kpu` is a running bot; `kpu.register(user, role, region)` goes through a real invite link, and
`kpu.person("wayan")` registers one of the `PEOPLE` of these stories that way; tests then talk like
users: `await kpu.say(wayan, "/lapor ...")` returns the bot's answer, and compare it with the texts
of `bot.texts` as a user sees them (`shown(bot.texts.common.NOT_REGISTERED)`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import bot.texts.groups
import bot.texts.incidents
from bot.app import NOTIFIER_KEY, RUNTIME_KEY, build_application, start_bot, stop_bot
from bot.emulator import BotApiEmulator, parse_html
from bot.services import registration, reporting
from bot.settings import Settings
from storage import incidents as incident_store
from storage import regions as region_store
from storage import users as user_store

ADMIN_ID = 1

#: The people of these stories: name → (Telegram id, first name, role, region).
PEOPLE = {
    "wayan": (100, "Wayan", "petugas", "51.03.01"),  # PPK Kuta
    "putu": (101, "Putu", "petugas", "51.03.01"),  # PPK Kuta too
    "made": (200, "Made", "koordinator", "51.03"),  # KPU Badung
    "ketut": (201, "Ketut", "koordinator", "51.71"),  # KPU Kota Denpasar
    "komang": (300, "Komang", "komisioner", "51.03"),  # KPU Badung
    "gede": (301, "Gede", "komisioner", "51.71"),  # KPU Kota Denpasar
    "nyoman": (400, "Nyoman", "komisioner", "51"),  # KPU Provinsi Bali
}


def shown(html: str) -> str:
    """A text of `bot.texts` (Telegram HTML) as the user reads it: the emulator's `SentMessage.text`,
    parsed by the emulator's own HTML parser (tags dropped, `&lt;` decoded)."""
    return parse_html(html)[0]


class Harness:
    def __init__(self, emu: BotApiEmulator, db_path: Path, clock, flood_retries: int = 3, **overrides) -> None:
        self.flood_retries = flood_retries
        self.emu = emu
        self.bot = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        self.clock = clock
        self.settings = Settings(
            TELEGRAM_BOT_TOKEN=self.bot.token,
            TELEGRAM_API_URL=emu.url,
            DATABASE_PATH=db_path,
            BOT_ADMIN_IDS=str(ADMIN_ID),
            **({"CHART_WORKERS": 0} | overrides),  # charts drawn in a thread unless a test asks for a pool
        )
        self.app = None
        self.admin = emu.user(ADMIN_ID, "Admin", username="admin_kpu")

    async def start(self) -> None:
        self.app = build_application(self.settings, clock=self.clock, flood_retries=self.flood_retries)
        await start_bot(self.app, poll_interval=0.0, poll_timeout=1)

    async def stop(self) -> None:
        if self.app is None:
            return
        await stop_bot(self.app)
        self.app = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    @property
    def rt(self):
        return self.app.bot_data[RUNTIME_KEY]

    @property
    def notifier(self):
        return self.app.bot_data[NOTIFIER_KEY]

    async def invite_link(self, role: str, region: str) -> str:
        admin = await user_store.get(self.rt.db, ADMIN_ID)
        created = await registration.create_invite(self.rt, admin, role, region)
        return created.code

    async def register(self, user, role: str, region: str):
        code = await self.invite_link(role, region)
        await user.start(self.bot, code)
        greeting = await self.emu.next_message(self.dm(user))
        assert "Selamat datang" in greeting.text, greeting.text
        return user

    async def person(self, name: str):
        """One of `PEOPLE`, registered through an invite link."""
        uid, first_name, role, region = PEOPLE[name]
        return await self.register(self.emu.user(uid, first_name), role, region)

    async def receipt(self, incident_id: int, *, duplicate: bool = False, nik_warnings: tuple[str, ...] = ()) -> str:
        """The receipt of a stored incident as its reporter read it after its latest report, from
        `bot.texts.incidents.receipt`: naming the report's number when it updated the incident, and
        the automatic closing when it completed the figures."""
        incident = await incident_store.get(self.rt.db, incident_id)
        path = await region_store.path(self.rt.db, incident.region_code)
        actions = [e.action for e in await incident_store.events(self.rt.db, incident_id)]
        updates = actions.count("laporan")
        return shown(
            bot.texts.incidents.receipt(
                incident,
                reporting.report_of(incident),
                path,
                nik_warnings,
                duplicate,
                updated=updates + 1 if updates else None,
                closed="selesai_otomatis" in actions,
            )
        )

    async def say(self, user, text: str, chat=None, *, thread_id=None, reply_to=None):
        """`user` sends `text` (privately unless `chat`), and the bot's next message there is returned."""
        target = chat if chat is not None else self.bot
        await user.send(target, text, thread_id=thread_id, reply_to=reply_to)
        return await self.emu.next_message(chat if chat is not None else self.dm(user))

    async def settled(self, user) -> None:
        """Everything sent before now has been handled, in every chat: once `user`'s /bantuan is
        answered, every earlier update was fetched (getUpdates hands them out in order); the
        application's update queue is joined when each fetched update is done (chats are
        processed concurrently); then the notifications those handlers kicked off are drained."""
        await self.say(user, "/bantuan")
        await self.app.update_queue.join()
        await self.notifier.drain()

    def dm(self, user):
        """The private chat of `user` with the bot."""
        return self.emu.private_chat(user, self.bot)

    async def next(self, user_or_chat, **kwargs):
        """The bot's next message to a chat, or to a user's private chat."""
        chat = self.dm(user_or_chat) if hasattr(user_or_chat, "first_name") else user_or_chat
        return await self.emu.next_message(chat, **kwargs)

    async def group(self, title: str, *members, forum: bool = False):
        """A supergroup with the bot in it; the bot's welcome (how to register the group) is consumed."""
        chat = self.emu.group(title, members=members, bots=[self.bot], supergroup=True, forum=forum)
        welcome = await self.emu.next_message(chat)
        assert welcome.text == shown(bot.texts.groups.WELCOME_IN_GROUP), welcome.text
        return chat

    async def coordination_group(self, title: str, region: str, by, *members):
        """A supergroup of `by` and `members` that `by` registered with `/grup <region>`."""
        chat = await self.group(title, by, *members)
        answer = await self.say(by, f"/grup {region}", chat)
        assert answer.text.startswith("✅"), answer.text
        return chat


@pytest.fixture
async def emulator():
    async with BotApiEmulator() as emu:
        yield emu


@pytest.fixture
async def kpu_factory(emulator, tmp_path, clock):
    made = []

    async def make(**overrides) -> Harness:
        harness = Harness(emulator, tmp_path / f"bot{len(made)}.sqlite3", clock, **overrides)
        await harness.start()
        made.append(harness)
        return harness

    yield make
    for harness in made:
        await harness.stop()


@pytest.fixture
async def kpu(kpu_factory) -> Harness:
    return await kpu_factory()


@pytest.fixture
async def people(kpu) -> dict:
    """The people of the coordination stories, registered in this order, and the admin."""
    names = ("wayan", "made", "ketut", "komang", "nyoman", "gede")
    return {name: await kpu.person(name) for name in names} | {"admin": kpu.admin}


@pytest.fixture
async def wayan(kpu):
    return await kpu.person("wayan")


@pytest.fixture
async def made(kpu):
    return await kpu.person("made")
