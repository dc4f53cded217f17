"""`python -m bot demo`: the real application against the built-in Bot API emulator.

No token and no network: an emulator on 127.0.0.1 plays Telegram, simulated officers of the
root region talk to the bot through it, and everything goes over real HTTP through the same
`Application` that `run` uses. The scenario: the admin invites commissioners, coordinators and
PPK officers, who register; coordination groups are registered for every kabupaten/kota and the
province; the plan and TPS baselines are imported; a day of reports arrives (one of them wrong);
an incident is taken, escalated and resolved; the province gets its digest with charts. The
conversation is printed as a transcript and written, with the digest and charts, to a folder.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TextIO

from telegram.ext import Application

from bot.app import NOTIFIER_KEY, RUNTIME_KEY, build_application, start_bot, stop_bot
from bot.domain.models import Level, Region
from bot.domain.reporting import ITEMS
from bot.emulator import BotApiEmulator
from bot.emulator.client import BotHandle, ChatHandle, SentMessage, UserHandle
from bot.logging_setup import setup_logging
from bot.services import registration
from bot.services.runtime import Runtime
from bot.settings import Settings, load_settings
from bot.telegram import digests as digest_delivery
from storage import regions as region_store
from storage import schedules as schedule_store
from storage import users as user_store

ADMIN_ID = 1
#: PPK officers of the demo (the commissioners and the coordinator have names of their own)
OFFICERS = [
    "Wayan Sudarsana",
    "Kadek Ayu",
    "Putu Arimbawa",
    "Ketut Sumerta",
    "Gede Pranata",
    "Luh Sekar",
    "Dewa Mahendra",
    "Ni Made Sari",
    "Agung Wiradana",
    "Nengah Suparta",
    "Ida Ayu Laksmi",
    "Kade Sutama",
]


async def start_polling(app: Application) -> None:
    """What `python -m bot run` does before it waits, in the running loop (the emulator's): the
    application, its `post_init` (storage, jobs) and the durable intake, polling."""
    await start_bot(app, poll_interval=0.0, poll_timeout=2)


async def stop_polling(app: Application) -> None:
    """Undo `start_polling`, in reverse order, `post_shutdown` (storage) last."""
    await stop_bot(app)


def _text(message: SentMessage) -> str:
    """The text of an answer the scenario reads (a text message, by the bot's design)."""
    assert message.text is not None, f"a text message expected, not {message.summary()}"
    return message.text


def _plain(message: SentMessage) -> str:
    body = message.text if message.text is not None else (message.caption or "")
    if message.photo_bytes and message.photo_size is not None:  # a photo always has its size
        body = f"[foto {message.photo_size[0]}×{message.photo_size[1]}] " + body
    if message.document_name:
        body = f"[berkas {message.document_name}] " + body
    if message.location:
        body = f"[lokasi {message.location['latitude']:.4f}, {message.location['longitude']:.4f}]"
    return body


@dataclass
class Transcript:
    """Who said what, what the bot answered: printed and kept for the output folder."""

    out: TextIO
    names: dict[int, str] = field(default_factory=dict)  # chat id → chat label
    people: dict[int, str] = field(default_factory=dict)  # user id → name
    lines: list[str] = field(default_factory=list)
    hidden: set[int] = field(default_factory=set)  # chats whose messages are bookkeeping, not story

    def write(self, line: str = "") -> None:
        self.lines.append(line)
        print(line, file=self.out, flush=True)

    def chat_label(self, message: SentMessage) -> str:
        if message.chat_id in self.names:
            return self.names[message.chat_id]
        return f"pribadi {self.people.get(message.chat_id, message.chat_id)}"  # a private chat's id is the user's

    def user_said(self, message: SentMessage) -> None:
        if message.chat_id in self.hidden:
            return
        where = self.chat_label(message)
        name = self.people.get(message.sender_id, str(message.sender_id))
        self.write(f"[{where}] {name}: {_plain(message)}")

    def bot_said(self, message: SentMessage) -> None:
        if message.chat_id in self.hidden:
            return
        where = self.chat_label(message)
        verb = "(diedit)" if message.event == "edited" else ""
        text = _plain(message).replace("\n", "\n      ")
        self.write(f"   🤖 [{where}] {verb}{' ' if verb else ''}{text}")
        buttons = [label for row in message.buttons for label, _ in row]
        if buttons:
            self.write("      " + " ".join(f"[{b}]" for b in buttons))


class DemoClock:
    """Real time, shifted into election week: `jump(day_offset, "HH:MM")` moves it to H±n at a local
    time; the bot and the emulator (message dates) both read it, so every time shown is consistent."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def timestamp(self) -> float:
        return self().timestamp()

    def jump(self, day_offset: int, hhmm: str) -> None:
        hh, mm = map(int, hhmm.split(":"))
        day = self.settings.ELECTION_DAY + timedelta(days=day_offset)
        target = datetime.combine(day, time(hh, mm), tzinfo=self.settings.tz)
        self.offset = target - datetime.now(UTC)


class Demo:
    def __init__(
        self, settings: Settings, emu: BotApiEmulator, transcript: Transcript, clock: DemoClock, bot: BotHandle
    ) -> None:
        self.settings, self.emu, self.t, self.clock, self.bot = settings, emu, transcript, clock, bot
        self._app: Application | None = None
        self.users: dict[int, UserHandle] = {}

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def app(self) -> Application:
        assert self._app is not None, "Demo.start() builds the application"
        return self._app

    async def start(self) -> None:
        self._app = build_application(self.settings, clock=self.clock)
        await start_polling(self._app)

    async def stop(self) -> None:
        await stop_polling(self.app)

    @property
    def rt(self) -> Runtime:
        return self.app.bot_data[RUNTIME_KEY]

    def dm(self, user: UserHandle) -> ChatHandle:
        return self.emu.private_chat(user, self.bot)

    async def settle(self, user: UserHandle) -> None:
        """Wait until everything the bot started has finished (updates are handled in order)."""
        chat = self.dm(user)
        self.t.hidden.add(chat.id)
        try:
            await user.send(self.bot, "/bantuan")
            await self.emu.next_message(chat, timeout=30)
        finally:
            self.t.hidden.discard(chat.id)
        await self.app.bot_data[NOTIFIER_KEY].drain()

    async def say(
        self,
        user: UserHandle,
        text: str,
        chat: ChatHandle | None = None,
        *,
        expect: int = 1,
        thread_id: int | None = None,
    ) -> list[SentMessage]:
        """A user speaks; the bot's answers (`expect` messages) are returned, all printed."""
        target = chat if chat is not None else self.bot
        await user.send(target, text, thread_id=thread_id)
        where = chat if chat is not None else self.dm(user)
        return [await self.emu.next_message(where, timeout=30) for _ in range(expect)]

    async def wait_for(self, chat: ChatHandle, needle: str) -> SentMessage:
        """The next message the bot sends to `chat` that contains `needle` (earlier ones skipped)."""
        while True:
            message = await self.emu.next_message(chat, timeout=30)
            if needle in (message.text or ""):
                return message

    async def group(self, title: str, members: list[UserHandle]) -> ChatHandle:
        """A supergroup with the bot in it. The bot greets a group it joins; that welcome is awaited
        here, so the answer to the next command there is the one printed after it."""
        chat = self.emu.group(title, members=members, bots=[self.bot], supergroup=True)
        self.t.names[chat.id] = chat.title or title  # a group always has its title
        await self.wait_for(chat, "/grup")
        return chat

    def person(self, uid: int, name: str) -> UserHandle:
        user = self.emu.user(uid, name)
        self.users[uid] = user
        self.t.people[uid] = name
        return user

    async def invite(self, inviter: UserHandle, role: str, region: Region, uid: int, name: str) -> UserHandle:
        [answer] = await self.say(inviter, f"/undang {role} {region.code}")
        code = _text(answer).split("?start=")[1].split()[0]
        user = self.person(uid, name)
        await user.start(self.bot, code)
        await self.emu.next_message(self.dm(user), timeout=30)
        return user

    async def quietly(self, user: UserHandle, text: str) -> None:
        await user.send(self.bot, text)
        await self.emu.next_message(self.dm(user), timeout=30)

    async def run(self, out: Path) -> None:
        await Scenario(self, out).play()


class Scenario:
    """The story, scene by scene (the numbered headings of the transcript). Each scene leaves the
    people, groups and figures the later ones need as attributes."""

    def __init__(self, demo: Demo, out: Path) -> None:
        self.demo, self.t, self.out = demo, demo.t, out
        self.rng = random.Random(2024)  # the reports of scenes 4 and 5, one sequence
        self.officers: list[tuple[UserHandle, Region]] = []  # shown in the transcript
        self.others: list[tuple[UserHandle, Region]] = []  # every other kecamatan, kept out of it
        self.groups: dict[str, ChatHandle] = {}  # kabupaten/kota code → its group
        self.tps: dict[str, int] = {}

    async def play(self) -> None:
        demo = self.demo
        self.admin = demo.person(ADMIN_ID, "Admin KPU")
        self.root, self.kabkota, self.kecamatan = await self.pick_regions()
        self.kab_a = self.kabkota[0]
        self.t.write(
            f"== Wilayah demo: {self.root.title} ({len(self.kabkota)} kabupaten/kota); hari pemungutan "
            f"suara (H): {demo.settings.ELECTION_DAY:%d-%m-%Y} =="
        )
        self.t.write()
        await self.registration()
        await self.coordination_groups()
        await self.import_baselines()
        await self.logistics_arrive()
        incident_id, post = await self.counting_and_incidents()
        await self.incident_handled(incident_id, post)
        await self.scheduled_digest()

    async def registration(self) -> None:
        demo, t, admin = self.demo, self.t, self.admin
        demo.clock.jump(-7, "09:00")
        t.write("== 1. H-7: admin mengundang, para petugas mendaftar ==")
        await demo.say(admin, "/start")
        self.commissioner = await demo.invite(admin, "komisioner", self.root, 300, "Nyoman Suarda")
        self.komisioner_kab = await demo.invite(admin, "komisioner", self.kab_a, 301, "Komang Ayu")
        self.koordinator = await demo.invite(self.komisioner_kab, "koordinator", self.kab_a, 200, "Made Wirawan")
        for n, kec in enumerate(self.kecamatan):
            inviter = admin if n else self.koordinator
            self.officers.append(
                (await demo.invite(inviter, "petugas", kec, 100 + n, OFFICERS[n % len(OFFICERS)]), kec)
            )
        await demo.say(self.officers[0][0], "/bantuan")
        await demo.say(self.officers[0][0], f"/wilayah {self.kecamatan[0].name}")
        stranger = demo.person(999, "Orang Asing")
        await demo.say(stranger, "/lapor insiden kritis ada yang aneh")

    async def coordination_groups(self) -> None:
        demo, t, admin = self.demo, self.t, self.admin
        t.write()
        t.write("== 2. Grup koordinasi per kabupaten/kota dan provinsi ==")
        self.province = await demo.group(f"KPU {self.root.title}", [admin, self.commissioner])
        await demo.say(self.commissioner, f"/grup {self.root.code}", self.province)
        for kab in self.kabkota:
            members = [admin] + ([self.komisioner_kab, self.koordinator] if kab.code == self.kab_a.code else [])
            chat = await demo.group(f"KPU {kab.title}", members)
            self.groups[kab.code] = chat
            await demo.say(admin, f"/grup {kab.code}", chat)

    async def import_baselines(self) -> None:
        demo, admin = self.demo, self.admin
        self.t.write()
        self.t.write("== 3. Impor rencana logistik dan jumlah TPS ==")
        plan_csv, tps_csv, self.tps = await self.baselines(self.root)
        for name, data in (("rencana_logistik.csv", plan_csv), ("jumlah_tps.csv", tps_csv)):
            (self.out / name).write_bytes(data)
            doc = await admin.send_document(demo.bot, data, name, "text/csv")
            await admin.send(demo.bot, "/impor", reply_to=doc)
            await demo.emu.next_message(demo.dm(admin), timeout=60)

    async def logistics_arrive(self) -> None:
        demo, t, rng, tps = self.demo, self.t, self.rng, self.tps
        t.write()
        demo.clock.jump(-1, "10:00")
        t.write("== 4. H-1: logistik tiba di gudang PPK ==")
        for officer, kec in self.officers:
            n = tps.get(kec.code, 10)
            boxes = n * 2
            received = boxes - rng.choice([0, 0, 2, boxes // 5])
            await demo.say(officer, f"/lapor logistik kotak_suara {received} rusak {rng.choice([0, 1])}")
            await demo.say(officer, f"/lapor logistik bilik {n * 4 - rng.choice([0, 3])}")
            await demo.say(officer, f"/lapor logistik surat {n * 1500 - rng.choice([0, 0, 250, 1200])}")
            await demo.say(officer, f"/lapor logistik tinta {n * 2}")
        self.others = await self.quiet_officers(self.root, {kec.code for _, kec in self.officers})
        t.write(f"   … dan {len(self.others)} PPK lain melapor logistik dengan cara yang sama (tidak ditampilkan)")
        for officer, kec in self.others:
            n = tps.get(kec.code, 10)
            for item, per in (
                ("kotak_suara", 2),
                ("bilik_suara", 4),
                ("surat_suara", 1500),
                ("tinta", 2),
                ("segel", 20),
                ("formulir", 30),
                ("sampul", 12),
                ("alat_bantu_tunanetra", 1),
            ):
                if rng.random() < 0.85:
                    short = rng.choice([0, 0, 0, 0, 1, 2, n * per // 10, n * per // 3])
                    await demo.quietly(officer, f"/lapor logistik {item} {max(n * per - short, 0)}")

    async def counting_and_incidents(self) -> tuple[int, SentMessage]:
        """Scene 5; returns the critical incident's number and its post in the kabupaten group."""
        demo, t, rng, tps = self.demo, self.t, self.rng, self.tps
        demo.clock.jump(0, "21:00")
        t.write()
        t.write("== 5. Hari H: penghitungan suara dan laporan kejadian ==")
        for officer, kec in self.officers:
            n = tps.get(kec.code, 10)
            done = rng.randint(n // 2, n)
            await demo.say(officer, f"/lapor rekap {done}/{n} sirekap {rng.randint(done // 2, done)}")
        t.write("   … dan PPK lain melaporkan progres penghitungan (tidak ditampilkan)")
        for officer, kec in self.others:
            if rng.random() < 0.9:
                n = tps.get(kec.code, 10)
                done = rng.randint(n // 3, n)
                await demo.quietly(officer, f"/lapor rekap {done}/{n} sirekap {rng.randint(done // 3, done)}")
        wayan, _ = self.officers[0]
        await demo.say(wayan, "/lapor data ganda 14 pemilih ganda, antara lain NIK 5103011234560001")
        await demo.say(wayan, "/lapor logistik kotak 9999")  # wrong: more than twice the plan
        await demo.say(self.officers[1][0], "/lapor insiden sedang genset cadangan belum datang")
        [receipt] = await demo.say(wayan, "/lapor insiden kritis gudang logistik PPK tergenang banjir")
        incident_id = int(_text(receipt).split("#")[1].split()[0])
        photo = _demo_photo()
        await wayan.send_photo(demo.bot, photo, reply_to=receipt)
        await demo.emu.next_message(demo.dm(wayan), timeout=30)
        await demo.settle(wayan)
        post = await demo.wait_for(self.groups[self.kab_a.code], f"#{incident_id} ")
        return incident_id, post

    async def incident_handled(self, incident_id: int, post: SentMessage) -> None:
        demo, t, koordinator, commissioner = self.demo, self.t, self.koordinator, self.commissioner
        t.write()
        t.write("== 6. Ditangani, dieskalasi, diselesaikan ==")
        press = await koordinator.press(post, f"i1:t:{incident_id}")
        t.write(f"[{t.chat_label(post)}] Made Wirawan menekan [Tangani] → {(await press.answer()).text}")
        await demo.settle(koordinator)
        await demo.say(
            koordinator,
            f"/eskalasi {incident_id} pompa air tidak cukup, mohon bantuan provinsi",
            self.groups[self.kab_a.code],
        )
        await demo.settle(koordinator)
        upper = await demo.wait_for(self.province, f"#{incident_id} ")
        press = await commissioner.press(upper, f"i1:s:{incident_id}")
        t.write(f"[{self.province.title}] Nyoman Suarda menekan [Selesai] → {(await press.answer()).text}")
        await demo.settle(commissioner)
        await demo.say(commissioner, f"/status {incident_id}")

    async def scheduled_digest(self) -> None:
        demo, t = self.demo, self.t
        t.write()
        demo.clock.jump(1, "07:00")
        t.write("== 7. H+1 pukul 07:00: ringkasan terjadwal grup provinsi, dengan grafik ==")
        [schedule] = await schedule_store.for_chat(demo.rt.db, self.province.id)
        await digest_delivery.run_occurrence(demo.app.bot, demo.rt, schedule)  # what the 07:00 job does
        await self.save_digest(self.province, self.out)

    # --- the data of the story ------------------------------------------------------------------

    async def pick_regions(self) -> tuple[Region, list[Region], list[Region]]:
        """The root, its kabupaten/kota (for groups), and a handful of kecamatan across it."""
        db = self.demo.rt.db
        root = await region_store.get(db, self.demo.settings.REGION_ROOT)
        if root is None:  # post_init loaded the regions under REGION_ROOT, so it is there
            raise LookupError(f"REGION_ROOT {self.demo.settings.REGION_ROOT}: no such region")
        if root.level is Level.NASIONAL:  # whole country: the demo plays in the first province
            root = (await region_store.children(db, root.code))[0]
        kabkota = await region_store.children(db, root.code)
        kecamatan = []
        for kab in kabkota[:4]:
            kecamatan.extend((await region_store.children(db, kab.code))[:2])
        return root, kabkota, kecamatan

    async def quiet_officers(self, root: Region, taken: set[str]) -> list[tuple[UserHandle, Region]]:
        """One registered PPK officer for every other kecamatan of the root (kept out of the transcript)."""
        demo = self.demo
        out = []
        uid = 1000
        for kab in await region_store.children(demo.rt.db, root.code):
            for kec in await region_store.children(demo.rt.db, kab.code):
                if kec.code in taken:
                    continue
                uid += 1
                user = demo.emu.user(uid, f"PPK {kec.name}")
                self.t.people[uid] = user.first_name
                self.t.hidden.add(demo.dm(user).id)
                admin = await user_store.get(demo.rt.db, ADMIN_ID)
                invite = await registration.create_invite(demo.rt, admin, "petugas", kec.code)
                assert isinstance(invite, registration.InviteCreated), f"the admin's invite was refused: {invite}"
                await user.start(demo.bot, invite.code)
                await demo.emu.next_message(demo.dm(user), timeout=30)
                out.append((user, kec))
        return out

    async def baselines(self, root: Region) -> tuple[bytes, bytes, dict[str, int]]:
        """A plan and a TPS count for every kecamatan of the root (deterministic)."""
        db = self.demo.rt.db
        rng = random.Random(14)
        tps: dict[str, int] = {}
        plan, counts = io.StringIO(), io.StringIO()
        pw, tw = csv.writer(plan, lineterminator="\n"), csv.writer(counts, lineterminator="\n")
        pw.writerow(["kode_wilayah", "barang", "jumlah"])
        tw.writerow(["kode_wilayah", "jumlah_tps"])
        for kab in await region_store.children(db, root.code):
            for kec in await region_store.children(db, kab.code):
                n = rng.randint(40, 220)
                tps[kec.code] = n
                tw.writerow([kec.code, n])
                per_tps = {
                    "kotak_suara": 2,
                    "bilik_suara": 4,
                    "surat_suara": 1500,
                    "tinta": 2,
                    "segel": 20,
                    "formulir": 30,
                    "sampul": 12,
                    "alat_bantu_tunanetra": 1,
                }
                for item in ITEMS:
                    pw.writerow([kec.code, item, n * per_tps[item]])
        return plan.getvalue().encode(), counts.getvalue().encode(), tps

    async def save_digest(self, chat: ChatHandle, out: Path) -> None:
        emu = self.demo.emu
        texts: list[str] = []
        charts = 0
        for message in emu.bot_messages(chat):
            if message.text and message.text.startswith("📊"):
                texts = [message.html]
            elif texts and message.text and not message.photo_bytes:
                texts.append(message.html)
        for message in emu.bot_messages(chat):
            if message.photo_bytes and message.media_group_id or (message.photo_bytes and charts == 0):
                charts += 1
                (out / f"grafik_{charts}.png").write_bytes(message.photo_bytes)
        (out / "ringkasan.html").write_text("\n\n".join(texts), encoding="utf-8")
        self.t.write(f"(ringkasan: {len(texts)} pesan, {charts} grafik)")


def _demo_photo() -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4, 3), dpi=80)
    ax = fig.add_subplot()
    ax.fill_between([0, 1, 2, 3], [0.2, 0.5, 0.4, 0.7], color="#3b7dd8")
    ax.set_title("Genangan di gudang PPK")
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    return buf.getvalue()


async def run_demo(out: Path | None = None, root: str | None = None, stream: TextIO | None = None) -> int:
    stream = stream or sys.stdout
    out = out or Path(f"demo-output-{datetime.now():%Y%m%d-%H%M%S}")
    out.mkdir(parents=True, exist_ok=True)
    base = load_settings()
    setup_logging("WARNING")
    transcript = Transcript(stream)
    clock = DemoClock(base)
    async with BotApiEmulator(clock=clock.timestamp) as emu:
        bot = emu.add_bot("kpu_koordinasi_bot", "KPU Koordinasi")
        settings = base.model_copy(
            update={
                "TELEGRAM_BOT_TOKEN": bot.token,
                "TELEGRAM_API_URL": emu.url,
                "DATABASE_PATH": out / "bot.sqlite3",
                "BOT_ADMIN_IDS": [ADMIN_ID],
                "REGION_ROOT": (root or base.REGION_ROOT).upper(),
            }
        )
        clock.settings = settings
        demo = Demo(settings, emu, transcript, clock, bot)
        emu.on_bot_message = transcript.bot_said
        emu.on_user_message = transcript.user_said
        await demo.start()
        try:
            await demo.run(out)
        finally:
            await demo.stop()
    (out / "transkrip.txt").write_text("\n".join(transcript.lines) + "\n", encoding="utf-8")
    print(f"\nSelesai. Keluaran demo ada di folder: {out.resolve()}", file=stream)
    print(
        "  transkrip.txt, ringkasan.html, grafik_*.png, rencana_logistik.csv, jumlah_tps.csv, bot.sqlite3", file=stream
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(run_demo())
