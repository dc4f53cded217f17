"""The emulated Telegram world: accounts, chats, memberships, messages and per-bot update queues.

Faithful to Telegram as bots observe it:

* private chats are per (user, bot) pair and identified towards the bot by the user's id; groups have
  negative ids, supergroups ``-100…`` ids; forum supergroups have topics whose ``message_thread_id`` is
  the id of their ``forum_topic_created`` service message, the General topic has none;
* every Bot API object is built with the fields the official server emits (``Message``, ``Chat``,
  ``ChatFullInfo``, ``User``, ``ChatMember*``, ``ChatMemberUpdated``, ``CallbackQuery``); a
  ``reply_to_message`` never contains a further ``reply_to_message``;
* group privacy mode: a bot with ``can_read_all_group_messages=false`` that is not an administrator only
  gets messages that start with a command meant for it (``/cmd`` or ``/cmd@its_name``; commands for
  another bot are not delivered), messages mentioning it by ``@username``, replies to its own messages
  and service messages; bots never receive messages sent by bots; everything in private chats;
* ``update_id`` grows by one per bot starting from a random positive number; updates are kept until
  confirmed with ``getUpdates(offset=...)`` and filtered by the bot's remembered ``allowed_updates`` at
  the moment they are created (Telegram does the same).

Simplified: message ids are counted per chat (Telegram numbers private-chat and basic-group messages per
account); no channels, no chat_member/chat_join_request updates, no message reactions, no migration of
groups to supergroups, no non-forum reply threads.
"""

from __future__ import annotations

import asyncio
import random
import string
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .files import StoredFile, document_json, photo_size_json

JSON = dict[str, Any]

# Update types, in the order of the official server; the default set excludes the three opt-in ones.
UPDATE_TYPES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
    "message_reaction",
    "message_reaction_count",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "purchased_paid_media",
)
DEFAULT_ALLOWED_UPDATES = frozenset(UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
TOPIC_ICON_COLORS = (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)
ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
}
DEFAULT_PERMISSIONS = {
    "can_send_messages": True,
    "can_send_audios": True,
    "can_send_documents": True,
    "can_send_photos": True,
    "can_send_videos": True,
    "can_send_video_notes": True,
    "can_send_voice_notes": True,
    "can_send_polls": True,
    "can_send_other_messages": True,
    "can_add_web_page_previews": True,
    "can_change_info": False,
    "can_invite_users": True,
    "can_pin_messages": False,
    "can_manage_topics": False,
}


class Signal:
    """A level-triggered wake-up for coroutines waiting on state that synchronous code changes."""

    def __init__(self) -> None:
        self._future: asyncio.Future[None] | None = None

    def fire(self) -> None:
        if self._future is not None and not self._future.done():
            self._future.set_result(None)
        self._future = None

    async def wait(self, timeout: float | None) -> bool:
        """Wait until the next :meth:`fire`; ``False`` on timeout."""
        if self._future is None or self._future.done():
            self._future = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._future), timeout)
        except TimeoutError:
            return False
        return True


# --------------------------------------------------------------------------- accounts


@dataclass(eq=False)
class Account:
    """A Telegram user; bots are accounts too (:class:`BotAccount`)."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    is_premium: bool = False

    @property
    def is_bot(self) -> bool:
        return False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def user_json(self) -> JSON:
        """The ``User`` object, as embedded in messages and updates."""
        out: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.last_name:
            out["last_name"] = self.last_name
        if self.username:
            out["username"] = self.username
        if self.language_code and not self.is_bot:
            out["language_code"] = self.language_code
        if self.is_premium and not self.is_bot:
            out["is_premium"] = True
        return out


@dataclass
class UpdateRecord:
    """One update in a bot's queue, with the timestamps benchmarks need (``time.monotonic`` seconds)."""

    update_id: int
    kind: str
    payload: JSON
    available_at: float
    delivered_at: float | None = None
    confirmed_at: float | None = None

    def json(self) -> JSON:
        return {"update_id": self.update_id, self.kind: self.payload}


@dataclass
class CallbackRecord:
    """A callback query a user created by pressing an inline button, awaiting answerCallbackQuery."""

    id: str
    bot: BotAccount
    user: Account
    chat: Chat
    message_id: int
    data: str
    created_at: float
    answer: asyncio.Future[JSON] | None = None
    answered: bool = False


@dataclass(eq=False)
class BotAccount(Account):
    """A bot: its token, its getMe flags and its own update queue and settings."""

    token: str = ""
    can_join_groups: bool = True
    can_read_all_group_messages: bool = False
    supports_inline_queries: bool = False
    next_update_id: int = 1
    pending: list[UpdateRecord] = field(default_factory=list)
    log: list[UpdateRecord] = field(default_factory=list)
    allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
    updates_signal: Signal = field(default_factory=Signal)
    poll_generation: int = 0
    commands: dict[tuple[str, str], list[JSON]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    short_descriptions: dict[str, str] = field(default_factory=dict)
    menu_buttons: dict[int | None, JSON] = field(default_factory=dict)
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_last_error: tuple[int, str] | None = None

    @property
    def is_bot(self) -> bool:
        return True

    def me_json(self) -> JSON:
        """The ``User`` object returned by getMe (with the bot-only capability flags)."""
        out = self.user_json()
        out.update(
            {
                "can_join_groups": self.can_join_groups,
                "can_read_all_group_messages": self.can_read_all_group_messages,
                "supports_inline_queries": self.supports_inline_queries,
                "can_connect_to_business": False,
                "has_main_web_app": False,
            }
        )
        return out

    def enqueue(self, kind: str, payload: JSON, now: float) -> UpdateRecord | None:
        """Queue an update unless the bot's ``allowed_updates`` excludes its type (as Telegram does)."""
        if kind not in self.allowed_updates:
            return None
        record = UpdateRecord(self.next_update_id, kind, payload, now)
        self.next_update_id += 1
        self.pending.append(record)
        self.log.append(record)
        self.updates_signal.fire()
        return record


# --------------------------------------------------------------------------- chats and messages


@dataclass
class Membership:
    account: Account
    status: str  # creator | administrator | member | left | kicked
    rights: JSON = field(default_factory=dict)

    @property
    def is_present(self) -> bool:
        return self.status in ("creator", "administrator", "member")

    def json(self) -> JSON:
        out: JSON = {"user": self.account.user_json(), "status": self.status}
        if self.status == "creator":
            out["is_anonymous"] = False
        elif self.status == "administrator":
            out.update(ADMIN_RIGHTS)
            out.update(self.rights)
        elif self.status == "kicked":
            out["until_date"] = 0
        return out


@dataclass
class Topic:
    thread_id: int
    name: str
    icon_color: int
    closed: bool = False


@dataclass(eq=False)
class StoredMessage:
    """A message as the server stores it; :meth:`json` renders the Bot API ``Message``."""

    chat: Chat
    message_id: int
    date: int
    sender: Account
    thread_id: int | None = None
    reply_to: StoredMessage | None = None
    text: str | None = None
    entities: list[JSON] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[JSON] = field(default_factory=list)
    photo: list[StoredFile] = field(default_factory=list)
    document: StoredFile | None = None
    location: JSON | None = None
    contact: JSON | None = None
    service: JSON = field(default_factory=dict)
    reply_markup: JSON | None = None  # inline keyboards only (what Message.reply_markup shows)
    keyboard: JSON | None = None  # reply keyboard / remove / force_reply sent along (not in Message)
    media_group_id: str | None = None
    edit_date: int | None = None
    forward_origin: JSON | None = None
    has_protected_content: bool = False
    deleted: bool = False
    sent_at: float = field(default_factory=time.monotonic)

    @property
    def is_service(self) -> bool:
        return bool(self.service)

    @property
    def from_bot(self) -> bool:
        return self.sender.is_bot

    def json(self, *, with_reply: bool = True) -> JSON:
        out: JSON = {
            "message_id": self.message_id,
            "from": self.sender.user_json(),
            "chat": self.chat.chat_json(),
            "date": self.date,
        }
        if self.edit_date:
            out["edit_date"] = self.edit_date
        if self.thread_id is not None:
            out["message_thread_id"] = self.thread_id
            out["is_topic_message"] = True
        if self.forward_origin is not None:
            out["forward_origin"] = self.forward_origin
            # the official server still emits the pre-7.0 fields next to forward_origin
            if self.forward_origin.get("type") == "user":
                out["forward_from"] = self.forward_origin["sender_user"]
            elif self.forward_origin.get("type") == "hidden_user":
                out["forward_sender_name"] = self.forward_origin["sender_user_name"]
            out["forward_date"] = self.forward_origin["date"]
        if with_reply and self.reply_to is not None and not self.reply_to.deleted:
            out["reply_to_message"] = self.reply_to.json(with_reply=False)
        if self.has_protected_content:
            out["has_protected_content"] = True
        if self.media_group_id:
            out["media_group_id"] = self.media_group_id
        if self.text is not None:
            out["text"] = self.text
            if self.entities:
                out["entities"] = [dict(e) for e in self.entities]
        if self.photo:
            out["photo"] = [photo_size_json(p) for p in self.photo]
        if self.document is not None:
            out["document"] = document_json(self.document)
        if self.caption:
            out["caption"] = self.caption
            if self.caption_entities:
                out["caption_entities"] = [dict(e) for e in self.caption_entities]
        if self.location is not None:
            out["location"] = dict(self.location)
        if self.contact is not None:
            out["contact"] = dict(self.contact)
        out.update(self.service)
        if self.reply_markup is not None:
            out["reply_markup"] = self.reply_markup
        return out

    def content_key(self) -> tuple[Any, ...]:
        """What an edit must change (text/caption, entities, inline keyboard) to not be 'not modified'."""
        return (self.text, self.entities, self.caption, self.caption_entities, self.reply_markup)


@dataclass(eq=False)
class Chat:
    """A private chat (one user and one bot), a basic group or a supergroup (optionally a forum)."""

    id: int
    type: str
    title: str | None = None
    username: str | None = None
    is_forum: bool = False
    private_user: Account | None = None
    private_bot: BotAccount | None = None
    creator: Account | None = None
    members: dict[int, Membership] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)
    next_message_id: int = 1
    started: bool = False  # private chats: the user has written to the bot
    blocked: bool = False  # private chats: the user blocked the bot
    pinned: list[int] = field(default_factory=list)
    chat_instance: str = ""
    description: str | None = None

    @property
    def is_private(self) -> bool:
        return self.type == "private"

    def chat_json(self) -> JSON:
        if self.is_private:
            user = self.private_user
            assert user is not None
            out: JSON = {"id": self.id, "first_name": user.first_name}
            if user.last_name:
                out["last_name"] = user.last_name
            if user.username:
                out["username"] = user.username
            out["type"] = "private"
            return out
        out = {"id": self.id, "title": self.title}
        if self.username:
            out["username"] = self.username
        if self.is_forum:
            out["is_forum"] = True
        out["type"] = self.type
        return out

    def full_json(self) -> JSON:
        """``ChatFullInfo`` as getChat returns it (fields PTB requires plus what the chat has)."""
        out = self.chat_json()
        out["accent_color_id"] = abs(self.id) % 7
        out["max_reaction_count"] = 11
        out["accepted_gift_types"] = {
            "unlimited_gifts": self.is_private,
            "limited_gifts": self.is_private,
            "unique_gifts": self.is_private,
            "premium_subscription": self.is_private,
            "gifts_from_channels": self.is_private,
        }
        if not self.is_private:
            out["permissions"] = dict(DEFAULT_PERMISSIONS)
            if self.description:
                out["description"] = self.description
            if self.pinned:
                pinned = self.messages.get(self.pinned[-1])
                if pinned is not None and not pinned.deleted:
                    out["pinned_message"] = pinned.json()
        return out

    def membership(self, account: Account) -> Membership:
        return self.members.get(account.id) or Membership(account, "left")

    def is_member(self, account: Account) -> bool:
        return self.membership(account).is_present

    def bot_members(self) -> list[BotAccount]:
        return [m.account for m in self.members.values() if isinstance(m.account, BotAccount) and m.is_present]

    def live_messages(self) -> list[StoredMessage]:
        return [self.messages[i] for i in self.order if not self.messages[i].deleted]


def _mentions_or_addresses(message: StoredMessage, bot: BotAccount) -> bool:
    """Privacy-mode test: starts with a command for this bot, or mentions it by username."""
    text = message.text if message.text is not None else message.caption
    entities = message.entities if message.text is not None else message.caption_entities
    if not text:
        return False
    units = text.encode("utf-16-le")
    name = (bot.username or "").lower()
    for e in entities:
        token = units[2 * e["offset"] : 2 * (e["offset"] + e["length"])].decode("utf-16-le").lower()
        if e["type"] == "bot_command" and e["offset"] == 0:
            _, _, target = token.partition("@")
            if not target or target == name:
                return True
        if e["type"] == "mention" and token == f"@{name}":
            return True
    return False


class World:
    """All state of the emulated Telegram plus the delivery rules; no I/O, no awaiting."""

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rng = random.Random(seed)
        self.clock = clock
        self.monotonic = monotonic
        self.accounts: dict[int, Account] = {}
        self.bots_by_token: dict[str, BotAccount] = {}
        self.chats: dict[int, Chat] = {}  # groups and supergroups by id
        self.private: dict[tuple[int, int], Chat] = {}  # (user id, bot id) -> chat
        self.callbacks: dict[str, CallbackRecord] = {}
        self.on_message: Callable[[StoredMessage, str], None] | None = None
        self.changed = Signal()  # fired on every observable change (messages, confirmations)
        self._media_groups = 0

    # ---------------------------------------------------------------- identities

    def now(self) -> int:
        return int(self.clock())

    def add_bot(
        self,
        username: str,
        first_name: str,
        *,
        bot_id: int | None = None,
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = False,
    ) -> BotAccount:
        if bot_id is None:
            bot_id = self.rng.randint(5_000_000_000, 8_999_999_999)
            while bot_id in self.accounts:
                bot_id += 1
        alphabet = string.ascii_letters + string.digits + "-_"
        secret = "AA" + "".join(self.rng.choice(alphabet) for _ in range(33))
        bot = BotAccount(
            id=bot_id,
            first_name=first_name,
            username=username,
            token=f"{bot_id}:{secret}",
            can_join_groups=can_join_groups,
            can_read_all_group_messages=can_read_all_group_messages,
            next_update_id=self.rng.randint(100_000_000, 900_000_000),
        )
        self.accounts[bot_id] = bot
        self.bots_by_token[bot.token] = bot
        return bot

    def add_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> Account:
        existing = self.accounts.get(user_id)
        if existing is not None:
            if existing.is_bot:
                raise ValueError(f"id {user_id} belongs to a bot")
            return existing
        account = Account(user_id, first_name, last_name, username, language_code)
        self.accounts[user_id] = account
        return account

    def private_chat(self, user: Account, bot: BotAccount) -> Chat:
        key = (user.id, bot.id)
        chat = self.private.get(key)
        if chat is None:
            chat = Chat(
                id=user.id,
                type="private",
                private_user=user,
                private_bot=bot,
                chat_instance=str(self.rng.randint(-(2**63), 2**63 - 1)),
            )
            chat.members[user.id] = Membership(user, "member")
            chat.members[bot.id] = Membership(bot, "member")
            self.private[key] = chat
        return chat

    def new_group(
        self,
        title: str,
        *,
        creator: Account | None,
        supergroup: bool,
        forum: bool,
        username: str | None = None,
    ) -> Chat:
        if forum:
            supergroup = True
        while True:
            if supergroup:
                chat_id = -(1_000_000_000_000 + self.rng.randint(1_000_000_000, 2_999_999_999))
            else:
                chat_id = -self.rng.randint(4_000_000_000, 4_999_999_999)
            if chat_id not in self.chats:
                break
        chat = Chat(
            id=chat_id,
            type="supergroup" if supergroup else "group",
            title=title,
            username=username,
            is_forum=forum,
            creator=creator,
            chat_instance=str(self.rng.randint(-(2**63), 2**63 - 1)),
            # message 1 of a supergroup is its (undelivered) creation service message; in forums the
            # General topic has thread id 1 for the same reason
            next_message_id=2 if supergroup else 1,
        )
        if creator is not None:
            chat.members[creator.id] = Membership(creator, "creator")
        self.chats[chat_id] = chat
        return chat

    def find_chat_for_bot(self, bot: BotAccount, chat_ref: str) -> Chat | None:
        """Resolve a ``chat_id`` parameter (number or ``@username``) as this bot sees chats."""
        if chat_ref.startswith("@"):
            name = chat_ref[1:].lower()
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == name:
                    return chat
            return None
        chat_id = _to_integer(chat_ref)
        if chat_id > 0:
            return self.private.get((chat_id, bot.id))
        return self.chats.get(chat_id)

    # ---------------------------------------------------------------- messages

    def new_message(self, chat: Chat, sender: Account, **fields: Any) -> StoredMessage:
        message = StoredMessage(
            chat=chat,
            message_id=chat.next_message_id,
            date=self.now(),
            sender=sender,
            sent_at=self.monotonic(),
            **fields,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        chat.order.append(message.message_id)
        return message

    def next_media_group_id(self) -> str:
        self._media_groups += 1
        return str(13_000_000_000_000_000 + self.rng.randint(0, 10**15) + self._media_groups)

    def recipients(self, message: StoredMessage) -> list[BotAccount]:
        """Bots that get an update for ``message`` under Telegram's delivery and privacy rules."""
        chat = message.chat
        if chat.is_private:
            bot = chat.private_bot
            if bot is None or message.sender is bot:
                return []
            return [bot]
        out: list[BotAccount] = []
        for bot in chat.bot_members():
            if bot is message.sender:
                continue
            if message.is_service:
                out.append(bot)
                continue
            if message.sender.is_bot:
                continue  # bots never see messages of other bots
            status = chat.membership(bot).status
            if bot.can_read_all_group_messages or status in ("administrator", "creator"):
                out.append(bot)
            elif message.reply_to is not None and message.reply_to.sender is bot:
                out.append(bot)
            elif _mentions_or_addresses(message, bot):
                out.append(bot)
        return out

    def deliver(self, message: StoredMessage, kind: str = "message") -> list[UpdateRecord]:
        """Queue ``message`` (or an edit of it) to every bot allowed to see it."""
        records = []
        payload = message.json()
        for bot in self.recipients(message):
            record = bot.enqueue(kind, payload, self.monotonic())
            if record is not None:
                records.append(record)
        return records

    def notify(self, message: StoredMessage, event: str) -> None:
        """Tell the observer (the emulator) about a new/edited/deleted message."""
        if self.on_message is not None:
            self.on_message(message, event)

    # ---------------------------------------------------------------- memberships

    def set_status(
        self,
        chat: Chat,
        account: Account,
        status: str,
        *,
        by: Account,
        rights: JSON | None = None,
    ) -> None:
        """Change a member's status; a bot whose status changes gets ``my_chat_member``."""
        old = chat.membership(account).json()
        chat.members[account.id] = Membership(account, status, dict(rights or {}))
        if isinstance(account, BotAccount):
            account.enqueue(
                "my_chat_member",
                {
                    "chat": chat.chat_json(),
                    "from": by.user_json(),
                    "date": self.now(),
                    "old_chat_member": old,
                    "new_chat_member": chat.members[account.id].json(),
                },
                self.monotonic(),
            )

    def service_message(self, chat: Chat, sender: Account, service: JSON, **fields: Any) -> StoredMessage:
        message = self.new_message(chat, sender, service=service, **fields)
        self.deliver(message)
        self.notify(message, "service")
        return message

    def create_topic(self, chat: Chat, name: str, *, by: Account, icon_color: int | None = None) -> Topic:
        if not chat.is_forum:
            raise ValueError(f"chat {chat.title!r} is not a forum")
        color = icon_color if icon_color is not None else TOPIC_ICON_COLORS[len(chat.topics) % 6]
        thread_id = chat.next_message_id
        topic = Topic(thread_id, name, color)
        chat.topics[thread_id] = topic
        self.service_message(
            chat,
            by,
            {"forum_topic_created": {"name": name, "icon_color": color}},
            thread_id=thread_id,
        )
        return topic

    # ---------------------------------------------------------------- callback queries

    def new_callback(self, bot: BotAccount, user: Account, message: StoredMessage, data: str) -> CallbackRecord:
        query_id = str(self.rng.randint(10**17, 10**19))
        record = CallbackRecord(
            id=query_id,
            bot=bot,
            user=user,
            chat=message.chat,
            message_id=message.message_id,
            data=data,
            created_at=self.monotonic(),
            answer=asyncio.get_running_loop().create_future(),
        )
        self.callbacks[query_id] = record
        bot.enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": user.user_json(),
                "message": message.json(),
                "chat_instance": message.chat.chat_instance,
                "data": data,
            },
            self.monotonic(),
        )
        return record

    def all_bots(self) -> Iterable[BotAccount]:
        return self.bots_by_token.values()


def _to_integer(text: str) -> int:
    """tdlib's ``to_integer``: optional sign and leading digits, anything else gives 0."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    digits = text[1:] if text[:1] in "+-" else text
    n = 0
    for ch in digits:
        if not ch.isascii() or not ch.isdigit():
            break
        n = n * 10 + int(ch)
    return sign * n


to_integer = _to_integer
