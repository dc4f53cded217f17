"""The rate limiter (bot.telegram.rate_limit): messages counted as Telegram counts them, windows, 429s."""

import asyncio
from collections import Counter

import pytest
from telegram import InputMediaPhoto
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bot.emulator import BotApiEmulator
from bot.telegram.http import AiohttpRequest
from bot.telegram.rate_limit import (
    NO_RETRIES,
    Priority,
    SlidingWindow,
    TelegramRateLimiter,
    current_priority,
    message_count,
    priority,
)

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"
    b"\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_an_album_counts_its_photos():
    assert message_count("sendMediaGroup", {"media": [1, 2, 3]}) == 3
    assert message_count("sendMessage", {"chat_id": 5, "text": "x"}) == 1
    assert message_count("sendMediaGroup", {}) == 1


async def test_a_window_admits_its_limit_then_waits_for_answers_and_the_period():
    window = SlidingWindow(3, 0.05)
    await window.acquire(2)
    await window.acquire(1)
    late = asyncio.create_task(window.acquire(1))
    await asyncio.sleep(0)
    assert not late.done()  # three in flight: the window is full
    window.release(2)
    await asyncio.sleep(0)
    assert not late.done()  # answered, but counted for one more period
    await asyncio.wait_for(late, 1.0)  # then there is room
    window.release(1)
    window.release(1)


async def test_first_come_first_served():
    """An album waiting for room is not overtaken by a single message that would fit sooner."""
    window = SlidingWindow(2, 0.05)
    await window.acquire(2)
    order = []

    async def take(name, count):
        await window.acquire(count)
        order.append(name)

    album = asyncio.create_task(take("album", 2))
    await asyncio.sleep(0)
    single = asyncio.create_task(take("single", 1))
    await asyncio.sleep(0)
    window.release(2)
    await asyncio.wait_for(album, 1.0)
    assert order == ["album"] and not single.done()  # the album's two fill the window again
    window.release(2)
    await asyncio.wait_for(single, 1.0)
    assert order == ["album", "single"]
    window.release(1)


async def test_a_higher_class_is_admitted_before_any_lower_one_and_oldest_first_within_a_class():
    """The window is full; receipts, a digest, a kritis post and an answer wait: as room comes back
    the answer goes first, then the kritis post, then the receipts in their order, the digest last."""
    window = SlidingWindow(1, 0.01)
    await window.acquire(1)
    order: list[str] = []

    async def take(name: str, level: Priority) -> None:
        await window.acquire(1, level)
        order.append(name)
        window.release(1)

    tasks = []
    for name, level in (
        ("receipt 1", Priority.RECEIPT),
        ("digest", Priority.ROUTINE),
        ("receipt 2", Priority.RECEIPT),
        ("kritis", Priority.URGENT),
        ("answer", Priority.ANSWER),
    ):
        tasks.append(asyncio.create_task(take(name, level)))
        await asyncio.sleep(0)
    assert window.waiting == 5 and not order
    window.release(1)
    await asyncio.wait_for(asyncio.gather(*tasks), 2.0)
    assert order == ["answer", "kritis", "receipt 1", "receipt 2", "digest"]


async def test_a_waiter_that_gives_up_leaves_no_trace():
    """A cancelled waiter neither holds room nor blocks the ones behind it."""
    window = SlidingWindow(1, 0.01)
    await window.acquire(1)
    gone = asyncio.create_task(window.acquire(1, Priority.ANSWER))
    later = asyncio.create_task(window.acquire(1, Priority.ROUTINE))
    await asyncio.sleep(0)
    gone.cancel()
    await asyncio.sleep(0)
    window.release(1)
    await asyncio.wait_for(later, 1.0)
    window.release(1)
    await asyncio.sleep(0.02)
    assert window.idle


async def test_the_priority_of_a_call_is_its_senders_context():
    """`priority(...)` marks the calls made inside it (and tasks started there); elsewhere a call
    is an answer. Under a full overall window an answer overtakes queued receipts and digests."""
    assert current_priority() is Priority.ANSWER
    with priority(Priority.RECEIPT):
        assert current_priority() is Priority.RECEIPT
        assert await asyncio.create_task(_level()) is Priority.RECEIPT
    assert current_priority() is Priority.ANSWER

    limiter = TelegramRateLimiter(overall_per_second=1)
    await limiter.initialize()
    order: list[str] = []

    def call(name: str):
        async def send():
            order.append(name)
            return True

        return send

    async def send(name: str, chat_id: int, level: Priority):
        with priority(level):
            return await limiter.process_request(call(name), (), {}, "sendMessage", {"chat_id": chat_id}, None)

    await send("first", 1, Priority.ROUTINE)  # fills the window for a second
    waiting = [asyncio.create_task(send(f"receipt {i}", 10 + i, Priority.RECEIPT)) for i in range(2)]
    waiting.append(asyncio.create_task(send("digest", -100, Priority.ROUTINE)))
    await asyncio.sleep(0.01)
    waiting.append(asyncio.create_task(send("bantuan", 99, Priority.ANSWER)))
    await asyncio.wait_for(asyncio.gather(*waiting), 6.0)
    assert order == ["first", "bantuan", "receipt 0", "receipt 1", "digest"]


async def _level() -> Priority:
    return current_priority()


async def test_a_429_pauses_and_the_call_is_tried_again():
    limiter = TelegramRateLimiter(max_retries=1)
    await limiter.initialize()
    calls = Counter()

    async def refused_once():
        calls["n"] += 1
        if calls["n"] == 1:
            raise RetryAfter(0)
        return True

    assert await limiter.process_request(refused_once, (), {}, "sendMessage", {"chat_id": 5}, None) is True
    assert calls["n"] == 2

    async def always_refused():
        raise RetryAfter(0)

    with pytest.raises(RetryAfter):
        await limiter.process_request(always_refused, (), {}, "sendMessage", {"chat_id": -100}, None)


async def test_a_429_for_one_chat_pauses_that_chat_only():
    """A chat under flood control waits its `retry_after`; another chat is served at once; a 429 on
    a call for no chat (the bot as a whole) pauses every call. NO_RETRIES: refused at once."""
    limiter = TelegramRateLimiter(max_retries=3)
    await limiter.initialize()
    loop = asyncio.get_running_loop()

    async def refused():
        raise RetryAfter(30)

    async def ok():
        return True

    with pytest.raises(RetryAfter):  # NO_RETRIES: the caller reschedules; the chat is paused
        await limiter.process_request(refused, (), {}, "sendMessage", {"chat_id": 5}, NO_RETRIES)
    started = loop.time()
    assert await limiter.process_request(ok, (), {}, "sendMessage", {"chat_id": 6}, None) is True
    assert await limiter.process_request(ok, (), {}, "sendMessage", {"chat_id": -100}, None) is True
    assert loop.time() - started < 0.5
    paused = asyncio.ensure_future(limiter.process_request(ok, (), {}, "sendMessage", {"chat_id": 5}, None))
    done, _ = await asyncio.wait({paused}, timeout=0.1)  # it waits for the pause of chat 5
    assert not done
    paused.cancel()
    with pytest.raises(RetryAfter):
        await limiter.process_request(refused, (), {}, "getMe", {}, NO_RETRIES)
    everyone = asyncio.ensure_future(limiter.process_request(ok, (), {}, "sendMessage", {"chat_id": 6}, None))
    done, _ = await asyncio.wait({everyone}, timeout=0.1)
    assert not done
    everyone.cancel()


async def test_albums_and_texts_at_full_speed_draw_no_429_from_a_strict_server():
    """Ten albums of three photos and twenty texts to thirty chats at once, against the emulator
    enforcing Telegram's limits (30 messages in any second, an album counting its photos)."""
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
        users = [emu.user(500 + i, f"Petugas {i}") for i in range(30)]
        for user in users:
            await user.send(handle, "/start")
        ext = ExtBot(
            handle.token,
            base_url=f"{emu.url}/bot",
            base_file_url=f"{emu.url}/file/bot",
            request=AiohttpRequest(),
            get_updates_request=AiohttpRequest(connection_pool_size=1),
            rate_limiter=TelegramRateLimiter(),
        )
        async with ext:
            loop = asyncio.get_running_loop()
            started = loop.time()
            albums = [ext.send_media_group(u.id, [InputMediaPhoto(PNG) for _ in range(3)]) for u in users[:10]]
            texts = [ext.send_message(u.id, f"Ringkasan {i}") for i, u in enumerate(users[10:])]
            await asyncio.gather(*albums, *texts)
            elapsed = loop.time() - started
        assert refused["429"] == 0
        assert elapsed >= (50 - 30) / 30  # 50 messages: the second second's worth had to wait
        assert sum(len(emu.bot_messages(emu.private_chat(u, handle))) for u in users) == 50


async def test_a_window_says_how_long_a_call_would_wait_without_waiting():
    window = SlidingWindow(2, 0.5)
    assert window.delay(1) == 0.0
    await window.acquire(2)
    assert window.delay(1) == 0.5  # both in flight: room only comes a period after an answer
    window.release(2)
    assert 0.4 < window.delay(1) <= 0.5  # counted until a period after the answer
    await asyncio.sleep(0.55)
    assert window.delay(2) == 0.0


async def test_chat_delay_is_a_groups_own_window_and_a_pause_after_a_429():
    limiter = TelegramRateLimiter(group_per_minute=1)
    await limiter.initialize()

    async def sent() -> bool:
        return True

    assert limiter.chat_delay(-100) == 0.0
    await limiter.process_request(sent, (), {}, "sendMessage", {"chat_id": -100}, None)
    assert 59 < limiter.chat_delay(-100) <= 60  # the group's minute is used
    assert limiter.chat_delay(-200) == 0.0  # another group is not
    assert limiter.chat_delay(7) == 0.0  # private chats: only the overall window (not a chat's own)

    async def refused() -> bool:
        raise RetryAfter(5)

    with pytest.raises(RetryAfter):
        await limiter.process_request(refused, (), {}, "sendMessage", {"chat_id": 7}, NO_RETRIES)
    assert 4.9 < limiter.chat_delay(7) <= 5.1
    assert limiter.chat_delay(7, pause=False) == 0.0  # the outbox holds such a chat on its own clock


async def test_private_chats_are_paced_when_asked():
    limiter = TelegramRateLimiter(private_burst=2)
    await limiter.initialize()

    async def sent() -> bool:
        return True

    for _ in range(2):
        await limiter.process_request(sent, (), {}, "sendMessage", {"chat_id": 7}, None)
    assert 1.9 < limiter.chat_delay(7) <= 2.0  # a burst of two, then one a second
    assert limiter.chat_delay(7, "editMessageText") == 0.0  # an edit makes no new message
