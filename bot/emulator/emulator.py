"""``BotApiEmulator``: a local Telegram Bot API server plus the user-side world to drive it.

Typical use::

    async with BotApiEmulator() as emu:
        bot = emu.add_bot(username="kpu_koordinasi_bot", first_name="KPU Koordinasi")
        app = (ApplicationBuilder().token(bot.token)
               .base_url(f"{emu.url}/bot").base_file_url(f"{emu.url}/file/bot").build())
        ...start the application...
        budi = emu.user(1001, "Budi")
        await budi.send(bot, "/start")
        reply = await emu.next_message(emu.private_chat(budi, bot))

All waiting is event driven (no polling loops): observers wait on a signal fired whenever the world
changes, long polls wait on the bot's update signal.  See the modules for what is faithful to Telegram:
:mod:`.world` (delivery, objects), :mod:`.methods` (API semantics and errors), :mod:`.html`,
:mod:`.markdown`, :mod:`.entities`, :mod:`.files`, :mod:`.flood`, :mod:`.server`.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable, Iterable
from typing import Any

from aiohttp import web

from .client import BotHandle, ChatHandle, NoMessageError, SentMessage, UserHandle
from .files import FileStore
from .flood import FaultRule, FloodLimits, default_description
from .methods import BotApi, ChatAction
from .server import ApiServer, WebhookSender
from .world import Account, Chat, Membership, StoredMessage, UpdateRecord, World

MessageHook = Callable[[SentMessage], Any]


class BotApiEmulator:
    """A faithful, in-process Telegram Bot API for tests, demos and benchmarks (see module docstring)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        strict: bool = True,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.port = port
        self.url = ""
        self.world = World(seed=seed, clock=clock, monotonic=monotonic)
        self.files = FileStore(seed)
        self.api = BotApi(self.world, self.files, strict=strict)
        self.server = ApiServer(self.api, self.world, self.files)
        self.webhooks = WebhookSender(self.api, self.world)
        self.api.webhook_sender = self.webhooks.ensure
        self.world.on_message = self._observe
        self.on_bot_message: MessageHook | None = None
        self.on_user_message: MessageHook | None = None
        self._runner: web.AppRunner | None = None
        self._signal = self.world.changed
        self._sent: dict[Chat, list[SentMessage]] = {}
        self._consumed: set[tuple[int, int]] = set()
        self._cursor: dict[Chat, int] = {}  # index of the first not yet returned bot message
        self._edits: dict[Chat, list[SentMessage]] = {}
        self._edit_cursor: dict[Chat, int] = {}
        self._bots: dict[int, BotHandle] = {}
        self._users: dict[int, UserHandle] = {}
        self._chats: dict[int, ChatHandle] = {}
        self._hook_tasks: set[asyncio.Task[Any]] = set()

    # ================================================================= lifecycle

    async def start(self) -> BotApiEmulator:
        """Bind the HTTP server (``port=0`` picks a free port) and set :attr:`url`."""
        if self._runner is not None:
            return self
        self.api.closing = False
        runner = web.AppRunner(self.server.make_app(), handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []  # noqa: SLF001 - aiohttp has no public accessor
        self.port = sockets[0].getsockname()[1] if sockets else self.port
        self.url = f"http://{self.host}:{self.port}"
        self._runner = runner
        return self

    async def stop(self) -> None:
        """Stop serving; pending long polls return immediately (an empty result)."""
        self.api.closing = True
        for bot in self.world.all_bots():
            bot.updates_signal.fire()
        await asyncio.sleep(0)
        await self.webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for task in list(self._hook_tasks):
            task.cancel()

    async def __aenter__(self) -> BotApiEmulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ================================================================= settings

    @property
    def enforce_flood_limits(self) -> bool:
        """Apply Telegram's documented flood limits (429 with retry_after); off by default."""
        return self.api.enforce_flood_limits

    @enforce_flood_limits.setter
    def enforce_flood_limits(self, value: bool) -> None:
        self.api.enforce_flood_limits = value

    @property
    def flood_limits(self) -> FloodLimits:
        return self.api.flood.limits

    @property
    def callback_query_ttl(self) -> float:
        """Seconds after which answerCallbackQuery fails with ``query is too old ...``."""
        return self.api.callback_query_ttl

    @callback_query_ttl.setter
    def callback_query_ttl(self, value: float) -> None:
        self.api.callback_query_ttl = value

    def fail_next(
        self,
        method: str,
        error_code: int = 400,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
        bot: BotHandle | None = None,
        performed: bool = False,
    ) -> FaultRule:
        """Make the next ``times`` calls of ``method`` fail with a Telegram-shaped error.

        ``error_code=429`` gets ``parameters.retry_after`` (default 1) and the description
        ``Too Many Requests: retry after N``; ``chat_id`` restricts the rule to calls for that chat.
        ``performed=True``: the call is carried out and only its answer fails (outcome unknown
        to the bot, as after a timeout).
        """
        if error_code == 429 and retry_after is None:
            retry_after = 1
        rule = FaultRule(
            method=method.lower(),
            error_code=error_code,
            description=description or default_description(error_code, retry_after),
            retry_after=retry_after,
            times=times,
            chat_id=chat_id,
            bot_id=bot.id if bot is not None else None,
            performed=performed,
        )
        return self.api.faults.add(rule)

    # ================================================================= world building

    def add_bot(
        self,
        username: str,
        first_name: str = "Bot",
        *,
        can_join_groups: bool = True,
        can_read_all_group_messages: bool = False,
        bot_id: int | None = None,
    ) -> BotHandle:
        """Register a bot; its token looks like a real one (``<id>:<35 url-safe characters>``)."""
        account = self.world.add_bot(
            username,
            first_name,
            bot_id=bot_id,
            can_join_groups=can_join_groups,
            can_read_all_group_messages=can_read_all_group_messages,
        )
        handle = BotHandle(self, account)
        self._bots[account.id] = handle
        return handle

    def user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> UserHandle:
        """The user with this id (created on first call; later calls return the same handle)."""
        handle = self._users.get(user_id)
        if handle is None:
            account = self.world.add_user(user_id, first_name, last_name, username, language_code)
            handle = UserHandle(self, account)
            self._users[user_id] = handle
        return handle

    def private_chat(self, user: UserHandle, bot: BotHandle) -> ChatHandle:
        return self._handle(self.world.private_chat(user.account, bot.account))

    def group(
        self,
        title: str,
        members: Iterable[UserHandle] = (),
        bots: Iterable[BotHandle] = (),
        *,
        supergroup: bool = False,
        forum: bool = False,
        username: str | None = None,
        admins: Iterable[UserHandle] = (),
        admin_bots: Iterable[BotHandle] = (),
        announce: bool = True,
    ) -> ChatHandle:
        """Create a group (``supergroup``/``forum`` for ``-100…`` ids).

        The first member is the creator.  With ``announce`` the bots get what Telegram sends when a
        group is created with them: ``my_chat_member`` and ``group_chat_created`` (basic groups) or
        ``new_chat_members`` (supergroups).
        """
        members = list(members)
        creator = members[0].account if members else None
        chat = self.world.new_group(title, creator=creator, supergroup=supergroup, forum=forum, username=username)
        for user in members[1:]:
            chat.members[user.id] = Membership(user.account, "member")
        for user in admins:
            chat.members[user.id] = Membership(user.account, "administrator")
        handle = self._handle(chat)
        admin_ids = {b.id for b in admin_bots}
        all_bots = list(bots) + [b for b in admin_bots if b not in list(bots)]
        if not announce or creator is None:
            for bot in all_bots:
                chat.members[bot.id] = Membership(bot.account, "administrator" if bot.id in admin_ids else "member")
            return handle
        for bot in all_bots:
            status = "administrator" if bot.id in admin_ids else "member"
            self.world.set_status(chat, bot.account, status, by=creator)
        if chat.type == "group":
            self.world.service_message(chat, creator, {"group_chat_created": True})
        else:
            for bot in all_bots:
                user_json = bot.account.user_json()
                self.world.service_message(
                    chat,
                    creator,
                    {
                        "new_chat_members": [user_json],
                        "new_chat_member": user_json,
                        "new_chat_participant": user_json,
                    },
                )
        return handle

    def chat(self, chat_id: int) -> ChatHandle:
        """The handle of an existing group or supergroup by id."""
        return self._handle(self.world.chats[chat_id])

    def _handle(self, chat: Chat) -> ChatHandle:
        key = id(chat)
        handle = self._chats.get(key)
        if handle is None:
            handle = ChatHandle(self, chat)
            self._chats[key] = handle
        return handle

    def _chat_of(self, chat: ChatHandle | Chat | int, bot: BotHandle | None = None) -> Chat:
        """A chat from a handle, a group id, or a user id (the private chat of that user with ``bot``,
        or with the only bot the user has a chat with / the only bot of the emulator)."""
        if isinstance(chat, ChatHandle):
            return chat.chat
        if isinstance(chat, Chat):
            return chat
        if chat < 0:
            found = self.world.chats.get(chat)
            if found is None:
                raise ValueError(f"unknown group id {chat}")
            return found
        user = self.world.accounts.get(chat)
        if user is None or user.is_bot:
            raise ValueError(f"unknown user id {chat}")
        if bot is not None:
            return self.world.private_chat(user, bot.account)
        chats = [c for (user_id, _), c in self.world.private.items() if user_id == chat]
        if len(chats) == 1:
            return chats[0]
        bots = list(self.world.all_bots())
        if not chats and len(bots) == 1:
            return self.world.private_chat(user, bots[0])
        raise ValueError(f"user {chat} has private chats with several bots; pass a ChatHandle or bot=")

    def _chat_by_message(self, message: SentMessage) -> Chat:
        if message.chat_ref is not None:
            return message.chat_ref
        if message.chat_id < 0:
            return self.world.chats[message.chat_id]
        sender = self.world.accounts.get(message.sender_id)
        for chat in self.world.private.values():
            if chat.id == message.chat_id and message.message_id in chat.messages:
                stored = chat.messages[message.message_id]
                if stored.sender is sender:
                    return chat
        raise ValueError(f"message {message.message_id} of chat {message.chat_id} is unknown")

    # ================================================================= observation

    def _observe(self, message: StoredMessage, event: str) -> None:
        snapshot = SentMessage.of(message, event, self.world.monotonic())
        chat = message.chat
        if message.from_bot and event == "sent":
            self._sent.setdefault(chat, []).append(snapshot)
            self._run_hook(self.on_bot_message, snapshot)
        elif message.from_bot and event == "edited":
            self._edits.setdefault(chat, []).append(snapshot)
            self._run_hook(self.on_bot_message, snapshot)
        elif event in ("user", "user_edited"):
            self._run_hook(self.on_user_message, snapshot)
        self._signal.fire()

    def _run_hook(self, hook: MessageHook | None, snapshot: SentMessage) -> None:
        if hook is None:
            return
        result = hook(snapshot)
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._hook_tasks.add(task)
            task.add_done_callback(self._hook_tasks.discard)

    async def next_message(
        self,
        chat: ChatHandle | Chat | int,
        timeout: float = 5.0,
        thread_id: int | None = None,
        bot: BotHandle | None = None,
    ) -> SentMessage:
        """The next message a bot sent to ``chat`` that no earlier call returned (in sending order).

        ``thread_id`` restricts to a forum topic (``0`` = General).  Raises :class:`NoMessageError`
        (an ``AssertionError`` and a ``TimeoutError``) listing what was seen if nothing arrives in time.
        """
        target = self._chat_of(chat, bot)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            sent = self._sent.get(target, [])
            start = self._cursor.get(target, 0)
            for index in range(start, len(sent)):
                snap = sent[index]
                key = (id(target), snap.message_id)
                if key in self._consumed:
                    continue
                if thread_id is not None and (snap.thread_id or 0) != thread_id:
                    continue
                if bot is not None and snap.sender_id != bot.id:
                    continue
                self._consumed.add(key)
                while start < len(sent) and (id(target), sent[start].message_id) in self._consumed:
                    start += 1
                self._cursor[target] = start
                return snap
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise NoMessageError(self._nothing_arrived(target, timeout, "message"))
            await self._signal.wait(remaining)

    async def next_edit(self, chat: ChatHandle | Chat | int, timeout: float = 5.0) -> SentMessage:
        """The next edit a bot made in ``chat`` (snapshot after the edit), each returned once."""
        target = self._chat_of(chat)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            edits = self._edits.get(target, [])
            cursor = self._edit_cursor.get(target, 0)
            if cursor < len(edits):
                self._edit_cursor[target] = cursor + 1
                return edits[cursor]
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise NoMessageError(self._nothing_arrived(target, timeout, "edit"))
            await self._signal.wait(remaining)

    def _nothing_arrived(self, chat: Chat, timeout: float, what: str) -> str:
        sent = self._sent.get(chat, [])
        lines = [f"no new bot {what} in chat {chat.id} ({chat.title or chat.type}) within {timeout}s"]
        lines.append("bot messages so far: " + (", ".join(s.summary() for s in sent) or "none"))
        for bot in self.world.all_bots():
            if bot.pending:
                kinds = ", ".join(f"{r.update_id}:{r.kind}" for r in bot.pending[:10])
                lines.append(f"@{bot.username} has {len(bot.pending)} unconfirmed updates: {kinds}")
        return "\n".join(lines)

    def messages(self, chat: ChatHandle | Chat | int, *, include_deleted: bool = False) -> list[SentMessage]:
        """Full history of ``chat`` (users, bots, service messages) in order, current state."""
        target = self._chat_of(chat)
        now = self.world.monotonic()
        out = []
        for message_id in target.order:
            message = target.messages[message_id]
            if message.deleted and not include_deleted:
                continue
            event = "service" if message.is_service else ("sent" if message.from_bot else "user")
            out.append(SentMessage.of(message, event, now))
        return out

    def bot_messages(self, chat: ChatHandle | Chat | int, bot: BotHandle | None = None) -> list[SentMessage]:
        """Current state of the (non-deleted, non-service) messages bots sent to ``chat``."""
        return [
            m
            for m in self.messages(self._chat_of(chat, bot))
            if m.from_bot and not m.service and (bot is None or m.sender_id == bot.id)
        ]

    def chat_actions(self, chat: ChatHandle | Chat | int) -> list[ChatAction]:
        target = self._chat_of(chat)
        return [a for a in self.api.chat_actions if a.chat is target]

    def update_log(self, bot: BotHandle) -> list[UpdateRecord]:
        """All updates queued for ``bot`` with ``available_at``/``delivered_at``/``confirmed_at``."""
        return bot.updates

    async def wait_confirmed(self, bot: BotHandle, timeout: float = 5.0) -> None:
        """Wait until the bot confirmed (via getUpdates offset or webhook 2xx) every queued update."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        account = bot.account
        while account.pending:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise NoMessageError(f"@{bot.username} still has {len(account.pending)} unconfirmed updates")
            await self._signal.wait(remaining)

    @property
    def users(self) -> dict[int, UserHandle]:
        return dict(self._users)

    @property
    def bots(self) -> dict[int, BotHandle]:
        return dict(self._bots)

    def account(self, user_id: int) -> Account | None:
        return self.world.accounts.get(user_id)
