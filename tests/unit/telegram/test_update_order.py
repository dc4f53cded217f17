"""Per-chat ordered, cross-chat concurrent update processing (bot.telegram.update_order)."""

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User
from telegram.ext import BaseUpdateProcessor

from bot.telegram.update_order import PerChatUpdateProcessor, order_key

WHEN = datetime(2024, 2, 14, tzinfo=UTC)


def update(update_id: int, chat_id: int) -> Update:
    chat = Chat(chat_id, Chat.PRIVATE if chat_id > 0 else Chat.SUPERGROUP)
    user = User(abs(chat_id), "Wayan", is_bot=False)
    return Update(update_id, message=Message(update_id, WHEN, chat, from_user=user, text="/lapor"))


async def test_one_chat_in_order_other_chats_meanwhile():
    processor = PerChatUpdateProcessor(8)
    log: list[tuple[str, int]] = []
    release = asyncio.Event()

    async def handle(u: Update, slow: bool = False) -> None:
        log.append(("start", u.update_id))
        if slow:
            await release.wait()
        log.append(("end", u.update_id))

    first = asyncio.create_task(processor.process_update(update(1, 100), handle(update(1, 100), slow=True)))
    second = asyncio.create_task(processor.process_update(update(2, 100), handle(update(2, 100))))
    other = asyncio.create_task(processor.process_update(update(3, -200), handle(update(3, -200))))
    await other  # another chat is not held up by chat 100's slow update
    assert ("end", 3) in log and ("start", 2) not in log
    release.set()
    await asyncio.gather(first, second)
    assert log.index(("end", 1)) < log.index(("start", 2))  # chat 100: strictly one after the other
    assert processor.chats_in_progress == 0


async def test_a_failing_update_does_not_stop_its_chat():
    processor = PerChatUpdateProcessor(4)
    done = []

    async def boom() -> None:
        raise RuntimeError("handler failed")

    async def ok() -> None:
        done.append(2)

    failing = asyncio.create_task(processor.process_update(update(1, 100), boom()))
    following = asyncio.create_task(processor.process_update(update(2, 100), ok()))
    assert isinstance((await asyncio.gather(failing, return_exceptions=True))[0], RuntimeError)
    await following
    assert done == [2]


async def test_cancelled_while_waiting_its_turn_never_runs():
    processor = PerChatUpdateProcessor(4)
    release = asyncio.Event()
    ran = []

    async def slow() -> None:
        await release.wait()

    async def never() -> None:
        ran.append("never")

    first = asyncio.create_task(processor.process_update(update(1, 100), slow()))
    waiting = asyncio.create_task(processor.process_update(update(2, 100), never()))
    await asyncio.sleep(0)  # one turn of the loop: both are now queued behind chat 100's first update
    waiting.cancel()
    release.set()
    await first
    assert (await asyncio.gather(waiting, return_exceptions=True))[0].__class__ is asyncio.CancelledError
    assert ran == [] and processor.chats_in_progress == 0


def test_order_key():
    assert order_key(update(1, 100)) == ("chat", 100)
    assert order_key(update(1, -100123)) == ("chat", -100123)
    assert order_key(object()) is None
    assert isinstance(PerChatUpdateProcessor(), BaseUpdateProcessor)


async def test_a_chat_waiting_its_turn_takes_no_running_slot():
    """Two running slots, chat 100 sends five updates and its first one is slow: chat 200 is
    still processed at once (the four waiting updates of chat 100 take no slot)."""
    processor = PerChatUpdateProcessor(2)
    release = asyncio.Event()
    done = []

    async def slow() -> None:
        await release.wait()
        done.append("slow")

    async def quick(name: str) -> None:
        done.append(name)

    tasks = [asyncio.create_task(processor.process_update(update(1, 100), slow()))]
    tasks += [asyncio.create_task(processor.process_update(update(n, 100), quick(f"100/{n}"))) for n in range(2, 6)]
    other = asyncio.create_task(processor.process_update(update(9, 200), quick("200")))
    await other
    assert done == ["200"] and processor.current_concurrent_updates == 1
    release.set()
    await asyncio.gather(*tasks)
    assert done == ["200", "slow", "100/2", "100/3", "100/4", "100/5"]
    assert processor.max_concurrent_updates == 2 and processor.current_concurrent_updates == 0
