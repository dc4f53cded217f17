"""Digest delivery without Telegram: how many are prepared at once, and what goes out."""

import asyncio
from datetime import timedelta
from types import SimpleNamespace

import pytest

from bot.services.runtime import DIGESTS_AT_ONCE, DIGESTS_COMPUTED_AT_ONCE
from bot.telegram import digests as digest_delivery
from bot.telegram.digests import PreparedDigest, send_digest

NIK = "5103011234560001"


class FakeBot:
    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, chat_id, text, message_thread_id=None):
        self.sent.append((chat_id, text))

    async def send_photo(self, chat_id, png, filename=None, message_thread_id=None):
        self.sent.append((chat_id, f"photo:{filename}"))
        return SimpleNamespace(photo=[])

    async def send_media_group(self, chat_id, media, message_thread_id=None):
        self.sent.append((chat_id, f"album:{len(media)}"))
        return [SimpleNamespace(photo=[]) for _ in media]


async def test_at_07_00_the_data_is_read_first_and_a_few_digests_are_sent_at_once(rt, monkeypatch):
    """Every group's digest is due at 07:00: their data is read a couple at a time, without waiting
    for the sending (so it is of that minute), while at most DIGESTS_AT_ONCE are drawn and sent at
    once — the others wait holding only their data."""
    computing = peak_computing = 0
    computed = 0
    sending = peak_sending = 0
    gate, all_read = asyncio.Event(), asyncio.Event()
    real_digest_now = digest_delivery.digest_now

    async def counted(rt_, region_code):
        nonlocal computing, peak_computing, computed
        computing += 1
        peak_computing = max(peak_computing, computing)
        try:
            return await real_digest_now(rt_, "51")
        finally:
            computing -= 1
            computed += 1
            if computed == 20:
                all_read.set()

    class HeldBot(FakeBot):
        async def send_message(self, chat_id, text, message_thread_id=None):
            nonlocal sending, peak_sending
            sending += 1
            peak_sending = max(peak_sending, sending)
            await gate.wait()
            sending -= 1
            await super().send_message(chat_id, text, message_thread_id)

    monkeypatch.setattr(digest_delivery, "digest_now", counted)
    bot = HeldBot()
    # twenty groups of twenty regions (one region's groups would share one computation)
    tasks = [asyncio.create_task(send_digest(bot, rt, -100 - i, f"r{i}", with_charts=False)) for i in range(20)]
    await asyncio.wait_for(all_read.wait(), 30)  # the sending is held: all twenty are read all the same
    assert peak_computing == DIGESTS_COMPUTED_AT_ONCE
    assert peak_sending == DIGESTS_AT_ONCE
    gate.set()
    sent = await asyncio.gather(*tasks)
    assert len(set(sent)) == 1 and sent[0] >= 1
    assert peak_sending == DIGESTS_AT_ONCE and len(bot.sent) == 20 * sent[0]


async def test_a_prepared_digest_goes_out_as_text_then_one_album_with_niks_masked(rt):
    bot = FakeBot()
    digest = PreparedDigest(
        [f"Ringkasan Bali: NIK {NIK} ganda", "Bagian 2"],
        [("logistik.png", b"1"), ("rekap.png", b"2"), ("insiden.png", b"3")],
    )
    assert await send_digest(bot, rt, -1001, "51", prepared=digest) == 5
    assert bot.sent == [(-1001, "Ringkasan Bali: NIK 5103**********01 ganda"), (-1001, "Bagian 2"), (-1001, "album:3")]
    one = PreparedDigest(["Progres"], [("rekap.png", b"2")])
    assert await send_digest(bot, rt, -1001, "51", prepared=one) == 2 and bot.sent[-1] == (-1001, "photo:rekap.png")


async def test_charts_drawn_to_disk_are_uploaded_as_files_not_paths(rt, tmp_path):
    """A prepared digest may keep its charts on disk until sent (the fan-out does): they must go
    out as uploads. PTB passes a path inside an album on as a file:// URI, which Telegram refuses
    ("Wrong file identifier") unless it is a Bot API server in local mode."""
    albums = []

    class AlbumBot(FakeBot):
        async def send_media_group(self, chat_id, media, message_thread_id=None):
            albums.append(media)
            return await super().send_media_group(chat_id, media, message_thread_id)

    paths = []
    for name in ("logistik.png", "rekap.png"):
        (tmp_path / name).write_bytes(b"\x89PNG" + name.encode())
        paths.append((name, tmp_path / name))
    assert await send_digest(AlbumBot(), rt, -1001, "51", prepared=PreparedDigest(["Ringkasan"], paths)) == 3
    assert [type(m.media).__name__ for m in albums[0]] == ["InputFile", "InputFile"]


async def test_a_regions_digest_is_computed_once_a_minute_whoever_asks(rt, monkeypatch):
    """Everyone asking for a region's digest within a minute shares one computation (those asking
    while it runs wait for it); the next minute computes again; a failure is not kept."""
    computed: list[str] = []
    gate = asyncio.Event()
    real_digest_now = digest_delivery.digest_now

    async def counted(rt_, region_code):
        computed.append(region_code)
        await gate.wait()
        if region_code == "bad":
            raise RuntimeError("database gone")
        return await real_digest_now(rt_, region_code)

    monkeypatch.setattr(digest_delivery, "digest_now", counted)
    bot = FakeBot()
    first = [asyncio.create_task(send_digest(bot, rt, -100 - i, "51", with_charts=False)) for i in range(3)]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*first)
    await send_digest(bot, rt, -200, "51", sections=("logistik",), with_charts=False)
    assert computed == ["51"]
    now = rt.clock()
    monkeypatch.setattr(rt, "clock", lambda: now + timedelta(minutes=1))
    await send_digest(bot, rt, -100, "51", with_charts=False)
    assert computed == ["51", "51"]
    for _ in range(2):
        with pytest.raises(RuntimeError):
            await send_digest(bot, rt, -100, "bad", with_charts=False)
    assert computed == ["51", "51", "bad", "bad"]


async def test_a_digest_in_a_private_chat_goes_at_telegrams_pace_without_a_429(rt):
    """Two digests asked for at once in one private chat (two texts and an album of three charts
    each), through the bot's rate limiter, to the emulator enforcing Telegram's limits (a private
    chat: a burst of three, then one a second): paced, no 429 — which would pause every call of
    the bot — and all ten messages there."""
    from collections import Counter

    from telegram.ext import ExtBot

    from bot.emulator import BotApiEmulator
    from bot.telegram.http import AiohttpRequest
    from bot.telegram.rate_limit import TelegramRateLimiter

    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
        b"\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    async with BotApiEmulator() as emu:
        emu.enforce_flood_limits = True
        handle = emu.add_bot("kpu_koordinasi_bot", "KPU")
        refused = Counter()
        check = emu.api.flood.check

        def counted(*args, **kwargs):
            try:
                return check(*args, **kwargs)
            except Exception:
                refused["429"] += 1
                raise

        emu.api.flood.check = counted
        user = emu.user(500, "Koordinator")
        await user.send(handle, "/start")
        ext = ExtBot(
            handle.token,
            base_url=f"{emu.url}/bot",
            base_file_url=f"{emu.url}/file/bot",
            request=AiohttpRequest(),
            get_updates_request=AiohttpRequest(connection_pool_size=1),
            rate_limiter=TelegramRateLimiter(),
        )
        digest = PreparedDigest(["Ringkasan 1", "Ringkasan 2"], [(f"{n}.png", png) for n in ("a", "b", "c")])
        async with ext:
            sent = await asyncio.gather(*(send_digest(ext, rt, user.id, "51", prepared=digest) for _ in range(2)))
        assert sent == [5, 5] and refused["429"] == 0
        assert len(emu.bot_messages(emu.private_chat(user, handle))) == 10
