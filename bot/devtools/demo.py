"""`python -m bot demo`: the real application against the built-in Bot API emulator.

No token and no network: an emulator on 127.0.0.1 plays Telegram, simulated officers of the
root region talk to the bot through it, and everything goes over real HTTP through the same
`Application` that `run` uses. The scenario plays election week: the admin invites commissioners,
coordinators and PPK officers, who register; coordination groups are registered for every
kabupaten/kota and the province; the kebutuhan and TPS baselines are imported; logistics arrive in
stages that complete (one incident per kecamatan and item, updated and closed automatically), a
damaged item is replaced, a shortfall past the deadline is posted; on H penghitungan runs into the
night (a figure typed wrong is questioned), an incident is taken, escalated and resolved and one
real kritis stays open; on H+1 the rekapitulasi kecamatan starts and the province asks for its
digest with charts. The conversation is printed as a transcript and written, with the digest and
charts, to a folder.
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
from bot.domain.digest import sections_for
from bot.domain.models import Level, Region
from bot.emulator import BotApiEmulator
from bot.emulator.client import BotHandle, ChatHandle, SentMessage, UserHandle
from bot.logging_setup import setup_logging
from bot.services import registration
from bot.services.runtime import Runtime
from bot.settings import Settings, load_settings
from storage import regions as region_store
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
        self.test_id = 0  # scene 6: a test message from a new phone, rejected in scene 7

    async def play(self) -> None:
        demo = self.demo
        self.admin = demo.person(ADMIN_ID, "Admin KPU")
        self.root, self.kabkota, self.kecamatan = await self.pick_regions()
        self.kab_a = self.kabkota[0]
        self.t.write(
            f"== Wilayah demo: {self.root.title} ({len(self.kabkota)} kabupaten/kota); hari pemungutan "
            f"suara (H): {demo.settings.ELECTION_DAY:%d-%m-%Y}; logistik lengkap di PPK paling lambat "
            f"H-{demo.settings.LOGISTICS_DEADLINE_DAYS} =="
        )
        self.t.write()
        await self.registration()
        await self.coordination_groups()
        await self.import_baselines()
        await self.logistics_arrive()
        await self.logistics_deadline()
        incident_id, post = await self.counting_and_incidents()
        await self.incident_handled(incident_id, post)
        await self.recap_and_digest()

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
        self.t.write("== 3. Impor kebutuhan logistik dan jumlah TPS ==")
        plan_csv, tps_csv, self.tps = await self.baselines(self.root)
        for name, data in (("rencana_logistik.csv", plan_csv), ("jumlah_tps.csv", tps_csv)):
            (self.out / name).write_bytes(data)
            doc = await admin.send_document(demo.bot, data, name, "text/csv")
            await admin.send(demo.bot, "/impor", reply_to=doc)
            await demo.emu.next_message(demo.dm(admin), timeout=60)

    async def logistics_arrive(self) -> None:
        """H-7 to H-3: deliveries in two stages, as they really run; partial arrivals before the
        deadline are tracked, not problems, and close themselves once complete."""
        demo, t, tps = self.demo, self.t, self.tps
        t.write()
        demo.clock.jump(-7, "10:00")
        t.write("== 4. H-7 s.d. H-3: logistik tiba bertahap di gudang PPK ==")
        wayan, kuta = self.officers[0]
        boxes = tps[kuta.code] * KOTAK_PER_TPS
        await demo.say(wayan, f"/lapor logistik kotak suara {_dotted(boxes * 7 // 10)}")
        demo.clock.jump(-5, "11:00")
        await demo.say(wayan, f"/lapor logistik kotak suara {_dotted(boxes * 9 // 10)}")
        demo.clock.jump(-3, "09:30")
        await demo.say(wayan, f"/lapor logistik kotak suara {_dotted(boxes)}")
        for officer, kec in self.officers[1:]:
            await self.deliver(officer, kec, STAGE_ONE[:1], quiet=False)
        damaged_officer, damaged_kec = self.officers[1]
        n = tps[damaged_kec.code]
        await demo.say(damaged_officer, f"/lapor logistik kotak suara {n * KOTAK_PER_TPS} rusak 3 tiga kotak penyok")
        self.others = await self.quiet_officers(self.root, {kec.code for _, kec in self.officers})
        t.write(f"   … dan {len(self.others)} PPK lain melapor logistik tahap 1 dan 2 (tidak ditampilkan)")
        for stage in (STAGE_ONE, STAGE_TWO):
            for officer, kec in self.others:
                await self.deliver(officer, kec, stage)
        shown = {self.demo.dm(officer).id for officer, _ in self.officers}
        self.t.hidden |= shown
        for officer, kec in self.officers:
            await self.deliver(officer, kec, STAGE_ONE[1:] + STAGE_TWO, quiet=True)
        self.t.hidden -= shown
        t.write("   … dan PPK di atas melapor barang lainnya (tidak ditampilkan)")

    async def deliver(self, officer: UserHandle, kec: Region, items: tuple[str, ...], *, quiet: bool = True) -> None:
        """One PPK's arrival of `items`: mostly complete, some short (the laggards of the digest)."""
        n = self.tps[kec.code]
        parts = []
        for item in items:
            need = PLAN_PER_TPS[item](n)
            short = self.rng.choice([0] * 40 + [1, need // 10, need // 4])
            parts.append(f"{item} {max(need - short, 0)}")
        for part in parts:
            line = f"/lapor logistik {part}"
            if quiet:
                await self.demo.quietly(officer, line)
            else:
                await self.demo.say(officer, line)

    async def logistics_deadline(self) -> None:
        """H-2: the damaged boxes are replaced (the incident closes); H-1: a shortfall past the
        deadline is a problem, posted to the kabupaten's group."""
        demo, t, tps = self.demo, self.t, self.tps
        t.write()
        demo.clock.jump(-2, "09:00")
        t.write("== 5. H-2 s.d. H-1: batas logistik lengkap di PPK ==")
        damaged_officer, damaged_kec = self.officers[1]
        n = tps[damaged_kec.code]
        await demo.say(damaged_officer, f"/lapor logistik kotak suara {n * KOTAK_PER_TPS} rusak 0 sudah diganti")
        demo.clock.jump(-2, "09:05")
        [job] = [j for j in demo.app.job_queue.jobs() if j.name == "eskalasi_otomatis"] if demo.app.job_queue else []
        await job.run(demo.app)  # what the every-minute job does once the deadline has come
        await demo.settle(damaged_officer)
        raised = await demo.rt.db.fetchvalue(
            "SELECT count(DISTINCT incident_id) FROM incident_events WHERE action = 'prioritas'"
        )
        t.write(
            f"   (batas H-2 tiba: {raised} kekurangan yang masih terbuka kini prioritas tinggi dan dikirim ke grup)"
        )
        demo.clock.jump(-1, "10:00")
        late_officer, late_kec = self.officers[2]
        need = PLAN_PER_TPS["surat_suara_dpd"](tps[late_kec.code])
        await demo.say(late_officer, f"/lapor logistik surat suara dpd {need - 450} kiriman susulan belum tiba")
        await demo.settle(late_officer)

    async def counting_and_incidents(self) -> tuple[int, SentMessage]:
        """Scene 6; returns the flood incident's number and its post in the kabupaten group."""
        demo, t, rng, tps = self.demo, self.t, self.rng, self.tps
        demo.clock.jump(0, "19:00")
        t.write()
        t.write("== 6. Hari H: penghitungan suara sampai larut malam ==")
        counted: dict[str, int] = {}
        for i, (officer, kec) in enumerate(self.officers):
            n = tps[kec.code]
            done = rng.randint(n // 3, n // 2)
            counted[kec.code] = done
            sirekap = f" sirekap {rng.randint(done // 2, done)}" if i % 3 else ""
            await demo.say(officer, f"/lapor hitung {done}{sirekap}")
        t.write("   … dan PPK lain melaporkan progres penghitungan (tidak ditampilkan)")
        for officer, kec in self.others:
            if rng.random() < 0.9:
                n = tps[kec.code]
                done = rng.randint(n // 3, n)
                await demo.quietly(officer, f"/lapor hitung {done}/{n} sirekap {rng.randint(done // 3, done)}")
        wayan, kuta = self.officers[0]
        await demo.say(wayan, "/lapor data ganda 14 pemilih ganda, antara lain NIK 5103011234560001")
        await demo.say(wayan, "/lapor logistik kotak 9999")  # wrong: more than twice the kebutuhan
        await demo.say(wayan, "/lapor logistik surat suara 293 150")  # two numbers: refused, with a hint
        await demo.say(wayan, "kotak suara sudah tiba 1025")  # no command: not stored, the command offered
        await demo.say(self.officers[1][0], "/lapor insiden sedang genset cadangan belum datang")
        await demo.say(self.officers[1][0], "/lapor insiden sedang genset cadangan belum datang")  # unsure: again
        # a new phone, a test message: posted like any tinggi, and rejected below (it counts nowhere)
        [test_receipt] = await demo.say(wayan, "/lapor insiden tinggi tes kirim laporan dari HP baru")
        self.test_id = int(_text(test_receipt).split("#")[1].split()[0])
        [receipt] = await demo.say(wayan, "/lapor insiden kritis gudang logistik PPK tergenang banjir")
        incident_id = int(_text(receipt).split("#")[1].split()[0])
        photo = _demo_photo()
        await wayan.send_photo(demo.bot, photo, reply_to=receipt)
        await demo.emu.next_message(demo.dm(wayan), timeout=30)
        demo.clock.jump(1, "02:10")
        t.write("   (pukul 02.10, penghitungan masih berjalan)")
        done = counted[kuta.code]
        [question] = await demo.say(wayan, f"/lapor hitung {done // 10}")  # typed at 2 a.m.: a digit lost
        cancel = question.buttons[0][1][1]  # the second button: Batal
        assert cancel is not None, "Benar and Batal carry callback data"
        press = await wayan.press(question, cancel)
        await press.answer()
        await demo.emu.next_edit(demo.dm(wayan), timeout=30)
        await demo.say(wayan, f"/lapor hitung {tps[kuta.code] - 2} sirekap {tps[kuta.code] - 40}")
        await demo.settle(wayan)
        post = await demo.wait_for(self.groups[self.kab_a.code], f"#{incident_id} ")
        return incident_id, post

    async def incident_handled(self, incident_id: int, post: SentMessage) -> None:
        demo, t, koordinator, commissioner = self.demo, self.t, self.koordinator, self.commissioner
        t.write()
        t.write("== 7. Ditangani, dieskalasi, diselesaikan; satu kritis masih terbuka ==")
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
        await demo.say(
            koordinator, f"/tolak {self.test_id} uji coba dari HP baru, bukan kejadian", self.groups[self.kab_a.code]
        )
        await demo.settle(koordinator)
        await demo.say(koordinator, "/insiden")
        demo.clock.jump(1, "03:00")
        officer, _ = self.officers[5]
        await demo.say(officer, "/lapor insiden kritis Sirekap gagal unggah di 60 TPS, jaringan seluler putus")

    async def recap_and_digest(self) -> None:
        demo, t = self.demo, self.t
        t.write()
        demo.clock.jump(1, "16:00")
        t.write("== 8. H+1: rekapitulasi kecamatan dimulai; ringkasan grup provinsi, dengan grafik ==")
        for i, (officer, kec) in enumerate(self.officers[:4]):
            desa = len(await region_store.children(demo.rt.db, kec.code)) or 12 + i
            await demo.say(officer, f"/lapor rekap ppwp {desa // 2 + i}/{desa}")
        officer, kec = self.officers[0]
        desa = len(await region_store.children(demo.rt.db, kec.code)) or 12
        await demo.say(officer, f"/lapor rekap dpr {desa // 3}/{desa}")
        await demo.settle(officer)
        demo.clock.jump(1, "17:00")
        await self.commissioner.send(self.province, "/ringkasan")
        await demo.wait_for(self.province, "📊")
        charts = 0
        while charts < len(charts_of(demo.settings, 1)):  # the text comes first, then the charts
            message = await demo.emu.next_message(self.province, timeout=60)
            charts += bool(message.photo_bytes)
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
                for item, need in PLAN_PER_TPS.items():
                    pw.writerow([kec.code, item, need(n)])
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


#: kotak suara per TPS: one per jenis pemilihan
KOTAK_PER_TPS = 5
#: voters per TPS in the demo (at most 300 in 2024); surat suara per jenis = DPT + 2 %
DPT_PER_TPS = 280
#: kebutuhan of each item for a kecamatan of n TPS (domain.md, "How logistics and counting really run")
PLAN_PER_TPS = {
    "kotak_suara": lambda n: n * KOTAK_PER_TPS,
    "bilik_suara": lambda n: n * 4,
    "tinta": lambda n: n * 2,
    "segel": lambda n: n * 20,
    "hologram": lambda n: n * 10,
    **{
        f"surat_suara_{jenis}": (lambda n: n * DPT_PER_TPS * 102 // 100)
        for jenis in ("ppwp", "dpr", "dpd", "dprd_prov", "dprd_kabkota")
    },
    "formulir": lambda n: n * 30,
    "sampul": lambda n: n * 12,
    "alat_bantu_tunanetra": lambda n: n * 2,
}
#: the two stages of distribution: first kotak suara, bilik, tinta, segel; then surat suara and forms
STAGE_ONE = ("kotak_suara", "bilik_suara", "tinta", "segel", "hologram")
STAGE_TWO = tuple(item for item in PLAN_PER_TPS if item not in STAGE_ONE)


def charts_of(settings: Settings, day_offset: int) -> list[str]:
    """The charts a digest sends `day_offset` days from H (the rekapitulasi has none)."""
    return [section for section in sections_for(day_offset) if section != "rekap"]


def _dotted(value: int) -> str:
    """A count as an officer types it, dots between thousands (1.025)."""
    return f"{value:,}".replace(",", ".")


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
