"""Bot API method implementations against the emulated :class:`~bot.emulator.world.World`.

Faithful to the official server (tdlib/telegram-bot-api) in the order checks happen and in the error
texts bots see: parameters and formatting are validated first (``message text is empty``, ``can't parse
entities: ...``, reply-markup errors), then chat access (``chat not found``, ``bot can't initiate
conversation with a user``, ``bot is not a member of the group chat``, ``bot was kicked from the group
chat``, ``bot was blocked by the user``), then the topic and the replied message, then the final text
rules (trimming, ``message is too long`` above 4096 characters, ``message caption is too long`` above
1024 — characters are Unicode code points, as tdlib counts them), then flood control.

Simplified / emulator-specific: ``inline_message_id`` edits, payments, games, stickers, polls and
inline mode are not implemented (unknown methods answer 404 like Telegram does for unknown names);
webhooks may point at loopback ``http://`` URLs on any port (Telegram requires HTTPS on 80/88/443/8443
and refuses reserved IPs); with ``strict`` on (default) the emulator also refuses two things the
documentation forbids but the server tolerates — an inline button with more than one action field and
a media group with a single item.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .entities import Entity, TextError, fix_formatted_text
from .errors import (
    NOT_FOUND,
    ApiError,
    EntityParseError,
    bad_request,
    describe,
    forbidden,
)
from .files import (
    MAX_DOCUMENT,
    MAX_DOWNLOAD,
    MAX_PHOTO,
    FileStore,
    StoredFile,
    image_size,
)
from .flood import SENDING_METHODS, FaultInjector, FloodControl
from .html import parse_html
from .links import LinkError, check_link, link_user_id
from .markdown import parse_markdown, parse_markdown_v2
from .params import Params, Upload
from .world import (
    DEFAULT_ALLOWED_UPDATES,
    JSON,
    UPDATE_TYPES,
    Account,
    BotAccount,
    Chat,
    StoredMessage,
    World,
    to_integer,
)

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
LONG_POLL_MAX_TIMEOUT = 50
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_NAME = re.compile(r"^[a-z0-9_]+$")
_INLINE_BUTTON_FIELDS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


@dataclass
class ChatAction:
    chat: Chat
    action: str
    at: float
    thread_id: int | None = None


Method = Callable[[BotAccount, Params], Any]


class BotApi:
    """All Bot API methods; :meth:`call` is what the HTTP layer invokes."""

    def __init__(self, world: World, files: FileStore, *, strict: bool = True) -> None:
        self.world = world
        self.files = files
        self.strict = strict
        self.flood = FloodControl(world.monotonic)
        self.enforce_flood_limits = False
        self.faults = FaultInjector()
        self.callback_query_ttl = 15.0
        self.chat_actions: list[ChatAction] = []
        self.closing = False
        self.webhook_sender: Callable[[BotAccount], None] | None = None
        self.photo_sets: dict[str, list[StoredFile]] = {}
        self.methods: dict[str, Method] = {}
        for name in dir(self):
            if name.startswith("m_"):
                api_name = name[2:].replace("_", "")
                self.methods[api_name] = getattr(self, name)

    # ================================================================= dispatch

    async def call(self, bot: BotAccount, method: str, params: Params) -> Any:
        impl = self.methods.get(method.lower())
        if impl is None:
            raise NOT_FOUND
        fault = self.faults.match(method.lower(), bot.id, params.as_dict())
        if fault is not None and not fault.performed:
            raise fault.error()
        result = impl(bot, params)
        if inspect.isawaitable(result):
            result = await result
        if fault is not None:  # carried out, and the answer lost
            raise fault.error()
        return result

    # ================================================================= shared checks

    def chat_for(self, bot: BotAccount, params: Params, access: str = "write") -> Chat:
        """Resolve ``chat_id`` and apply the access rules of the official server."""
        ref = params.get("chat_id").strip()
        if not ref:
            raise bad_request("chat_id is empty")
        chat = self.world.find_chat_for_bot(bot, ref)
        if chat is None and not ref.startswith("@"):
            account = self.world.accounts.get(self._int(ref))
            if account is not None and account is not bot:
                if account.is_bot:
                    raise forbidden("bot can't send messages to bots")
                if access == "read":
                    raise bad_request("chat not found")
                raise forbidden("bot can't initiate conversation with a user")
        if chat is None:
            raise bad_request("chat not found")
        if chat.is_private:
            if not chat.started:
                if access == "read":
                    raise bad_request("chat not found")
                raise forbidden("bot can't initiate conversation with a user")
            if chat.blocked and access != "read":
                raise forbidden("bot was blocked by the user")
            return chat
        kind = "supergroup chat" if chat.type == "supergroup" else "group chat"
        status = chat.membership(bot).status
        if status == "kicked":
            raise forbidden(f"bot was kicked from the {kind}")
        if status not in ("creator", "administrator", "member"):
            if access != "read" or chat.type == "supergroup" and not chat.username:
                raise forbidden(f"bot is not a member of the {kind}")
        return chat

    @staticmethod
    def _int(text: str) -> int:
        return to_integer(text)

    def thread_for(self, chat: Chat, params: Params) -> int | None:
        thread_id = params.int("message_thread_id")
        if thread_id <= 0:
            return None
        if chat.is_forum:
            if thread_id not in chat.topics:
                raise bad_request("message thread not found")
            return thread_id
        message = chat.messages.get(thread_id)
        if message is None or message.deleted or chat.is_private or chat.type == "group":
            raise bad_request("message thread not found")
        return None

    def reply_for(self, chat: Chat, params: Params) -> StoredMessage | None:
        raw = params.json("reply_parameters", "Can't parse reply parameters JSON object")
        if raw is not None:
            if not isinstance(raw, dict):
                raise bad_request("Object expected as reply parameters")
            if "message_id" not in raw:
                raise bad_request('Can\'t parse reply parameters: Field "message_id" must be of type Number')
            message_id = self._int(str(raw["message_id"]))
            allow = bool(raw.get("allow_sending_without_reply"))
            other = raw.get("chat_id")
            if other not in (None, "", chat.id, str(chat.id)):
                raise bad_request("message to be replied not found")
        else:
            message_id = params.int("reply_to_message_id")
            allow = params.bool("allow_sending_without_reply")
        if message_id <= 0:
            return None
        target = chat.messages.get(message_id)
        if target is None or target.deleted:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return target

    def formatted(self, text: str, parse_mode: str, entities_raw: str) -> tuple[str, list[Entity]]:
        """Apply ``parse_mode`` or the explicit ``entities`` (parse_mode wins), like the official server."""
        if len(text.encode("utf-8", errors="surrogatepass")) > 1 << 15:
            raise bad_request("Text is too long")
        mode = parse_mode.strip().lower()
        if text and mode and mode != "none":
            parser = {"html": parse_html, "markdown": parse_markdown, "markdownv2": parse_markdown_v2}.get(mode)
            if parser is None:
                raise bad_request("Unsupported parse_mode")
            try:
                return parser(text)
            except EntityParseError as exc:
                raise bad_request(f"Can't parse entities: {exc}") from None
        entities: list[Entity] = []
        if entities_raw:
            try:
                decoded = json.loads(entities_raw)
            except ValueError:
                decoded = None  # the official server silently ignores unparsable entities
            if isinstance(decoded, list):
                for item in decoded:
                    entity = self._input_entity(item)
                    if entity is not None:
                        entities.append(entity)
        return text, entities

    def _input_entity(self, item: Any) -> Entity | None:
        if not isinstance(item, dict):
            raise bad_request("Can't parse MessageEntity: expected an Object")
        for key in ("offset", "length"):
            if not isinstance(item.get(key), int) or isinstance(item.get(key), bool):
                raise bad_request(f'Can\'t parse MessageEntity: Field "{key}" must be of type Number')
        kind = item.get("type")
        if not isinstance(kind, str) or not kind:
            raise bad_request("Can't parse MessageEntity: Type is not specified")
        base = {"offset": item["offset"], "length": item["length"], "type": kind}
        if kind in (
            "bold",
            "italic",
            "underline",
            "strikethrough",
            "spoiler",
            "code",
            "blockquote",
            "expandable_blockquote",
        ):
            return base
        if kind == "pre":
            if item.get("language"):
                base["language"] = str(item["language"])
            return base
        if kind == "text_link":
            url = str(item.get("url") or "")
            user_id = link_user_id(url)
            if user_id is not None:
                return {**base, "type": "text_mention", "user_id": user_id}
            try:
                return {**base, "url": check_link(url)}
            except LinkError as exc:
                raise bad_request(f"Entity {exc}") from None
        if kind == "text_mention":
            user = item.get("user")
            if not isinstance(user, dict) or not isinstance(user.get("id"), int):
                raise bad_request('Can\'t parse MessageEntity: Field "user" must be of type Object')
            return {**base, "user_id": user["id"]}
        if kind == "custom_emoji":
            emoji = str(item.get("custom_emoji_id") or "")
            if not emoji.isdigit() or int(emoji) == 0:
                raise bad_request("Invalid custom emoji identifier specified")
            return {**base, "custom_emoji_id": emoji}
        if kind == "date_time":
            unix = item.get("unix_time")
            if not isinstance(unix, int) or unix <= 0:
                return None
            out = {**base, "unix_time": unix}
            if item.get("date_time_format"):
                out["date_time_format"] = str(item["date_time_format"])
            return out
        return None  # mention, hashtag, url, ... are detected by Telegram itself

    def finalize(
        self, text: str, entities: list[Entity], limit: int, too_long: str, *, allow_empty: bool
    ) -> tuple[str, list[Entity]]:
        """tdlib's text clean-up, user resolution of text mentions and the length limit."""
        try:
            text, entities = fix_formatted_text(text, entities, allow_empty=allow_empty)
        except TextError as exc:
            raise bad_request(str(exc)) from None
        resolved: list[Entity] = []
        for e in entities:
            if e["type"] == "text_mention" and "user_id" in e:
                account = self.world.accounts.get(e["user_id"])
                if account is None:
                    continue  # the server cannot link to users it does not know
                e = {k: v for k, v in e.items() if k != "user_id"} | {"user": account.user_json()}
            resolved.append(e)
        if len(text) > limit:
            raise bad_request(too_long)
        return text, resolved

    def markup_for(
        self, params: Params, chat: Chat | None, *, only_inline: bool = False
    ) -> tuple[JSON | None, JSON | None]:
        """Parse ``reply_markup``: returns (inline keyboard as echoed in Message, other keyboard markup)."""
        raw = params.get("reply_markup")
        if not raw:
            return None, None
        try:
            value = json.loads(raw)
        except ValueError:
            raise bad_request("Can't parse reply keyboard markup JSON object") from None
        if not isinstance(value, dict):
            raise bad_request("Object expected as reply markup")
        keyboard = value.get("keyboard")
        inline = value.get("inline_keyboard")
        if keyboard is not None and not isinstance(keyboard, list):
            raise bad_request('Field "keyboard" must be of type Array')
        if inline is not None and not isinstance(inline, list):
            raise bad_request('Field "inline_keyboard" must be of type Array')
        if keyboard:
            if only_inline:
                raise bad_request("Inline keyboard expected")
            return None, self._reply_keyboard(value, keyboard, chat)
        if inline:
            rows = []
            for row in inline:
                if not isinstance(row, list):
                    raise bad_request('Field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
                new_row = []
                for button in row:
                    new_row.append(self._inline_button(button))
                if new_row:
                    rows.append(new_row)
            return ({"inline_keyboard": rows} if rows else None), None
        if only_inline:
            return None, None
        truthy = lambda key: value.get(key) is True or str(value.get(key)).lower() == "true"  # noqa: E731
        if truthy("remove_keyboard") or truthy("hide_keyboard"):
            return None, {"remove_keyboard": True, **({"selective": True} if truthy("selective") else {})}
        if truthy("force_reply"):
            out: JSON = {"force_reply": True}
            if value.get("input_field_placeholder"):
                out["input_field_placeholder"] = str(value["input_field_placeholder"])
            if truthy("selective"):
                out["selective"] = True
            return None, out
        return None, None

    def _reply_keyboard(self, value: JSON, keyboard: list[Any], chat: Chat | None) -> JSON:
        rows = []
        for row in keyboard:
            if not isinstance(row, list):
                raise bad_request('Field "keyboard" must be an Array of Arrays')
            new_row = []
            for button in row:
                if isinstance(button, str):
                    button = {"text": button}
                if not isinstance(button, dict):
                    raise bad_request("Can't parse keyboard button: KeyboardButton must be a String or an Object")
                text = button.get("text")
                if not isinstance(text, str):
                    raise bad_request('Can\'t parse keyboard button: Field "text" must be of type String')
                if not text:
                    continue
                private_only = {
                    "request_contact": "Phone number can be requested in private chats only",
                    "request_location": "Location can be requested in private chats only",
                    "request_poll": "Poll can be requested in private chats only",
                    "request_users": "Users can be requested in private chats only",
                    "request_chat": "Chats can be requested in private chats only",
                    "web_app": "Web App buttons can be used in private chats only",
                }
                for key, message in private_only.items():
                    if button.get(key) and chat is not None and not chat.is_private:
                        raise bad_request(message)
                new_row.append(dict(button.items()))
            if new_row:
                rows.append(new_row)
        out: JSON = {"keyboard": rows}
        for key in ("is_persistent", "resize_keyboard", "one_time_keyboard", "selective"):
            if value.get(key):
                out[key] = True
        if value.get("input_field_placeholder"):
            out["input_field_placeholder"] = str(value["input_field_placeholder"])
        return out

    def _inline_button(self, button: Any) -> JSON:
        prefix = "Can't parse inline keyboard button: "
        if not isinstance(button, dict):
            raise bad_request(prefix + "InlineKeyboardButton must be an Object")
        text = button.get("text")
        if not isinstance(text, str):
            raise bad_request(prefix + 'Field "text" must be of type String')
        present = [key for key in _INLINE_BUTTON_FIELDS if button.get(key) not in (None, "")]
        if self.strict and len(present) > 1:
            raise bad_request(prefix + "InlineKeyboardButton must have exactly one optional field")
        url = button.get("url")
        if isinstance(url, str) and url:
            out: JSON = {"text": text}
            if link_user_id(url) is None:
                try:
                    url = check_link(url)
                except LinkError as exc:
                    raise bad_request(f"Inline keyboard button {exc}") from None
            out["url"] = url
        elif isinstance(button.get("callback_data"), str) and button["callback_data"]:
            data = button["callback_data"]
            if len(data.encode("utf-8")) > CALLBACK_DATA_LIMIT:
                raise ApiError(400, describe(400, "BUTTON_DATA_INVALID"))
            out = {"text": text, "callback_data": data}
        else:
            for key in _INLINE_BUTTON_FIELDS[2:]:
                if key in button:
                    out = {"text": text, key: button[key]}
                    break
            else:
                raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
        if not text:
            raise bad_request("Inline keyboard button text must be non-empty")
        for extra in ("style", "icon_custom_emoji_id"):
            if button.get(extra):
                out[extra] = button[extra]
        return out

    def check_flood(self, bot: BotAccount, chat: Chat, method: str, count: int = 1) -> None:
        if self.enforce_flood_limits and method in SENDING_METHODS:
            self.flood.check(bot.id, chat.id, chat.is_private, count)

    def post(
        self,
        bot: BotAccount,
        chat: Chat,
        *,
        thread_id: int | None,
        reply_to: StoredMessage | None,
        inline: JSON | None,
        keyboard: JSON | None,
        params: Params,
        **content: Any,
    ) -> StoredMessage:
        """Create a bot message, deliver it to bots that may see it and notify the observer."""
        if reply_to is not None and thread_id is None:
            thread_id = reply_to.thread_id
        message = self.world.new_message(
            chat,
            bot,
            thread_id=thread_id,
            reply_to=reply_to,
            reply_markup=inline,
            keyboard=keyboard,
            has_protected_content=params.bool("protect_content"),
            **content,
        )
        self.world.deliver(message)
        self.world.notify(message, "sent")
        return message

    # ----------------------------------------------------------------- files

    def input_file(self, params: Params, name: str, what: str) -> Upload | StoredFile:
        """An InputFile parameter: a multipart upload, ``attach://<part>``, or a known ``file_id``."""
        upload = params.file(name)
        if upload is not None:
            return upload
        value = params.get(name).strip()
        if not value:
            raise bad_request(f"There is no {what} in the request")
        return self._input_file_ref(params, value)

    def _input_file_ref(self, params: Params, value: str) -> Upload | StoredFile:
        if value.startswith("attach://"):
            upload = params.file(value[len("attach://") :])
            if upload is None:
                raise bad_request("Can't parse InputMedia: media not found")
            return upload
        stored = self.files.get(value)
        if stored is not None:
            return stored
        if re.match(r"^https?://", value, re.IGNORECASE):
            raise bad_request("Failed to get HTTP URL content")
        raise bad_request("Wrong file identifier/HTTP URL specified")

    def photo_from(self, source: Upload | StoredFile) -> list[StoredFile]:
        if isinstance(source, StoredFile):
            sizes = self.photo_sets.get(source.file_id)
            if sizes is None:
                raise bad_request("Can't use file of type Document as Photo")
            return sizes
        if len(source.data) > MAX_PHOTO:
            raise bad_request("PHOTO_SAVE_FILE_INVALID")
        dims = image_size(source.data)
        if dims is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = dims
        if width <= 0 or height <= 0 or width + height > 10000 or max(width, height) > 20 * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        sizes = self.files.add_photo(source.data, width, height)
        for size in sizes:
            self.photo_sets[size.file_id] = sizes
        return sizes

    def document_from(self, source: Upload | StoredFile) -> StoredFile:
        if isinstance(source, StoredFile):
            if source.kind != "documents":
                raise bad_request("Can't use file of type Photo as Document")
            return source
        if len(source.data) > MAX_DOCUMENT:
            raise ApiError(413, "Request Entity Too Large")
        return self.files.add_document(source.data, source.filename, source.content_type)

    def caption_for(self, params: Params, prefix: str = "") -> tuple[str | None, list[Entity]]:
        text, entities = self.formatted(
            params.get(prefix + "caption"), params.get("parse_mode"), params.get(prefix + "caption_entities")
        )
        return text, entities

    def final_caption(self, text: str | None, entities: list[Entity]) -> tuple[str | None, list[Entity]]:
        if not text:
            return None, []
        text, entities = self.finalize(text, entities, CAPTION_LIMIT, "Message caption is too long", allow_empty=True)
        return (text or None), entities

    # ================================================================= methods: bot & updates

    def m_get_me(self, bot: BotAccount, params: Params) -> JSON:
        return bot.me_json()

    def m_log_out(self, bot: BotAccount, params: Params) -> bool:
        return True

    def m_close(self, bot: BotAccount, params: Params) -> bool:
        return True

    async def m_get_updates(self, bot: BotAccount, params: Params) -> list[JSON]:
        if bot.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = params.int("offset")
        limit = params.int("limit", 100, 1, 100)
        timeout = params.int("timeout", 0, 0, LONG_POLL_MAX_TIMEOUT)
        self._update_allowed(bot, params.get("allowed_updates"))
        bot.poll_generation += 1
        generation = bot.poll_generation
        bot.updates_signal.fire()  # terminates an older long poll of this bot
        now = self.world.monotonic()
        before = len(bot.pending)
        if offset < 0:
            drop = max(0, len(bot.pending) + offset)
            for record in bot.pending[:drop]:
                record.confirmed_at = now
            del bot.pending[:drop]
        elif 0 < offset <= bot.next_update_id:
            while bot.pending and bot.pending[0].update_id < offset:
                bot.pending.pop(0).confirmed_at = now
        # an offset beyond the queue tail reads from the head and confirms nothing (as tdlib's TQueue)
        if len(bot.pending) != before:
            self.world.changed.fire()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != bot.poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            if bot.pending or self.closing:
                break
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            await bot.updates_signal.wait(remaining)
        batch = bot.pending[:limit]
        delivered = self.world.monotonic()
        for record in batch:
            if record.delivered_at is None:
                record.delivered_at = delivered
        return [record.json() for record in batch]

    def _update_allowed(self, bot: BotAccount, raw: str) -> None:
        if not raw:
            return
        try:
            names = json.loads(raw)
        except ValueError:
            return
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return
        chosen = frozenset(n.lower() for n in names) & frozenset(UPDATE_TYPES)
        bot.allowed_updates = chosen or DEFAULT_ALLOWED_UPDATES

    def m_set_webhook(self, bot: BotAccount, params: Params) -> bool:
        url = params.get("url").strip()
        if url:
            m = re.match(r"^(https?)://([^/:?#]+)(?::(\d+))?", url, re.IGNORECASE)
            if m is None:
                raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
            host = m.group(2).lower()
            loopback = host in ("127.0.0.1", "localhost", "::1")
            if not loopback:
                if m.group(1).lower() != "https":
                    raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
                if m.group(3) and m.group(3) not in ("80", "88", "443", "8443"):
                    raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        self._update_allowed(bot, params.get("allowed_updates"))
        if params.bool("drop_pending_updates"):
            bot.pending.clear()
        bot.webhook_url = url
        bot.webhook_secret = params.get("secret_token")
        bot.poll_generation += 1
        bot.updates_signal.fire()
        if url and self.webhook_sender is not None:
            self.webhook_sender(bot)
        return True

    def m_delete_webhook(self, bot: BotAccount, params: Params) -> bool:
        if params.bool("drop_pending_updates"):
            now = self.world.monotonic()
            for record in bot.pending:
                record.confirmed_at = now
            bot.pending.clear()
        bot.webhook_url = ""
        bot.updates_signal.fire()  # lets a webhook sender notice and stop
        return True

    def m_get_webhook_info(self, bot: BotAccount, params: Params) -> JSON:
        out: JSON = {
            "url": bot.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(bot.pending),
        }
        if bot.webhook_url:
            out["max_connections"] = 40
            if bot.allowed_updates != DEFAULT_ALLOWED_UPDATES:
                out["allowed_updates"] = [t for t in UPDATE_TYPES if t in bot.allowed_updates]
            if bot.webhook_last_error is not None:
                out["last_error_date"], out["last_error_message"] = bot.webhook_last_error
        return out

    # ----------------------------------------------------------------- commands & profile

    def _scope_key(self, bot: BotAccount, params: Params) -> str:
        raw = params.json("scope", "Can't parse BotCommandScope JSON object")
        if raw is None:
            return "default"
        if not isinstance(raw, dict):
            raise bad_request("Can't parse BotCommandScope: BotCommandScope must be an Object")
        kind = raw.get("type")
        if not isinstance(kind, str):
            raise bad_request('Can\'t parse BotCommandScope: Field "type" must be of type String')
        if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return kind
        if kind not in ("chat", "chat_administrators", "chat_member"):
            raise bad_request("Can't parse BotCommandScope: Unsupported type specified")
        chat_ref = str(raw.get("chat_id") or "")
        if not chat_ref:
            raise bad_request("Can't parse BotCommandScope: Empty chat_id specified")
        chat = self.world.find_chat_for_bot(bot, chat_ref)
        if chat is None:
            raise bad_request("chat not found")
        if kind == "chat_member":
            user_id = raw.get("user_id")
            if not isinstance(user_id, int) or user_id <= 0:
                raise bad_request("Can't parse BotCommandScope: Invalid user_id specified")
            return f"chat_member:{chat.id}:{user_id}"
        return f"{kind}:{chat.id}"

    @staticmethod
    def _language(params: Params) -> str:
        code = params.get("language_code").strip()
        if code and not re.match(r"^[a-z]{2}$", code):
            raise bad_request("Invalid language code specified")
        return code

    def m_set_my_commands(self, bot: BotAccount, params: Params) -> bool:
        raw = params.json("commands", "Can't parse commands JSON object")
        commands = [] if raw is None else raw
        if not isinstance(commands, list):
            raise bad_request("Expected an Array of BotCommand")
        cleaned: list[JSON] = []
        for item in commands:
            if not isinstance(item, dict):
                raise bad_request("Can't parse BotCommand: expected an Object")
            for key in ("command", "description"):
                if not isinstance(item.get(key), str):
                    raise bad_request(f'Can\'t parse BotCommand: Field "{key}" must be of type String')
            command = item["command"].strip()
            if command.startswith("/"):
                command = command[1:]
            description = item["description"].strip()
            if not command:
                raise bad_request("Command must be non-empty")
            if len(command) > 32:
                raise bad_request("Command length must not exceed 32")
            if not description:
                raise bad_request("Command description must be non-empty")
            if len(description) > 256:
                raise bad_request("Command description length must not exceed 256")
            if not _COMMAND_NAME.match(command):
                raise ApiError(400, describe(400, "BOT_COMMAND_INVALID"))
            cleaned.append({"command": command, "description": description})
        if len(cleaned) > 100:
            raise ApiError(400, describe(400, "BOT_COMMANDS_TOO_MUCH"))
        scope = (self._scope_key(bot, params), self._language(params))
        if cleaned:
            bot.commands[scope] = cleaned
        else:
            bot.commands.pop(scope, None)
        return True

    def m_get_my_commands(self, bot: BotAccount, params: Params) -> list[JSON]:
        key = (self._scope_key(bot, params), self._language(params))
        return [dict(c) for c in bot.commands.get(key, [])]

    def m_delete_my_commands(self, bot: BotAccount, params: Params) -> bool:
        bot.commands.pop((self._scope_key(bot, params), self._language(params)), None)
        return True

    def _profile_text(self, store: dict[str, str], params: Params, field: str, limit: int) -> bool:
        lang = self._language(params)
        value = params.get(field)
        if len(value) > limit:
            raise bad_request(f"{field.replace('_', ' ').capitalize()} is too long")
        if value:
            store[lang] = value
        else:
            store.pop(lang, None)
        return True

    def m_set_my_name(self, bot: BotAccount, params: Params) -> bool:
        return self._profile_text(bot.names, params, "name", 64)

    def m_get_my_name(self, bot: BotAccount, params: Params) -> JSON:
        lang = self._language(params)
        return {"name": bot.names.get(lang) or bot.names.get("") or bot.first_name}

    def m_set_my_description(self, bot: BotAccount, params: Params) -> bool:
        return self._profile_text(bot.descriptions, params, "description", 512)

    def m_get_my_description(self, bot: BotAccount, params: Params) -> JSON:
        lang = self._language(params)
        return {"description": bot.descriptions.get(lang, bot.descriptions.get("", ""))}

    def m_set_my_short_description(self, bot: BotAccount, params: Params) -> bool:
        return self._profile_text(bot.short_descriptions, params, "short_description", 120)

    def m_get_my_short_description(self, bot: BotAccount, params: Params) -> JSON:
        lang = self._language(params)
        return {"short_description": bot.short_descriptions.get(lang, bot.short_descriptions.get("", ""))}

    def m_set_chat_menu_button(self, bot: BotAccount, params: Params) -> bool:
        button = params.json("menu_button", "Can't parse menu button JSON object")
        key = self.chat_for(bot, params, "read").id if params.get("chat_id") else None
        if button is None:
            bot.menu_buttons.pop(key, None)
        else:
            if not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default"):
                raise bad_request("Can't parse menu button: MenuButton has unsupported type")
            bot.menu_buttons[key] = button
        return True

    def m_get_chat_menu_button(self, bot: BotAccount, params: Params) -> JSON:
        key = self.chat_for(bot, params, "read").id if params.get("chat_id") else None
        return bot.menu_buttons.get(key) or bot.menu_buttons.get(None) or {"type": "commands"}

    # ================================================================= methods: sending

    def m_send_message(self, bot: BotAccount, params: Params) -> JSON:
        raw_text = params.get("text")
        if not raw_text:
            raise bad_request("Message text is empty")
        text, entities = self.formatted(raw_text, params.get("parse_mode"), params.get("entities"))
        chat = self.chat_for(bot, params)
        inline, keyboard = self.markup_for(params, chat)
        thread_id = self.thread_for(chat, params)
        reply_to = self.reply_for(chat, params)
        text, entities = self.finalize(text, entities, TEXT_LIMIT, "Message is too long", allow_empty=False)
        self.check_flood(bot, chat, "sendmessage")
        message = self.post(
            bot,
            chat,
            thread_id=thread_id,
            reply_to=reply_to,
            inline=inline,
            keyboard=keyboard,
            params=params,
            text=text,
            entities=entities,
        )
        return message.json()

    def m_send_photo(self, bot: BotAccount, params: Params) -> JSON:
        caption, caption_entities = self.caption_for(params)
        source = self.input_file(params, "photo", "photo")
        chat = self.chat_for(bot, params)
        inline, keyboard = self.markup_for(params, chat)
        thread_id = self.thread_for(chat, params)
        reply_to = self.reply_for(chat, params)
        caption, caption_entities = self.final_caption(caption, caption_entities)
        sizes = self.photo_from(source)
        self.check_flood(bot, chat, "sendphoto")
        message = self.post(
            bot,
            chat,
            thread_id=thread_id,
            reply_to=reply_to,
            inline=inline,
            keyboard=keyboard,
            params=params,
            photo=sizes,
            caption=caption,
            caption_entities=caption_entities,
        )
        return message.json()

    def m_send_document(self, bot: BotAccount, params: Params) -> JSON:
        caption, caption_entities = self.caption_for(params)
        source = self.input_file(params, "document", "document")
        chat = self.chat_for(bot, params)
        inline, keyboard = self.markup_for(params, chat)
        thread_id = self.thread_for(chat, params)
        reply_to = self.reply_for(chat, params)
        caption, caption_entities = self.final_caption(caption, caption_entities)
        document = self.document_from(source)
        self.check_flood(bot, chat, "senddocument")
        message = self.post(
            bot,
            chat,
            thread_id=thread_id,
            reply_to=reply_to,
            inline=inline,
            keyboard=keyboard,
            params=params,
            document=document,
            caption=caption,
            caption_entities=caption_entities,
        )
        return message.json()

    def m_send_location(self, bot: BotAccount, params: Params) -> JSON:
        latitude = params.get("latitude").strip()
        if not latitude:
            raise bad_request("Bad Request: latitude is empty")
        longitude = params.get("longitude").strip()
        if not longitude:
            raise bad_request("Bad Request: longitude is empty")
        try:
            lat, lon = float(latitude), float(longitude)
        except ValueError:
            lat, lon = 0.0, 0.0
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise bad_request("Wrong location specified")
        chat = self.chat_for(bot, params)
        inline, keyboard = self.markup_for(params, chat)
        thread_id = self.thread_for(chat, params)
        reply_to = self.reply_for(chat, params)
        self.check_flood(bot, chat, "sendlocation")
        message = self.post(
            bot,
            chat,
            thread_id=thread_id,
            reply_to=reply_to,
            inline=inline,
            keyboard=keyboard,
            params=params,
            location={"latitude": lat, "longitude": lon},
        )
        return message.json()

    def m_send_contact(self, bot: BotAccount, params: Params) -> JSON:
        phone = params.required("phone_number")
        first_name = params.required("first_name")
        chat = self.chat_for(bot, params)
        inline, keyboard = self.markup_for(params, chat)
        thread_id = self.thread_for(chat, params)
        reply_to = self.reply_for(chat, params)
        contact: JSON = {"phone_number": phone, "first_name": first_name}
        if params.get("last_name"):
            contact["last_name"] = params.get("last_name")
        self.check_flood(bot, chat, "sendcontact")
        message = self.post(
            bot,
            chat,
            thread_id=thread_id,
            reply_to=reply_to,
            inline=inline,
            keyboard=keyboard,
            params=params,
            contact=contact,
        )
        return message.json()

    def m_send_media_group(self, bot: BotAccount, params: Params) -> list[JSON]:
        raw = params.required("media")
        try:
            media = json.loads(raw)
        except ValueError:
            raise bad_request("Can't parse media JSON object") from None
        if not isinstance(media, list):
            raise bad_request("Expected an Array of InputMedia")
        items: list[tuple[str, Upload | StoredFile, str | None, list[Entity]]] = []
        for item in media:
            if not isinstance(item, dict):
                raise bad_request("Can't parse InputMedia: expected an Object")
            kind = item.get("type")
            if kind not in ("photo", "document"):
                if kind in ("video", "audio", "animation"):
                    raise bad_request(f'Can\'t parse InputMedia: type "{kind}" is unsupported by the emulator')
                raise bad_request(f"Can't parse InputMedia: type \"{kind}\" can't be used in sendMediaGroup")
            ref = item.get("media")
            if not isinstance(ref, str) or not ref:
                raise bad_request("Can't parse InputMedia: media not found")
            source = self._input_file_ref(params, ref)
            entities_raw = item.get("caption_entities")
            caption, caption_entities = self.formatted(
                str(item.get("caption") or ""),
                str(item.get("parse_mode") or ""),
                json.dumps(entities_raw) if entities_raw is not None else "",
            )
            items.append((kind, source, caption, caption_entities))
        if len(items) > 10:
            raise bad_request("Too many messages to send as an album")
        if not items:
            raise bad_request("There are no messages to send")
        if self.strict and len(items) < 2:
            raise bad_request("Media group must contain 2-10 items")
        kinds = {kind for kind, *_ in items}
        if len(kinds) > 1 and "document" in kinds:
            raise bad_request("Document can't be mixed with other media types")
        chat = self.chat_for(bot, params)
        thread_id = self.thread_for(chat, params)
        reply_to = self.reply_for(chat, params)
        prepared = []
        for kind, source, item_caption, item_entities in items:
            final_caption, final_entities = self.final_caption(item_caption, item_entities)
            content: JSON = {"caption": final_caption, "caption_entities": final_entities}
            if kind == "photo":
                content["photo"] = self.photo_from(source)
            else:
                content["document"] = self.document_from(source)
            prepared.append(content)
        self.check_flood(bot, chat, "sendmediagroup", len(prepared))
        group_id = self.world.next_media_group_id()
        out = []
        for content in prepared:
            message = self.post(
                bot,
                chat,
                thread_id=thread_id,
                reply_to=reply_to,
                inline=None,
                keyboard=None,
                params=params,
                media_group_id=group_id,
                **content,
            )
            out.append(message.json())
        return out

    def m_send_chat_action(self, bot: BotAccount, params: Params) -> bool:
        action = params.get("action").strip().lower()
        chat = self.chat_for(bot, params)
        thread_id = self.thread_for(chat, params)
        if action not in CHAT_ACTIONS:
            raise bad_request("Wrong parameter action in request")
        self.chat_actions.append(ChatAction(chat, action, self.world.monotonic(), thread_id))
        return True

    def m_copy_message(self, bot: BotAccount, params: Params) -> JSON:
        source_chat, original = self._source_message(bot, params, "message to copy")
        chat = self.chat_for(bot, params)
        inline, keyboard = self.markup_for(params, chat)
        thread_id = self.thread_for(chat, params)
        reply_to = self.reply_for(chat, params)
        content = self._copy_content(original)
        if "caption" in params.args:
            if original.photo or original.document:
                caption, entities = self.caption_for(params)
                content["caption"], content["caption_entities"] = self.final_caption(caption, entities)
        if original.is_service:
            raise bad_request("Message can't be copied")
        self.check_flood(bot, chat, "copymessage")
        message = self.post(
            bot,
            chat,
            thread_id=thread_id,
            reply_to=reply_to,
            inline=inline if params.get("reply_markup") else original.reply_markup,
            keyboard=keyboard,
            params=params,
            **content,
        )
        return {"message_id": message.message_id}

    def m_forward_message(self, bot: BotAccount, params: Params) -> JSON:
        source_chat, original = self._source_message(bot, params, "message to forward")
        chat = self.chat_for(bot, params)
        thread_id = self.thread_for(chat, params)
        if original.is_service:
            raise bad_request("Messages can't be forwarded")
        origin = original.forward_origin or {
            "type": "user",
            "sender_user": original.sender.user_json(),
            "date": original.date,
        }
        content = self._copy_content(original)
        self.check_flood(bot, chat, "forwardmessage")
        message = self.post(
            bot,
            chat,
            thread_id=thread_id,
            reply_to=None,
            inline=None,
            keyboard=None,
            params=params,
            forward_origin=origin,
            **content,
        )
        return message.json()

    def _source_message(self, bot: BotAccount, params: Params, what: str) -> tuple[Chat, StoredMessage]:
        ref = params.get("from_chat_id").strip()
        if not ref:
            raise bad_request("from_chat_id is empty")
        source = Params({**params.args, "chat_id": ref}, params.files)
        chat = self.chat_for(bot, source, "read")
        message_id = params.int("message_id")
        original = chat.messages.get(message_id)
        if original is None or original.deleted:
            raise bad_request(f"{what} not found")
        return chat, original

    @staticmethod
    def _copy_content(original: StoredMessage) -> JSON:
        return {
            "text": original.text,
            "entities": [dict(e) for e in original.entities],
            "caption": original.caption,
            "caption_entities": [dict(e) for e in original.caption_entities],
            "photo": list(original.photo),
            "document": original.document,
            "location": dict(original.location) if original.location else None,
            "contact": dict(original.contact) if original.contact else None,
        }

    # ================================================================= methods: editing

    def _message_to_edit(self, bot: BotAccount, params: Params) -> tuple[Chat, StoredMessage]:
        if params.get("inline_message_id"):
            raise bad_request("Inline messages are not supported by the emulator")
        chat = self.chat_for(bot, params, "edit")
        message_id = params.int("message_id")
        if message_id <= 0:
            raise bad_request("Message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if message.sender is not bot or message.is_service or message.forward_origin is not None:
            raise bad_request("Message can't be edited")
        return chat, message

    def _apply_edit(self, message: StoredMessage, **changes: Any) -> JSON:
        """Apply an edit unless it changes nothing (Telegram's ``MESSAGE_NOT_MODIFIED``)."""
        if all(getattr(message, key) == value for key, value in changes.items()):
            raise ApiError(400, describe(400, "MESSAGE_NOT_MODIFIED"))
        for key, value in changes.items():
            setattr(message, key, value)
        message.edit_date = self.world.now()
        self.world.notify(message, "edited")
        return message.json()

    def m_edit_message_text(self, bot: BotAccount, params: Params) -> JSON:
        raw_text = params.get("text")
        if not raw_text:
            raise bad_request("Message text is empty")
        text, entities = self.formatted(raw_text, params.get("parse_mode"), params.get("entities"))
        inline, _ = self.markup_for(params, None, only_inline=True)
        chat, message = self._message_to_edit(bot, params)
        if message.text is None:
            raise bad_request("There is no text in the message to edit")
        text, entities = self.finalize(text, entities, TEXT_LIMIT, "Message is too long", allow_empty=False)
        return self._apply_edit(message, text=text, entities=entities, reply_markup=inline)

    def m_edit_message_caption(self, bot: BotAccount, params: Params) -> JSON:
        caption, caption_entities = self.caption_for(params)
        inline, _ = self.markup_for(params, None, only_inline=True)
        chat, message = self._message_to_edit(bot, params)
        if not (message.photo or message.document):
            raise bad_request("There is no caption in the message to edit")
        caption, caption_entities = self.final_caption(caption, caption_entities)
        return self._apply_edit(message, caption=caption, caption_entities=caption_entities, reply_markup=inline)

    def m_edit_message_reply_markup(self, bot: BotAccount, params: Params) -> JSON:
        inline, _ = self.markup_for(params, None, only_inline=True)
        chat, message = self._message_to_edit(bot, params)
        return self._apply_edit(message, reply_markup=inline)

    def m_delete_message(self, bot: BotAccount, params: Params) -> bool:
        chat = self.chat_for(bot, params)
        message_id = params.int("message_id")
        if message_id <= 0:
            raise bad_request("Message identifier is not specified")
        self._delete(bot, chat, message_id, strict=True)
        return True

    def m_delete_messages(self, bot: BotAccount, params: Params) -> bool:
        chat = self.chat_for(bot, params)
        ids = params.json("message_ids", "Can't parse message identifiers JSON object")
        if not ids:
            raise bad_request("Message identifiers are not specified")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise bad_request("Expected an Array of message identifiers")
        if len(ids) > 100:
            raise bad_request("Too many message identifiers specified")
        for message_id in ids:
            try:
                self._delete(bot, chat, message_id, strict=False)
            except ApiError:
                continue
        return True

    def _delete(self, bot: BotAccount, chat: Chat, message_id: int, *, strict: bool) -> None:
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        admin = chat.membership(bot).status in ("administrator", "creator")
        own = message.sender is bot
        allowed = own or chat.is_private or admin
        if "group_chat_created" in message.service or "forum_topic_created" in message.service:
            allowed = False
        if self.world.now() - message.date > 48 * 3600 and not (admin and not chat.is_private):
            allowed = False
        if not allowed:
            raise bad_request("Message can't be deleted")
        message.deleted = True
        self.world.notify(message, "deleted")

    # ================================================================= methods: callbacks & files

    def m_answer_callback_query(self, bot: BotAccount, params: Params) -> bool:
        query_id = params.get("callback_query_id").strip()
        record = self.world.callbacks.get(query_id)
        expired = record is not None and self.world.monotonic() - record.created_at > self.callback_query_ttl
        if record is None or record.bot is not bot or record.answered or expired:
            raise bad_request("QUERY_ID_INVALID")
        text = params.get("text")
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        answer: JSON = {"text": text or None, "show_alert": params.bool("show_alert")}
        if params.get("url"):
            answer["url"] = params.get("url")
        if params.get("cache_time"):
            answer["cache_time"] = params.int("cache_time")
        record.answered = True
        if record.answer is not None and not record.answer.done():
            record.answer.set_result(answer)
        return True

    def m_get_file(self, bot: BotAccount, params: Params) -> JSON:
        file_id = params.get("file_id").strip()
        stored = self.files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.file_size > MAX_DOWNLOAD:
            raise bad_request("file is too big")
        return stored.file_json()

    # ================================================================= methods: chats

    def m_get_chat(self, bot: BotAccount, params: Params) -> JSON:
        return self.chat_for(bot, params, "read").full_json()

    def _user_for(self, params: Params) -> Account:
        user_id = params.int("user_id")
        account = self.world.accounts.get(user_id)
        if user_id <= 0 or account is None:
            raise bad_request("Invalid user_id specified" if user_id <= 0 else "user not found")
        return account

    def m_get_chat_member(self, bot: BotAccount, params: Params) -> JSON:
        chat = self.chat_for(bot, params, "read")
        account = self._user_for(params)
        return chat.membership(account).json()

    def m_get_chat_administrators(self, bot: BotAccount, params: Params) -> list[JSON]:
        chat = self.chat_for(bot, params, "read")
        if chat.is_private:
            raise bad_request("There are no administrators in the private chat")
        return [m.json() for m in chat.members.values() if m.status in ("creator", "administrator")]

    def m_get_chat_member_count(self, bot: BotAccount, params: Params) -> int:
        chat = self.chat_for(bot, params, "read")
        return sum(1 for m in chat.members.values() if m.is_present)

    def m_leave_chat(self, bot: BotAccount, params: Params) -> bool:
        chat = self.chat_for(bot, params, "read")
        if chat.is_private:
            raise bad_request("Chat info not found")
        if not chat.is_member(bot):
            raise forbidden(
                f"bot is not a member of the {'supergroup chat' if chat.type == 'supergroup' else 'group chat'}"
            )
        self.world.set_status(chat, bot, "left", by=bot)
        self.world.service_message(chat, bot, {"left_chat_member": bot.user_json()})
        return True

    def _require_admin(self, bot: BotAccount, chat: Chat, right: str, message: str) -> None:
        if chat.is_private:
            return
        membership = chat.membership(bot)
        if membership.status == "creator":
            return
        if membership.status != "administrator" or membership.json().get(right) is False:
            raise bad_request(message)

    def m_pin_chat_message(self, bot: BotAccount, params: Params) -> bool:
        chat = self.chat_for(bot, params)
        message_id = params.int("message_id")
        self._require_admin(bot, chat, "can_pin_messages", "not enough rights to manage pinned messages in the chat")
        message = chat.messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request("message to pin not found")
        if message_id in chat.pinned:
            chat.pinned.remove(message_id)
        chat.pinned.append(message_id)
        self.world.service_message(
            chat, bot, {"pinned_message": message.json(with_reply=False)}, thread_id=message.thread_id
        )
        return True

    def m_unpin_chat_message(self, bot: BotAccount, params: Params) -> bool:
        chat = self.chat_for(bot, params)
        self._require_admin(bot, chat, "can_pin_messages", "not enough rights to manage pinned messages in the chat")
        message_id = params.int("message_id")
        if message_id:
            if message_id not in chat.pinned:
                raise bad_request("Message to unpin not found")
            chat.pinned.remove(message_id)
        elif chat.pinned:
            chat.pinned.pop()
        return True

    def m_unpin_all_chat_messages(self, bot: BotAccount, params: Params) -> bool:
        chat = self.chat_for(bot, params)
        self._require_admin(bot, chat, "can_pin_messages", "not enough rights to manage pinned messages in the chat")
        chat.pinned.clear()
        return True

    def m_create_forum_topic(self, bot: BotAccount, params: Params) -> JSON:
        chat = self.chat_for(bot, params)
        if not chat.is_forum:
            raise bad_request("the chat is not a forum")
        self._require_admin(bot, chat, "can_manage_topics", "not enough rights to create a topic")
        name = params.get("name").strip()
        if not name or len(name) > 128:
            raise bad_request("Topic name must be non-empty" if not name else "TOPIC_TITLE_INVALID")
        color = params.int("icon_color") or None
        topic = self.world.create_topic(chat, name, by=bot, icon_color=color)
        return {"message_thread_id": topic.thread_id, "name": topic.name, "icon_color": topic.icon_color}
