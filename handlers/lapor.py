"""/lapor: one-line reports, photos with a /lapor caption, the guided flow, attachments by reply.

Handlers only read the update and format the answer; parsing, checks and storage are
`bot.services.reporting`'s. The guided flow asks kind → (region) → item / problem / severity → the
figures or text typed → confirm, in the reporter's private chat; in a group `/lapor` alone
answers with a button that continues in private, so the group stays clean.
"""

from __future__ import annotations

import dataclasses
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
from bot.domain.reporting import DATA_PROBLEMS, ITEMS, LaporError, ParsedLapor, Severity
from bot.domain.suggest import closest_command, correct_line, report_in_plain_text
from bot.services import reporting
from bot.services.reporting import Batch, Held, Receipt, Refused, Source
from bot.telegram.outbox import HELD_CALLBACK
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
from bot.texts import commands as tcommands
from bot.texts import common as tc
from bot.texts import incidents as ti
from bot.texts import labels
from bot.texts import reporting as tr

FLOW_TIMEOUT_S = 600
CB = "lp1"  # callback data prefix of the guided flow, versioned
#: Buttons under an answer that quotes the user's message (what they are about is that message,
#: read again when pressed, never the callback data): send the suggested report, attach the file
#: to incident <id>, start a report with the file.
CB_SUGGESTION = "lps1"
CB_ATTACH = "lpa1"
CB_NEW_WITH_FILE = "lpn1"
#: How many of the sender's latest incidents a file without a caption may be attached to.
LATEST_FOR_FILE = 3
FILE_KEY = "file"
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


#: callback data prefix of the Benar / Batal buttons of a figure that went down (sent with its
#: question by the outbox sender)
HELD_CB = HELD_CALLBACK


async def answer_receipt(
    update: Update, context: KpuContext, result: Receipt | Batch | Held | Refused, args: str | None = None
) -> None:
    """A refusal is answered now (nothing was stored); for a refused near miss of a typed line
    (`args`), with the corrected report and a button that sends it. Anything stored — receipts,
    the question of a figure that went down (with Benar / Batal), a repeat — was queued in the
    outbox with it and goes out from there, so storing never waits for Telegram and an answer
    that cannot be sent now is retried until it is."""
    if isinstance(result, Refused):
        text = refused_text(result)
        suggestion = correct_line(args) if args is not None and isinstance(result.why, LaporError) else None
        if suggestion is None:
            await reply(update, text, owner_id=sender_of(update).id)
            return
        text += "\n\n" + tr.did_you_mean(f"/lapor {suggestion}")
        await reply(update, text, owner_id=sender_of(update).id, markup=_suggestion_button(), quote=True)
        return
    context.application.bot_data[NOTIFIER_KEY].kick()


def refused_text(result: Refused) -> str:
    text = ti.refusal_text(result.why)
    return tr.in_line(result.line, text) if result.line is not None else text


def first_receipt(result: Receipt | Batch | Held | Refused) -> Receipt | None:
    """The receipt of the first report stored from a message (a file joins that one), if any."""
    if isinstance(result, Batch):
        return next((r for r in result.receipts if isinstance(r, Receipt)), None)
    return result if isinstance(result, Receipt) else None


def _suggestion_button() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(tr.SEND_SUGGESTION_BUTTON, callback_data=CB_SUGGESTION)]])


async def held_button(update: Update, context: KpuContext) -> None:
    """Benar / Batal under a report whose figure went down: only its reporter may answer, once."""
    query = query_of(update)
    _, report_id, answer = data_of(query).split(":")
    message = query_message_of(query)
    source = Source(message.chat_id, message.message_id, update.update_id, message.date, edit=True)
    result = await reporting.confirm_held(context.rt, actor_of(context), int(report_id), answer == "ya", source)
    if result is None:
        await query.answer()
        text = tr.HELD_CANCELLED if answer != "ya" else tr.HELD_ALREADY
        await edit(message, text, owner_id=sender_of(update).id)
        return
    await query.answer()
    if isinstance(result, Refused):
        await edit(message, ti.refusal_text(result.why), owner_id=sender_of(update).id)
        return
    context.application.bot_data[NOTIFIER_KEY].kick()  # the receipt is edited into the question


# --- one line ----------------------------------------------------------------------------------


async def lapor_line(update: Update, context: KpuContext) -> None:
    args = command_args(message_of(update))
    result = await reporting.submit_text(context.rt, actor_of(context), args, source_of(update))
    await answer_receipt(update, context, result, args)


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
    first = first_receipt(result)
    if first is not None:  # a message is attached once: to its first report
        await reporting.attach(context.rt, actor_of(context), first.incident.id, attachment_of(msg))
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
    private = msg.chat.type == ChatType.PRIVATE
    if replied is None or replied.from_user is None or replied.from_user.id != context.bot.id:
        if private and (msg.photo or msg.document):
            await file_in_private(update, context)  # a reply to something else: not lost either
        return
    named = ti.receipt_incident_ids(replied.text)
    receipt_id = named[0] if len(named) == 1 else None
    if len(named) > 1:  # one receipt for several reports: the caption says which one
        receipt_id = incident_number(msg.caption)
        if receipt_id not in named:
            await reply(update, ti.attach_which(named))
            return
    incident_id = await reporting.incident_of_bot_message(context.rt, msg.chat_id, replied.message_id, receipt_id)
    if incident_id is None:  # a reply to another message of the bot: nothing to attach to
        if private and (msg.photo or msg.document):
            await file_in_private(update, context)
        return
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


KIND_OPTIONS = [(k, labels.KIND_LABELS[k]) for k in ("logistik", "data", "hitung", "rekap", "insiden")]
ITEM_OPTIONS = [(name, term.label) for name, term in ITEMS.items()]
PROBLEM_OPTIONS = [(name, term.label) for name, term in DATA_PROBLEMS.items()]
SEVERITY_OPTIONS = [(s.value, f"{labels.SEVERITY_MARK[s.value]} {s.value}") for s in Severity]
ASK_DETAILS = {
    "logistik": ti.FLOW_ASK_LOGISTIK,
    "data": ti.FLOW_ASK_DATA,
    "hitung": ti.FLOW_ASK_HITUNG,
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
    summaries: list[str] = []
    path: tuple = ()
    for report in parsed.reports:
        checked = await reporting.check(context.rt, actor_of(context), parsed.target, report)
        if isinstance(checked, Refused):  # e.g. over twice the imported plan: type the figures again
            await reply(update, ti.refusal_text(checked.why), owner_id=sender_of(update).id)
            return DETAILS
        summaries.append(tr.describe_report(checked.shown, checked.severity))
        path = checked.path
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
    summary = "\n\n".join(summaries)
    if FILE_KEY in flow:
        summary += "\n" + tr.FLOW_FILE_KEPT
    await reply(update, ti.flow_confirm(summary, path), owner_id=sender_of(update).id, markup=markup)
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
        await edit(message, refused_text(result), owner_id=sender_of(update).id)
        return ConversationHandler.END
    first = first_receipt(result)
    if first is not None and FILE_KEY in flow:  # the flow started from a file without a caption: it joins the report
        await reporting.attach(context.rt, actor_of(context), first.incident.id, NewAttachment(**flow[FILE_KEY]))
    # the confirmation becomes the receipt (or the question of a figure that went down), through the outbox
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


# --- near misses, plain text, mistyped commands, files without a caption (private chats) -------


def _command_word(text: str) -> str:
    """`/laporan@kpu_bot …` → `laporan`."""
    return text.split(maxsplit=1)[0].lstrip("/").split("@", 1)[0] if text.strip() else ""


def _command_names() -> list[str]:
    return [command.name for command in tcommands.CATALOGUE]


def suggestion_for(message: Message) -> str | None:
    """The report a message most likely meant, as `/lapor` arguments that parse: a `/lapor` line
    with a near miss, a mistyped `/laporan …`, or plain text that reads as a report. Computed
    from the message itself, when it is answered and again when its button is pressed."""
    text = message.text or ""
    if not text.startswith("/"):
        return report_in_plain_text(text)
    word = _command_word(text)
    args = command_args(message)
    if word.casefold() == "lapor":
        return correct_line(args)
    if closest_command(word, _command_names()) != "lapor" or not args:
        return None
    return args if isinstance(parse_lapor(args), ParsedLapor) else correct_line(args)


async def plain_text(update: Update, context: KpuContext) -> None:
    """Text without a command in a private chat is not stored: say so, and offer the report it
    reads as, if it reads as one."""
    suggestion = suggestion_for(message_of(update))
    if suggestion is None:
        await reply(update, tr.PLAIN_TEXT)
        return
    await reply(update, tr.plain_text_report(f"/lapor {suggestion}"), markup=_suggestion_button(), quote=True)


async def unknown_command(update: Update, context: KpuContext) -> None:
    """A command the bot does not know, in a private chat: named, with the one it most likely
    stands for (and for a mistyped /lapor with a report, a button that sends it)."""
    message = message_of(update)
    typed = (message.text or "").split(maxsplit=1)[0]
    known = closest_command(_command_word(typed), _command_names())
    suggestion = suggestion_for(message)
    if suggestion is None:
        await reply(update, tr.unknown_command(typed, known))
        return
    text = tr.unknown_command(typed, None) + "\n\n" + tr.did_you_mean(f"/lapor {suggestion}")
    await reply(update, text, markup=_suggestion_button(), quote=True)


def _quoted_original(query) -> Message | None:
    """The user's message the pressed answer quotes, when the presser is the one who sent it."""
    message = query.message
    original = message.reply_to_message if isinstance(message, Message) else None
    return original if original is not None and original.from_user is not None else None


async def send_suggestion(update: Update, context: KpuContext) -> None:
    """The "send it" button: the corrected report, checked and stored exactly as if typed (the
    presser's rights and scope), with the original message as its source, so pressing twice
    stores it once."""
    query = query_of(update)
    original = _quoted_original(query)
    if original is None or original.from_user is None:
        await query.answer(tr.SUGGESTION_GONE, show_alert=True)
        return
    if original.from_user.id != query.from_user.id:
        await query.answer(tr.ONLY_THE_SENDER, show_alert=True)
        return
    suggestion = suggestion_for(original)
    if suggestion is None:
        await query.answer(tr.SUGGESTION_GONE, show_alert=True)
        return
    await query.answer()
    message = query_message_of(query)
    # stored with the original message as its source; the answer that offered it becomes the receipt
    source = Source(original.chat_id, original.message_id, None, original.date, edit_message_id=message.message_id)
    result = await reporting.submit_text(context.rt, actor_of(context), suggestion, source)
    if isinstance(result, Refused):
        await edit(message, refused_text(result), owner_id=query.from_user.id)
        return
    context.application.bot_data[NOTIFIER_KEY].kick()


async def file_without_caption(update: Update, context: KpuContext) -> None:
    """A photo or document sent privately with no /lapor caption and not as a reply: buttons to
    attach it to one of the sender's latest incidents, or to start a report with it."""
    latest = await reporting.latest_incidents(context.rt, actor_of(context), LATEST_FOR_FILE)
    rows = [
        [
            InlineKeyboardButton(
                tr.attach_to_button(incident.id, ti.incident_label(incident)),
                callback_data=f"{CB_ATTACH}:{incident.id}",
            )
        ]
        for incident in latest
    ]
    rows.append([InlineKeyboardButton(tr.NEW_REPORT_WITH_FILE_BUTTON, callback_data=CB_NEW_WITH_FILE)])
    text = tr.FILE_WITHOUT_CAPTION if latest else tr.FILE_WITHOUT_CAPTION_NO_REPORTS
    await reply(update, text, markup=InlineKeyboardMarkup(rows), quote=True)


async def attach_button(update: Update, context: KpuContext) -> None:
    """Attach the quoted file to the incident the button names — if the presser sent the file and
    may add to that incident (the service checks the incident's scope and owner, as for a reply)."""
    query = query_of(update)
    original = _quoted_original(query)
    if original is None or original.from_user is None or not (original.photo or original.document):
        await query.answer(tr.SUGGESTION_GONE, show_alert=True)
        return
    if original.from_user.id != query.from_user.id:
        await query.answer(tr.ONLY_THE_SENDER, show_alert=True)
        return
    incident_id = int(data_of(query).split(":", 1)[1])
    result = await reporting.attach(context.rt, actor_of(context), incident_id, attachment_of(original))
    if isinstance(result, Refused):
        await query.answer(ti.refusal_alert(result.why), show_alert=True)
        return
    await query.answer()
    text = ti.attached(incident_id, result.kind) if result.new else ti.already_attached(result.incident_id)
    await edit(query_message_of(query), text)


async def report_with_file(update: Update, context: KpuContext) -> int:
    """Start the guided flow with the quoted file: it is attached to the report once sent."""
    query = query_of(update)
    original = _quoted_original(query)
    if original is None or original.from_user is None or not (original.photo or original.document):
        await query.answer(tr.SUGGESTION_GONE, show_alert=True)
        return ConversationHandler.END
    if original.from_user.id != query.from_user.id:
        await query.answer(tr.ONLY_THE_SENDER, show_alert=True)
        return ConversationHandler.END
    decision = access.decide(context.actor, Action.LAPOR)
    if not decision:
        await query.answer(tc.refusal(decision.reason), show_alert=True)
        return ConversationHandler.END
    await query.answer()
    user_data_of(context)[FLOW_KEY] = {FILE_KEY: dataclasses.asdict(attachment_of(original))}
    await edit(query_message_of(query), ti.FLOW_CHOOSE_KIND, markup=_keyboard("k", KIND_OPTIONS))
    return KIND


XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _is_import_file(message: Message, may_import: bool) -> bool:
    """A CSV is an /impor upload (answered by replying /impor to it), not a report's evidence; so
    is an Excel workbook from someone who may import (from anyone else it is evidence)."""
    doc = message.document
    if doc is None:
        return False
    name, mime = (doc.file_name or "").casefold(), doc.mime_type or ""
    if name.endswith(".csv") or mime in ("text/csv", "text/plain"):
        return True
    return may_import and (name.endswith(".xlsx") or mime == XLSX_MIME)


async def file_in_private(update: Update, context: KpuContext) -> None:
    if _is_import_file(message_of(update), bool(access.decide(context.actor, Action.IMPOR))):
        return
    await file_without_caption(update, context)


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
        MessageHandler((filters.PHOTO | filters.Document.ALL) & private, file_in_private),
        CommandHandler("batal", nothing_to_cancel),
        CallbackQueryHandler(send_suggestion, pattern=f"^{CB_SUGGESTION}$"),
        CallbackQueryHandler(attach_button, pattern=f"^{CB_ATTACH}:[0-9]{{1,18}}$"),
        CallbackQueryHandler(stale_button, pattern=f"^{CB}:|^{CB_NEW_WITH_FILE}$"),
    ]


def last_handlers() -> list:
    """Registered after every other handler: what no other handler took in a private chat."""
    private = filters.ChatType.PRIVATE
    return [
        MessageHandler(filters.TEXT & ~filters.COMMAND & private, plain_text),
        MessageHandler(filters.COMMAND & private, unknown_command),
    ]


def _conversation(private, text, cancel_cb) -> ConversationHandler:
    return ConversationHandler(
        entry_points=[
            CommandHandler("lapor", lapor_private, filters=private),
            CommandHandler("start", lapor_private, filters=private & filters.Regex(r"^/start lapor$")),
            CallbackQueryHandler(report_with_file, pattern=f"^{CB_NEW_WITH_FILE}$"),
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
