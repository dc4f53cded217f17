"""The user side of the emulator: handles for bots, users and chats, and message snapshots for tests.

Users act through :class:`UserHandle` (``send``, ``send_photo``, ``send_document``, ``send_location``,
``send_contact``, ``press``, ``edit``, ``block``); what they type gets the entities Telegram would
attach (``bot_command``, ``mention``, ``hashtag``, ``url`` ...) and is delivered to bots under the
privacy-mode rules of :mod:`bot.emulator.world`.  Everything a test reads back is a :class:`SentMessage`
snapshot, taken when the message was sent or edited.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from .entities import TextError, entities_to_html, fix_formatted_text
from .files import FileStore, image_size
from .methods import BotApi
from .world import (
    Account,
    BotAccount,
    CallbackRecord,
    Chat,
    Membership,
    StoredMessage,
    UpdateRecord,
    World,
)


class EmulatorCore(Protocol):
    """What the handles need of the emulator. `BotApiEmulator` is one; naming it here keeps this
    module free of an import of the emulator, which imports the handles."""

    world: World
    files: FileStore
    api: BotApi

    def _chat_by_message(self, message: SentMessage) -> Chat: ...


JSON = dict[str, Any]


class NoMessageError(AssertionError, TimeoutError):
    """Nothing matching arrived in time; the message lists what the emulator did see.

    It is both an ``AssertionError`` (pytest shows the text) and a ``TimeoutError``
    (``asyncio.TimeoutError`` on Python ≥ 3.11), so either ``except`` works.
    """


@dataclass(frozen=True)
class Button:
    """One inline keyboard button as the bot sent it."""

    text: str
    callback_data: str | None = None
    url: str | None = None

    def __iter__(self) -> Iterator[str | None]:  # allows ``text, data = button``
        yield self.text
        yield self.callback_data if self.callback_data is not None else self.url


@dataclass(frozen=True)
class SentMessage:
    """A snapshot of a message (by a bot or a user) convenient for assertions; ``raw`` is the Bot API JSON."""

    raw: JSON
    chat_id: int
    message_id: int
    event: str = "sent"  # sent | edited | user | service
    from_bot: bool = False
    sender_id: int = 0
    text: str | None = None
    entities: tuple[JSON, ...] = ()
    caption: str | None = None
    caption_entities: tuple[JSON, ...] = ()
    thread_id: int | None = None
    reply_to_message_id: int | None = None
    media_group_id: str | None = None
    inline_keyboard: tuple[tuple[Button, ...], ...] = ()
    keyboard: JSON | None = None
    photo_bytes: bytes | None = None
    photo_size: tuple[int, int] | None = None
    document_bytes: bytes | None = None
    document_name: str | None = None
    mime_type: str | None = None
    location: JSON | None = None
    edit_date: int | None = None
    sent_at: float = 0.0
    observed_at: float = 0.0
    service: JSON = field(default_factory=dict)
    chat_ref: Chat | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, message: StoredMessage, event: str, observed_at: float) -> SentMessage:
        raw = message.json()
        markup = message.reply_markup or {}
        rows = tuple(
            tuple(Button(b.get("text", ""), b.get("callback_data"), b.get("url")) for b in row)
            for row in markup.get("inline_keyboard", [])
        )
        largest = message.photo[-1] if message.photo else None
        return cls(
            raw=raw,
            chat_id=message.chat.id,
            message_id=message.message_id,
            event=event,
            from_bot=message.from_bot,
            sender_id=message.sender.id,
            text=message.text,
            entities=tuple(dict(e) for e in message.entities),
            caption=message.caption,
            caption_entities=tuple(dict(e) for e in message.caption_entities),
            thread_id=message.thread_id,
            reply_to_message_id=message.reply_to.message_id if message.reply_to is not None else None,
            media_group_id=message.media_group_id,
            inline_keyboard=rows,
            keyboard=dict(message.keyboard) if message.keyboard else None,
            photo_bytes=largest.data if largest is not None else None,
            photo_size=(largest.width or 0, largest.height or 0) if largest is not None else None,
            document_bytes=message.document.data if message.document is not None else None,
            document_name=message.document.file_name if message.document is not None else None,
            mime_type=message.document.mime_type if message.document is not None else None,
            location=dict(message.location) if message.location else None,
            edit_date=message.edit_date,
            sent_at=message.sent_at,
            observed_at=observed_at,
            service=dict(message.service),
            chat_ref=message.chat,
        )

    @property
    def html(self) -> str:
        """The text (or caption) re-rendered as Telegram HTML from its formatting entities."""
        if self.text is not None:
            return entities_to_html(self.text, list(self.entities))
        return entities_to_html(self.caption or "", list(self.caption_entities))

    @property
    def buttons(self) -> list[list[tuple[str, str | None]]]:
        """The inline keyboard as rows of ``(text, callback_data or url)``."""
        return [
            [(b.text, b.callback_data if b.callback_data is not None else b.url) for b in row]
            for row in self.inline_keyboard
        ]

    @property
    def callback_data(self) -> list[str]:
        """All callback_data values of the inline keyboard, row by row."""
        return [b.callback_data for row in self.inline_keyboard for b in row if b.callback_data is not None]

    def button(self, text: str) -> Button:
        """The inline button whose label is ``text`` (exact match, then substring)."""
        flat = [b for row in self.inline_keyboard for b in row]
        for b in flat:
            if b.text == text:
                return b
        for b in flat:
            if text in b.text:
                return b
        raise KeyError(f"no button {text!r}; buttons: {[b.text for b in flat]}")

    def summary(self) -> str:
        body = self.text if self.text is not None else (self.caption or "")
        kind = "photo " if self.photo_bytes else "document " if self.document_bytes else ""
        if self.service:
            kind, body = "service ", ",".join(self.service)
        short = body if len(body) <= 80 else body[:77] + "..."
        return f"#{self.message_id} {kind}{short!r}"


@dataclass(frozen=True)
class CallbackAnswer:
    """What the bot passed to answerCallbackQuery."""

    text: str | None
    show_alert: bool
    url: str | None = None
    cache_time: int | None = None


class CallbackHandle:
    """A pressed inline button; ``await handle.answer()`` waits for the bot's answerCallbackQuery."""

    def __init__(self, record: CallbackRecord) -> None:
        self._record = record

    @property
    def id(self) -> str:
        return self._record.id

    @property
    def data(self) -> str:
        return self._record.data

    @property
    def answered(self) -> bool:
        return self._record.answered

    async def answer(self, timeout: float = 5.0) -> CallbackAnswer:
        future = self._record.answer
        assert future is not None
        try:
            result = await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            raise NoMessageError(
                f"bot did not answer callback query {self.id} (data={self.data!r}) within {timeout}s"
            ) from None
        return CallbackAnswer(
            text=result.get("text"),
            show_alert=bool(result.get("show_alert")),
            url=result.get("url"),
            cache_time=result.get("cache_time"),
        )


class BotHandle:
    """A bot registered in the emulator: its token for the Application, and its update log."""

    def __init__(self, emu: EmulatorCore, account: BotAccount) -> None:
        self._emu = emu
        self.account = account

    @property
    def id(self) -> int:
        return self.account.id

    @property
    def token(self) -> str:
        return self.account.token

    @property
    def username(self) -> str:
        return self.account.username or ""

    @property
    def first_name(self) -> str:
        return self.account.first_name

    @property
    def updates(self) -> list[UpdateRecord]:
        """Every update ever queued for this bot, with availability/delivery times (monotonic)."""
        return list(self.account.log)

    @property
    def pending_updates(self) -> int:
        return len(self.account.pending)

    def update_available_at(self, update_id: int) -> float:
        """``time.monotonic()`` at which ``update_id`` became available to getUpdates."""
        for record in self.account.log:
            if record.update_id == update_id:
                return record.available_at
        raise KeyError(update_id)

    def commands(self, scope: str = "default", language_code: str = "") -> list[JSON]:
        """Commands the bot set with setMyCommands for a scope key (``default``, ``all_private_chats``...)."""
        return [dict(c) for c in self.account.commands.get((scope, language_code), [])]

    def __repr__(self) -> str:
        return f"<BotHandle @{self.username} id={self.id}>"


class ChatHandle:
    """A chat in the emulated world; group management helpers generate the updates Telegram sends."""

    def __init__(self, emu: EmulatorCore, chat: Chat) -> None:
        self._emu = emu
        self.chat = chat

    @property
    def id(self) -> int:
        return self.chat.id

    @property
    def type(self) -> str:
        return self.chat.type

    @property
    def title(self) -> str | None:
        return self.chat.title

    @property
    def is_forum(self) -> bool:
        return self.chat.is_forum

    @property
    def topics(self) -> dict[int, str]:
        return {tid: topic.name for tid, topic in self.chat.topics.items()}

    def _actor(self, by: UserHandle | Account | None) -> Account:
        if by is None:
            if self.chat.creator is None:
                raise ValueError("pass by=<user> for a chat without creator")
            return self.chat.creator
        return by.account if isinstance(by, UserHandle) else by

    def create_topic(self, name: str, *, by: UserHandle | None = None, icon_color: int | None = None) -> int:
        """Create a forum topic (a ``forum_topic_created`` service message); returns its thread id."""
        topic = self._emu.world.create_topic(self.chat, name, by=self._actor(by), icon_color=icon_color)
        return topic.thread_id

    def add_bot(self, bot: BotHandle, *, by: UserHandle | None = None, admin: bool = False) -> None:
        """Add a bot: it gets ``my_chat_member``; members see a ``new_chat_members`` service message."""
        if self.chat.is_private:
            raise ValueError("bots cannot be added to private chats")
        if not bot.account.can_join_groups:
            raise ValueError(f"@{bot.username} cannot join groups (can_join_groups=false)")
        if self.chat.is_member(bot.account):
            raise ValueError(f"@{bot.username} is already in {self.chat.title!r}")
        actor = self._actor(by)
        world = self._emu.world
        world.set_status(self.chat, bot.account, "administrator" if admin else "member", by=actor)
        world.service_message(
            self.chat,
            actor,
            {
                "new_chat_members": [bot.account.user_json()],
                "new_chat_member": bot.account.user_json(),
                "new_chat_participant": bot.account.user_json(),
            },
        )

    def promote_bot(self, bot: BotHandle, *, by: UserHandle | None = None, **rights: bool) -> None:
        """Make a bot administrator (``my_chat_member`` member → administrator)."""
        self._emu.world.set_status(self.chat, bot.account, "administrator", by=self._actor(by), rights=rights)

    def remove_bot(self, bot: BotHandle, *, by: UserHandle | None = None) -> None:
        """Remove (ban) a bot: ``left_chat_member`` service message, then ``my_chat_member`` → kicked."""
        if not self.chat.is_member(bot.account):
            raise ValueError(f"@{bot.username} is not in {self.chat.title!r}")
        actor = self._actor(by)
        world = self._emu.world
        world.service_message(
            self.chat,
            actor,
            {"left_chat_member": bot.account.user_json(), "left_chat_participant": bot.account.user_json()},
        )
        world.set_status(self.chat, bot.account, "kicked", by=actor)

    def add_member(self, user: UserHandle, *, by: UserHandle | None = None) -> None:
        """A user joins (or is added); bots in the group get the ``new_chat_members`` service message."""
        actor = user.account if by is None else by.account
        self.chat.members[user.id] = Membership(user.account, "member")
        self._emu.world.service_message(
            self.chat,
            actor,
            {
                "new_chat_members": [user.account.user_json()],
                "new_chat_member": user.account.user_json(),
                "new_chat_participant": user.account.user_json(),
            },
        )

    def remove_member(self, user: UserHandle, *, by: UserHandle | None = None) -> None:
        actor = user.account if by is None else by.account
        self._emu.world.service_message(
            self.chat,
            actor,
            {"left_chat_member": user.account.user_json(), "left_chat_participant": user.account.user_json()},
        )
        self.chat.members[user.id] = Membership(user.account, "left")

    @property
    def reply_keyboard(self) -> JSON | None:
        """The reply keyboard the bot most recently showed in this chat (``None`` after a removal)."""
        for message in reversed(self.chat.live_messages()):
            if message.from_bot and message.keyboard is not None:
                return None if message.keyboard.get("remove_keyboard") else dict(message.keyboard)
        return None

    def __repr__(self) -> str:
        name = self.chat.title or (self.chat.private_user.first_name if self.chat.private_user else "")
        return f"<ChatHandle {self.chat.type} {name!r} id={self.chat.id}>"


class UserHandle:
    """A human Telegram user the test (or demo) acts as."""

    def __init__(self, emu: EmulatorCore, account: Account) -> None:
        self._emu = emu
        self.account = account

    @property
    def id(self) -> int:
        return self.account.id

    @property
    def first_name(self) -> str:
        return self.account.first_name

    @property
    def username(self) -> str | None:
        return self.account.username

    def __repr__(self) -> str:
        return f"<UserHandle {self.account.full_name!r} id={self.id}>"

    # ------------------------------------------------------------------ helpers

    def _chat(self, target: BotHandle | ChatHandle) -> Chat:
        if isinstance(target, BotHandle):
            return self._emu.world.private_chat(self.account, target.account)
        chat = target.chat
        if chat.is_private:
            if chat.private_user is not self.account:
                raise ValueError(f"{self!r} is not the user of {target!r}")
            return chat
        if not chat.is_member(self.account):
            raise ValueError(f"{self!r} is not a member of {target!r}")
        return chat

    @staticmethod
    def _thread(chat: Chat, thread_id: int | None) -> int | None:
        if thread_id is None:
            return None
        if not chat.is_forum or thread_id not in chat.topics:
            raise ValueError(f"no topic {thread_id} in {chat.title!r}")
        return thread_id

    @staticmethod
    def _reply(chat: Chat, reply_to: SentMessage | int | None) -> StoredMessage | None:
        if reply_to is None:
            return None
        message_id = reply_to if isinstance(reply_to, int) else reply_to.message_id
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise ValueError(f"message {message_id} does not exist in chat {chat.id}")
        return message

    def _open_private(self, chat: Chat) -> None:
        if not chat.is_private:
            return
        chat.started = True
        if chat.blocked:
            chat.blocked = False
            assert chat.private_bot is not None
            self._emu.world.set_status(chat, chat.private_bot, "member", by=self.account)

    async def _post(
        self, chat: Chat, *, thread_id: int | None, reply_to: StoredMessage | None, **content: Any
    ) -> SentMessage:
        self._open_private(chat)
        if reply_to is not None and thread_id is None:
            thread_id = reply_to.thread_id
        world = self._emu.world
        message = world.new_message(chat, self.account, thread_id=thread_id, reply_to=reply_to, **content)
        world.deliver(message)
        world.notify(message, "user")
        await asyncio.sleep(0)
        return SentMessage.of(message, "user", world.monotonic())

    @staticmethod
    def _text(text: str, limit: int) -> tuple[str, list[JSON]]:
        try:
            clean, entities = fix_formatted_text(text, [], allow_empty=False)
        except TextError as exc:
            raise ValueError(f"Telegram would refuse this text: {exc}") from None
        if len(clean) > limit:
            raise ValueError(f"text longer than {limit} characters")
        return clean, entities

    # ------------------------------------------------------------------ actions

    async def send(
        self,
        chat: BotHandle | ChatHandle,
        text: str,
        *,
        thread_id: int | None = None,
        reply_to: SentMessage | int | None = None,
    ) -> SentMessage:
        """Send a text message (to a bot = in the private chat with it, created on first contact)."""
        target = self._chat(chat)
        clean, entities = self._text(text, 4096)
        return await self._post(
            target,
            thread_id=self._thread(target, thread_id),
            reply_to=self._reply(target, reply_to),
            text=clean,
            entities=entities,
        )

    async def start(self, bot: BotHandle, payload: str | None = None) -> SentMessage:
        """Press START in the bot's profile: sends ``/start`` (with a deep-link payload if given)."""
        return await self.send(bot, f"/start {payload}" if payload else "/start")

    async def send_photo(
        self,
        chat: BotHandle | ChatHandle,
        photo: bytes,
        caption: str | None = None,
        *,
        reply_to: SentMessage | int | None = None,
        thread_id: int | None = None,
    ) -> SentMessage:
        """Send a photo (PNG/JPEG bytes); Telegram-style caption entities, caption ≤ 1024 characters."""
        target = self._chat(chat)
        dims = image_size(photo)
        if dims is None:
            raise ValueError("photo bytes are not a PNG/JPEG/GIF/BMP/WebP image")
        sizes = self._emu.files.add_photo(photo, *dims)
        for size in sizes:
            self._emu.api.photo_sets[size.file_id] = sizes
        caption_text, caption_entities = self._text(caption, 1024) if caption else (None, [])
        return await self._post(
            target,
            thread_id=self._thread(target, thread_id),
            reply_to=self._reply(target, reply_to),
            photo=sizes,
            caption=caption_text,
            caption_entities=caption_entities,
        )

    async def send_document(
        self,
        chat: BotHandle | ChatHandle,
        data: bytes,
        file_name: str,
        mime_type: str | None = None,
        caption: str | None = None,
        *,
        reply_to: SentMessage | int | None = None,
        thread_id: int | None = None,
    ) -> SentMessage:
        """Send a file as a document."""
        target = self._chat(chat)
        stored = self._emu.files.add_document(data, file_name, mime_type)
        caption_text, caption_entities = self._text(caption, 1024) if caption else (None, [])
        return await self._post(
            target,
            thread_id=self._thread(target, thread_id),
            reply_to=self._reply(target, reply_to),
            document=stored,
            caption=caption_text,
            caption_entities=caption_entities,
        )

    async def send_location(
        self,
        chat: BotHandle | ChatHandle,
        latitude: float,
        longitude: float,
        *,
        reply_to: SentMessage | int | None = None,
        thread_id: int | None = None,
    ) -> SentMessage:
        """Share a location (what a ``request_location`` keyboard button sends)."""
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise ValueError("latitude/longitude out of range")
        target = self._chat(chat)
        return await self._post(
            target,
            thread_id=self._thread(target, thread_id),
            reply_to=self._reply(target, reply_to),
            location={"latitude": latitude, "longitude": longitude},
        )

    async def send_contact(
        self,
        chat: BotHandle | ChatHandle,
        phone_number: str,
        *,
        reply_to: SentMessage | int | None = None,
    ) -> SentMessage:
        """Share the user's own contact (what a ``request_contact`` keyboard button sends)."""
        target = self._chat(chat)
        contact: JSON = {"phone_number": phone_number, "first_name": self.account.first_name}
        if self.account.last_name:
            contact["last_name"] = self.account.last_name
        contact["user_id"] = self.account.id
        return await self._post(target, thread_id=None, reply_to=self._reply(target, reply_to), contact=contact)

    async def edit(self, message: SentMessage, text: str) -> SentMessage:
        """Edit one of the user's own text messages; bots that saw it get ``edited_message``."""
        chat = self._emu._chat_by_message(message)
        stored = chat.messages.get(message.message_id)
        if stored is None or stored.deleted or stored.sender is not self.account or stored.text is None:
            raise ValueError("users can only edit their own text messages")
        clean, entities = self._text(text, 4096)
        world = self._emu.world
        stored.text, stored.entities = clean, entities
        stored.edit_date = world.now()
        world.deliver(stored, "edited_message")
        world.notify(stored, "user_edited")
        await asyncio.sleep(0)
        return SentMessage.of(stored, "user_edited", world.monotonic())

    async def press(self, message: SentMessage, callback_data: str, *, forged: bool = False) -> CallbackHandle:
        """Press an inline button of a bot message; the bot gets a ``callback_query`` update.

        Raises ``ValueError`` if the message (in its current state) has no button with that data,
        unless ``forged``: a modified client sends any ``callback_data`` for a message it sees.
        """
        chat = self._emu._chat_by_message(message)
        if chat.is_private and chat.private_user is not self.account:
            raise ValueError(f"{self!r} cannot see messages of chat {chat.id}")
        if not chat.is_private and not chat.is_member(self.account):
            raise ValueError(f"{self!r} is not a member of chat {chat.id}")
        stored = chat.messages.get(message.message_id)
        if stored is None or stored.deleted:
            raise ValueError(f"message {message.message_id} was deleted")
        if not isinstance(stored.sender, BotAccount):
            raise ValueError("only bot messages carry inline keyboards")
        data = [b.get("callback_data") for row in (stored.reply_markup or {}).get("inline_keyboard", []) for b in row]
        if callback_data not in data and not forged:
            raise ValueError(
                f"message {stored.message_id} has no button with callback_data {callback_data!r}; "
                f"it has {[d for d in data if d is not None]}"
            )
        record = self._emu.world.new_callback(stored.sender, self.account, stored, callback_data)
        await asyncio.sleep(0)
        return CallbackHandle(record)

    async def press_button(self, message: SentMessage, text: str) -> CallbackHandle:
        """Press the inline button labelled ``text``."""
        button = message.button(text)
        if button.callback_data is None:
            raise ValueError(f"button {text!r} is a URL button")
        return await self.press(message, button.callback_data)

    def block(self, bot: BotHandle) -> None:
        """Block the bot: it gets ``my_chat_member`` (member → kicked) and 403 on sends."""
        chat = self._emu.world.private_chat(self.account, bot.account)
        if chat.blocked:
            return
        chat.blocked = True
        self._emu.world.set_status(chat, bot.account, "kicked", by=self.account)

    def unblock(self, bot: BotHandle) -> None:
        chat = self._emu.world.private_chat(self.account, bot.account)
        if chat.blocked:
            chat.blocked = False
            self._emu.world.set_status(chat, bot.account, "member", by=self.account)
