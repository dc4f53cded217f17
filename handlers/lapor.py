"""/lapor: one-line reports, photos with a /lapor caption, the guided flow, attachments by reply.

Handlers only read the update and format the answer; parsing, checks and storage are
`bot.services.reporting`'s. The guided flow asks kind → (region) → item / problem / severity → the
figures or text typed → confirm, in the reporter's private chat; in a group `/lapor` alone
answers with a button that continues in private, so the group stays clean.
"""

from __future__ import annotations

import warnings

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.context import NOTIFIER_KEY, KpuContext
from bot.domain import access
from bot.domain.access import Action
from bot.domain.models import Level, NewAttachment
from bot.domain.parsing import incident_number, parse_lapor
from bot.domain.reporting import DATA_PROBLEMS, ITEMS, LaporError, Severity
from bot.services import reporting
from bot.services.reporting import Receipt, Refused, Source
from bot.telegram.replies import edit, reply, send
from bot.telegram.updates import (
    actor_of,
    chat_of,
    data_of,
    message_of,
    query_message_of,
    query_of,
    sender_of,
    text_of,
    user_data_of,
)
from bot.texts import common as tc
from bot.texts import incidents as ti
from bot.texts import labels
from bot.texts import reporting as tr

FLOW_TIMEOUT_S = 600
CB = "lp1"  # callback data prefix of the guided flow, versioned
KIND, REGION, ITEM, PROBLEM, SEVERITY, DETAILS, CONFIRM = range(7)
FLOW_KEY = "lapor_flow"


def command_args(message: Message) -> str:
    """The raw text after the leading bot command (spacing in notes kept), text or caption."""
    text = message.text or message.caption or ""
    entities = message.entities if message.text else message.caption_entities
    for entity in entities or ():
        if entity.type == MessageEntity.BOT_COMMAND and entity.offset == 0:
            return text[entity.length :].strip()
    return text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) == 2 else ""


def source_of(update: Update, message: Message | None = None) -> Source:
    message = message or message_of(update)
    quote = message.chat.type != ChatType.PRIVATE  # as `reply` does: in a group, the receipt quotes
    return Source(message.chat_id, message.message_id, update.update_id, message.date, quote=quote)


async def answer_receipt(update: Update, context: KpuContext, result: Receipt | Refused) -> None:
    """A refusal is answered now (nothing was stored); a stored report's receipt was queued with
    it and goes out through the outbox, so storing never waits for Telegram and a receipt that
    cannot be sent now is retried until it is."""
    if isinstance(result, Refused):
        await reply(update, ti.refusal_text(result.why), owner_id=sender_of(update).id)
        return
    if result.notified:
        context.application.bot_data[NOTIFIER_KEY].kick()


# --- one line ----------------------------------------------------------------------------------


async def lapor_line(update: Update, context: KpuContext) -> None:
    result = await reporting.submit_text(
        context.rt, actor_of(context), command_args(message_of(update)), source_of(update)
    )
    await answer_receipt(update, context, result)


def _continue_in_private(context: KpuContext) -> InlineKeyboardMarkup:
    link = f"https://t.me/{context.bot.username}?start=lapor"
    return InlineKeyboardMarkup([[InlineKeyboardButton(ti.FLOW_IN_GROUP_BUTTON, url=link)]])


async def lapor_in_group(update: Update, context: KpuContext) -> None:
    """In a registered coordination group a one-line report is taken there; anything else (the
    guided flow, or any report in a group that is not registered) continues in private."""
    registered = await reporting.takes_reports(context.rt, chat_of(update).id, private=False)
    if registered and command_args(message_of(update)):
        await lapor_line(update, context)
        return
    await reply(
        update, ti.FLOW_IN_GROUP if registered else ti.FLOW_GROUP_NOT_REGISTERED, markup=_continue_in_private(context)
    )


async def lapor_with_file(update: Update, context: KpuContext) -> None:
    """A photo or document whose caption is a /lapor line: the report, with the file attached
    (again on a repeat: attaching is idempotent, so a crash between the two heals itself)."""
    msg = message_of(update)
    if not await reporting.takes_reports(context.rt, msg.chat_id, private=msg.chat.type == ChatType.PRIVATE):
        await reply(update, ti.FLOW_GROUP_NOT_REGISTERED, markup=_continue_in_private(context))
        return
    result = await reporting.submit_text(context.rt, actor_of(context), command_args(msg), source_of(update))
    if isinstance(result, Receipt):
        await reporting.attach(context.rt, actor_of(context), result.incident.id, attachment_of(msg))
    await answer_receipt(update, context, result)


# --- attachments by reply ----------------------------------------------------------------------


def attachment_of(msg: Message) -> NewAttachment:
    """What a message carries: its largest photo, its document, or its location."""
    chat_id, message_id = msg.chat_id, msg.message_id
    if msg.photo:
        photo = msg.photo[-1]
        return NewAttachment(
            "foto",
            file_id=photo.file_id,
            file_unique_id=photo.file_unique_id,
            file_size=photo.file_size,
            width=photo.width,
            height=photo.height,
            chat_id=chat_id,
            message_id=message_id,
        )
    if msg.document:
        doc = msg.document
        return NewAttachment(
            "dokumen",
            file_id=doc.file_id,
            file_unique_id=doc.file_unique_id,
            file_name=doc.file_name,
            mime_type=doc.mime_type,
            file_size=doc.file_size,
            chat_id=chat_id,
            message_id=message_id,
        )
    location = msg.location
    if location is None:  # the handlers' filters let through only a photo, a document or a location
        raise ValueError(f"message {message_id} carries nothing to attach")
    return NewAttachment(
        "lokasi",
        latitude=location.latitude,
        longitude=location.longitude,
        chat_id=chat_id,
        message_id=message_id,
    )


async def attach_by_reply(update: Update, context: KpuContext) -> None:
    msg = message_of(update)
    replied = msg.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
        return
    named = ti.receipt_incident_ids(replied.text)
    receipt_id = named[0] if len(named) == 1 else None
    if len(named) > 1:  # one receipt for several reports: the caption says which one
        receipt_id = incident_number(msg.caption)
        if receipt_id not in named:
            await reply(update, ti.attach_which(named))
            return
    incident_id = await reporting.incident_of_bot_message(context.rt, msg.chat_id, replied.message_id, receipt_id)
    if incident_id is None:
        return  # a reply to another message of the bot: nothing to attach to
    result = await reporting.attach(context.rt, actor_of(context), incident_id, attachment_of(msg))
    if isinstance(result, Refused):
        await reply(update, ti.refusal_text(result.why))
    elif result.new:
        await reply(update, ti.attached(incident_id, result.kind))
    else:
        await reply(update, ti.already_attached(incident_id))


# --- the guided flow ---------------------------------------------------------------------------


def _keyboard(prefix: str, options: list[tuple[str, str]], per_row: int = 2) -> InlineKeyboardMarkup:
    buttons = [InlineKeyboardButton(label, callback_data=f"{CB}:{prefix}:{value}") for value, label in options]
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    rows.append([InlineKeyboardButton(ti.FLOW_CANCEL_BUTTON, callback_data=f"{CB}:x")])
    return InlineKeyboardMarkup(rows)


KIND_OPTIONS = [(k, labels.KIND_LABELS[k]) for k in ("logistik", "data", "rekap", "insiden")]
ITEM_OPTIONS = [(name, term.label) for name, term in ITEMS.items()]
PROBLEM_OPTIONS = [(name, term.label) for name, term in DATA_PROBLEMS.items()]
SEVERITY_OPTIONS = [(s.value, f"{labels.SEVERITY_MARK[s.value]} {s.value}") for s in Severity]
ASK_DETAILS = {
    "logistik": ti.FLOW_ASK_LOGISTIK,
    "data": ti.FLOW_ASK_DATA,
    "rekap": ti.FLOW_ASK_REKAP,
    "insiden": ti.FLOW_ASK_INSIDEN,
}


def _flow(context: KpuContext) -> dict:
    return user_data_of(context).setdefault(FLOW_KEY, {})


async def lapor_private(update: Update, context: KpuContext) -> int:
    """`/lapor` in private: with arguments one line, without the guided flow."""
    if command_args(message_of(update)) and not _is_start(update):
        await lapor_line(update, context)
        return ConversationHandler.END
    decision = access.decide(context.actor, Action.LAPOR)
    if not decision:
        await reply(update, tc.refusal(decision.reason))
        return ConversationHandler.END
    user_data_of(context)[FLOW_KEY] = {}
    await reply(update, ti.FLOW_CHOOSE_KIND, markup=_keyboard("k", KIND_OPTIONS))
    return KIND


def _is_start(update: Update) -> bool:
    return (message_of(update).text or "").startswith("/start")


async def _after_region(update: Update, context: KpuContext) -> int:
    kind = _flow(context)["kind"]
    message = query_message_of(update.callback_query) if update.callback_query else None
    nxt = {
        "logistik": (ITEM, ti.FLOW_CHOOSE_ITEM, ITEM_OPTIONS, "i"),
        "data": (PROBLEM, ti.FLOW_CHOOSE_PROBLEM, PROBLEM_OPTIONS, "p"),
        "insiden": (SEVERITY, ti.FLOW_CHOOSE_SEVERITY, SEVERITY_OPTIONS, "s"),
    }.get(kind)
    if nxt is None:
        text, markup, state = ASK_DETAILS[kind], None, DETAILS
    else:
        state, text, options, prefix = nxt
        markup = _keyboard(prefix, options)
    if message is not None:
        await edit(message, text, markup=markup)
    else:
        await reply(update, text, markup=markup)
    return state


async def chose_kind(update: Update, context: KpuContext) -> int:
    query = query_of(update)
    await query.answer()
    kind = data_of(query).split(":")[2]
    flow = _flow(context)
    flow["kind"] = kind
    home = await reporting.home_region(context.rt, actor_of(context))
    if home is None:  # the user's own region: a user is registered only for a region that exists
        raise LookupError(f"the region of user {actor_of(context).telegram_id} is not stored")
    if home.level is Level.KECAMATAN:
        flow["target"] = None
        return await _after_region(update, context)
    if kind in reporting.PER_KECAMATAN:
        await edit(query_message_of(query), ti.FLOW_ASK_REGION)
    else:
        own = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(home.title, callback_data=f"{CB}:r:own")],
                [InlineKeyboardButton(ti.FLOW_CANCEL_BUTTON, callback_data=f"{CB}:x")],
            ]
        )
        await edit(query_message_of(query), ti.flow_ask_region_own(home), markup=own)
    return REGION


async def chose_own_region(update: Update, context: KpuContext) -> int:
    await query_of(update).answer()
    _flow(context)["target"] = None
    return await _after_region(update, context)


async def typed_region(update: Update, context: KpuContext) -> int:
    typed = text_of(update).strip().lstrip("@")
    region = await reporting.region_for(context.rt, actor_of(context), typed, _flow(context)["kind"])
    if isinstance(region, Refused):
        await reply(update, ti.refusal_text(region.why))
        return REGION
    _flow(context)["target"] = region.code
    return await _after_region(update, context)


async def chose_option(update: Update, context: KpuContext) -> int:
    query = query_of(update)
    await query.answer()
    _, field, value = data_of(query).split(":", 2)
    _flow(context)[{"i": "item", "p": "problem", "s": "severity"}[field]] = value
    await edit(query_message_of(query), ASK_DETAILS[_flow(context)["kind"]])
    return DETAILS


def _line(flow: dict, typed: str) -> str:
    parts = [f"@{flow['target']}"] if flow.get("target") else []
    parts.append(flow["kind"])
    parts += [flow[key] for key in ("item", "problem", "severity") if key in flow]
    parts.append(typed)
    return " ".join(parts)


async def typed_details(update: Update, context: KpuContext) -> int:
    flow = _flow(context)
    parsed = parse_lapor(_line(flow, text_of(update)))
    if isinstance(parsed, LaporError):
        await reply(update, tr.render_error(parsed), owner_id=sender_of(update).id)
        return DETAILS
    checked = await reporting.check(context.rt, actor_of(context), parsed)
    if isinstance(checked, Refused):  # e.g. over twice the imported plan: type the figures again
        await reply(update, ti.refusal_text(checked.why), owner_id=sender_of(update).id)
        return DETAILS
    flow["line"] = _line(flow, text_of(update))
    flow["sent_at"] = message_of(update).date
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(ti.FLOW_SEND, callback_data=f"{CB}:ok"),
                InlineKeyboardButton(ti.FLOW_CANCEL_BUTTON, callback_data=f"{CB}:x"),
            ]
        ]
    )
    await reply(
        update,
        ti.flow_confirm(tr.describe_report(checked.shown, checked.severity), checked.path),
        owner_id=sender_of(update).id,
        markup=markup,
    )
    return CONFIRM


async def confirmed(update: Update, context: KpuContext) -> int:
    query = query_of(update)
    flow = user_data_of(context).pop(FLOW_KEY, {})
    parsed = parse_lapor(flow.get("line", ""))
    if isinstance(parsed, LaporError):
        await query.answer(ti.FLOW_EXPIRED_BUTTON, show_alert=True)
        return ConversationHandler.END
    message = query_message_of(query)
    source = Source(
        message.chat_id, message.message_id, update.update_id, flow.get("sent_at") or message.date, edit=True
    )
    result = await reporting.submit_parsed(context.rt, actor_of(context), parsed, source)
    if isinstance(result, Refused):
        await query.answer()
        await edit(message, ti.refusal_text(result.why), owner_id=sender_of(update).id)
        return ConversationHandler.END
    if result.notified:  # the confirmation becomes the receipt, through the outbox
        context.application.bot_data[NOTIFIER_KEY].kick()
    await query.answer()
    return ConversationHandler.END


async def cancel_button(update: Update, context: KpuContext) -> int:
    user_data_of(context).pop(FLOW_KEY, None)
    query = query_of(update)
    await query.answer()
    await edit(query_message_of(query), ti.FLOW_CANCELLED)
    return ConversationHandler.END


async def cancel(update: Update, context: KpuContext) -> int:
    user_data_of(context).pop(FLOW_KEY, None)
    await reply(update, ti.FLOW_CANCELLED)
    return ConversationHandler.END


async def timed_out(update: Update, context: KpuContext) -> None:
    user_data_of(context).pop(FLOW_KEY, None)
    await send(context.bot, chat_of(update).id, ti.FLOW_TIMEOUT)


async def type_please(update: Update, context: KpuContext) -> None:
    await reply(update, ti.FLOW_TYPE_PLEASE)


async def nothing_to_cancel(update: Update, context: KpuContext) -> None:
    await reply(update, ti.FLOW_NOTHING_TO_CANCEL)


async def stale_button(update: Update, context: KpuContext) -> None:
    await query_of(update).answer(ti.FLOW_EXPIRED_BUTTON, show_alert=True)


def handlers() -> list:
    """The /lapor handlers in order; `handlers.register` adds them."""
    private = filters.ChatType.PRIVATE
    groups = filters.ChatType.GROUPS
    text = filters.TEXT & ~filters.COMMAND
    cancel_cb = CallbackQueryHandler(cancel_button, pattern=f"^{CB}:x$")
    with warnings.catch_warnings():
        # the flow is tracked per chat and user, not per message, on purpose
        warnings.filterwarnings("ignore", message=".*per_message=False.*", category=PTBUserWarning)
        flow = _conversation(private, text, cancel_cb)
    return [
        flow,
        CommandHandler("lapor", lapor_in_group, filters=groups),
        MessageHandler(
            (filters.PHOTO | filters.Document.ALL) & filters.CaptionRegex(r"(?i)^/lapor(@\w+)?(\s|$)"), lapor_with_file
        ),
        MessageHandler((filters.PHOTO | filters.Document.ALL | filters.LOCATION) & filters.REPLY, attach_by_reply),
        CommandHandler("batal", nothing_to_cancel),
        CallbackQueryHandler(stale_button, pattern=f"^{CB}:"),
    ]


def _conversation(private, text, cancel_cb) -> ConversationHandler:
    return ConversationHandler(
        entry_points=[
            CommandHandler("lapor", lapor_private, filters=private),
            CommandHandler("start", lapor_private, filters=private & filters.Regex(r"^/start lapor$")),
        ],
        states={
            KIND: [CallbackQueryHandler(chose_kind, pattern=f"^{CB}:k:"), cancel_cb],
            REGION: [
                CallbackQueryHandler(chose_own_region, pattern=f"^{CB}:r:own$"),
                cancel_cb,
                MessageHandler(text, typed_region),
            ],
            ITEM: [CallbackQueryHandler(chose_option, pattern=f"^{CB}:i:"), cancel_cb],
            PROBLEM: [CallbackQueryHandler(chose_option, pattern=f"^{CB}:p:"), cancel_cb],
            SEVERITY: [CallbackQueryHandler(chose_option, pattern=f"^{CB}:s:"), cancel_cb],
            DETAILS: [MessageHandler(text, typed_details)],
            CONFIRM: [CallbackQueryHandler(confirmed, pattern=f"^{CB}:ok$"), cancel_cb],
            ConversationHandler.TIMEOUT: [TypeHandler(Update, timed_out)],
        },
        fallbacks=[CommandHandler("batal", cancel), MessageHandler(text & private, type_please)],
        conversation_timeout=FLOW_TIMEOUT_S,
        allow_reentry=True,
        name="lapor",
    )
