"""Incidents: /status, the lifecycle commands and buttons, and /insiden with paging."""

from __future__ import annotations

import asyncio

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.context import NOTIFIER_KEY, KpuContext
from bot.domain.access import Reason
from bot.services import audit, export, regions, reporting
from bot.services import incidents as lifecycle
from bot.services.export import Exported
from bot.services.incidents import Move, MoveResult, NotShown, Why
from bot.telegram.outbox import CALLBACK_VERSION
from bot.telegram.replies import edit, reply, send_document
from bot.telegram.updates import actor_of, args_of, message_of, query_message_of, query_of, sender_of, whole_number
from bot.texts import common as tc
from bot.texts import export as texts_export
from bot.texts import incidents as ti
from bot.texts.common import esc
from bot.texts.formatting import number


def _incident_id(args: list[str]) -> int | None:
    if len(args) != 1:
        return None
    return whole_number(args[0].lstrip("#"), max_digits=11)


async def status(update: Update, context: KpuContext) -> None:
    incident_id = _incident_id(args_of(context))
    if incident_id is None:
        await reply(update, ti.STATUS_USAGE)
        return
    view = await lifecycle.view(context.rt, actor_of(context), incident_id)
    if isinstance(view, NotShown):
        await reply(update, ti.status_not_found(incident_id) if view.why == Why.NOT_FOUND else tc.refusal(view.why))
        return
    incident = view.incident
    parts = ti.status_messages(
        incident,
        reporting.report_of(incident),
        view.path,
        view.reporter_name,
        view.events,
        view.attachments,
        context.rt.settings.tz,
        view.region_titles,
    )
    for part in parts:
        await reply(update, part, owner_id=incident.reporter_id)


# --- lifecycle: /tangani, /eskalasi, /selesai, /catatan, /tolak, /buka and the buttons ------------


def _move_answer(
    move: Move, result: MoveResult, incident_id: int, who: str | None, to_title: str | None, note: str, *, plain: bool
) -> str:
    """The answer to a lifecycle command (HTML) or button (`plain`: an alert is not parsed)."""
    quote = (lambda text: text) if plain else esc
    if result.ok:
        text = ti.MOVE_DONE[move.value].format(id=incident_id, to=quote(to_title or ""))
        if move is Move.ESKALASI and not result.to_group:
            text += ti.ESCALATED_NO_GROUP
        return text
    if result.why in ti.MOVE_REFUSED:
        template = ti.MOVE_REFUSED[result.why]
        return (ti.plain_template(template) if plain else template).format(
            id=incident_id,
            who=quote(who or "orang lain"),
            length=number(len(note.strip())),
            limit=number(lifecycle.NOTE_LIMIT),
            other=result.other_id or "",
        )
    return tc.refusal(result.why)


async def _perform(
    context: KpuContext, incident_id: int, move: Move, note: str, *, plain: bool = False
) -> tuple[MoveResult, str]:
    performed = await lifecycle.perform_named(context.rt, actor_of(context), incident_id, move, note)
    result = performed.result
    if result.ok:
        context.application.bot_data[NOTIFIER_KEY].kick()
    return result, _move_answer(
        move, result, incident_id, performed.assignee_name, performed.to_title, note, plain=plain
    )


def _lifecycle_command(move: Move):
    async def command(update: Update, context: KpuContext) -> None:
        parts = (message_of(update).text or "").split(maxsplit=2)
        incident_id = _incident_id(parts[1:2]) if len(parts) > 1 else None
        if incident_id is None:
            await reply(update, ti.LIFECYCLE_USAGE[move.value])
            return
        note = parts[2] if len(parts) > 2 else ""
        _, text = await _perform(context, incident_id, move, note)
        await reply(update, text)

    command.__name__ = f"{move.value}_command"
    return command


tangani = _lifecycle_command(Move.TANGANI)
eskalasi = _lifecycle_command(Move.ESKALASI)
selesai = _lifecycle_command(Move.SELESAI)
catatan = _lifecycle_command(Move.CATATAN)
tolak = _lifecycle_command(Move.TOLAK)
buka = _lifecycle_command(Move.BUKA)

BUTTON_MOVES = {"t": Move.TANGANI, "e": Move.ESKALASI, "s": Move.SELESAI}


async def incident_button(update: Update, context: KpuContext) -> None:
    """A press on Tangani / Eskalasi / Selesai under a group post: the same checks as the commands;
    a refusal is an alert and changes nothing."""
    query = query_of(update)
    parts = (query.data or "").split(":")
    if (
        len(parts) != 3
        or parts[0] != CALLBACK_VERSION
        or parts[1] not in BUTTON_MOVES
        or whole_number(parts[2]) is None
    ):
        await unknown_button(update, context)
        return
    result, text = await _perform(context, int(parts[2]), BUTTON_MOVES[parts[1]], "", plain=True)
    if result.why == Why.NOT_FOUND:  # a button for no incident: only a forged one says that
        await audit.refused(context.rt, sender_of(update).id, f"tombol {query.data}", "", "not_found")
    await query.answer(ti.alert(text), show_alert=not result.ok)


async def unknown_button(update: Update, context: KpuContext) -> None:
    """A press whose data no handler knows (an old version's button, or a forged one): answered,
    so the user's button stops spinning, and audited; nothing else happens."""
    query = query_of(update)
    await audit.refused(context.rt, sender_of(update).id, f"tombol {(query.data or '')[:64]}", "", "unknown_button")
    await query.answer(ti.BUTTON_OUTDATED, show_alert=True)


# --- /insiden ------------------------------------------------------------------------------------

PAGE_SIZE = 10
LIST_CB = "il2"  # il2:<requester id>:<kind or *>:<o|a>:<page> (well under 64 bytes)
KINDS = ("logistik", "data", "hitung", "rekap", "insiden")


def _list_args(args: list[str]) -> tuple[str | None, bool] | None:
    kind, open_only = None, True
    for arg in (a.lower() for a in args):
        if arg in KINDS and kind is None:
            kind = arg
        elif arg in ("terbuka", "semua"):
            open_only = arg == "terbuka"
        else:
            return None
    return kind, open_only


async def _render_list(context: KpuContext, user_id: int, kind: str | None, open_only: bool, page: int):
    rt = context.rt
    listed = await lifecycle.list_page(
        rt, actor_of(context), kind=kind, open_only=open_only, page=page, page_size=PAGE_SIZE
    )
    if isinstance(listed, Reason):
        return tc.refusal(listed), None
    pages = listed.pages
    text = ti.incident_list(
        listed.items, page, pages, listed.total, kind, open_only, rt.settings.tz, listed.without_progress
    )
    nav = []
    state = f"{user_id}:{kind or '*'}:{'o' if open_only else 'a'}"
    if page > 1:
        nav.append(InlineKeyboardButton(ti.PAGE_PREV, callback_data=f"{LIST_CB}:{state}:{page - 1}"))
    if page < pages:
        nav.append(InlineKeyboardButton(ti.PAGE_NEXT, callback_data=f"{LIST_CB}:{state}:{page + 1}"))
    return text, InlineKeyboardMarkup([nav]) if nav else None


async def insiden(update: Update, context: KpuContext) -> None:
    parsed = _list_args(args_of(context))
    if parsed is None:
        await reply(update, ti.INSIDEN_USAGE)
        return
    text, markup = await _render_list(context, sender_of(update).id, *parsed, page=1)
    await reply(update, text, markup=markup)


def _page_data(data: str) -> tuple[int, str | None, bool, int] | None:
    """il2:<requester>:<kind or *>:<o|a>:<page> → (requester, kind, open_only, page); None if not."""
    parts = data.split(":")
    if len(parts) != 5 or parts[0] != LIST_CB or whole_number(parts[1]) is None or whole_number(parts[4]) is None:
        return None
    if (parts[2] != "*" and parts[2] not in KINDS) or parts[3] not in ("o", "a") or int(parts[4]) < 1:
        return None
    return int(parts[1]), None if parts[2] == "*" else parts[2], parts[3] == "o", int(parts[4])


async def insiden_page(update: Update, context: KpuContext) -> None:
    """◀ ▶ under a /insiden list: only who asked for the list may turn its pages (in a group the
    list shows the requester's scope)."""
    query = query_of(update)
    parsed = _page_data(query.data or "")
    if parsed is None or not _is_list(query_message_of(query)):  # forged on another message (a post)
        await unknown_button(update, context)
        return
    requester, kind, open_only, page = parsed
    if requester != sender_of(update).id:
        await audit.refused(context.rt, sender_of(update).id, f"tombol {query.data}", "", "not_own")
        await query.answer(ti.LIST_NOT_YOURS, show_alert=True)
        return
    text, markup = await _render_list(context, requester, kind, open_only, page)
    await query.answer()
    try:
        await edit(query_message_of(query), text, markup=markup)
    except BadRequest as exc:
        if "not modified" not in exc.message:  # the same page again: nothing to change
            raise


def _is_list(message: Message) -> bool:
    """The message is a /insiden list: it carries the list's ◀ ▶ buttons."""
    rows = message.reply_markup.inline_keyboard if message.reply_markup else ()
    data = [b.callback_data for row in rows for b in row]
    return any(isinstance(d, str) and d.startswith(f"{LIST_CB}:") for d in data)


# --- /ekspor -------------------------------------------------------------------------------------


async def ekspor(update: Update, context: KpuContext) -> None:
    """The incidents of the user's scope as CSV (NIKs masked), sent as a document."""
    args = args_of(context)
    if len(args) > 1 or (args and whole_number(args[0]) is None):
        await reply(update, ti.EKSPOR_USAGE)
        return
    days = int(args[0]) if args else 7
    if not 1 <= days <= export.MAX_DAYS:
        await reply(update, ti.EKSPOR_USAGE)
        return
    actor, rt = actor_of(context), context.rt
    exported = await export.export_for(rt, actor, days)
    if not isinstance(exported, Exported):
        await reply(update, tc.refusal(exported))
        return
    path_text = tc.region_path(await regions.path(rt, actor.region_code))
    tz, local_now = rt.settings.tz, exported.at.astimezone(rt.settings.tz)
    data = texts_export.to_csv(exported.rows, tz)
    name = texts_export.file_name(actor.region_code, local_now)
    await send_document(update, data, name, ti.ekspor_caption(len(exported.rows), days, path_text))
    # the same incidents as a workbook, with their history and the state per kecamatan (built off
    # the event loop: a big scope's workbook takes a moment)
    workbook = await asyncio.to_thread(texts_export.to_xlsx, exported.rows, exported.history, exported.state, tz)
    kecamatan = len({row["region_code"] for row in exported.state})
    await send_document(
        update,
        workbook,
        texts_export.xlsx_file_name(actor.region_code, local_now),
        texts_export.xlsx_caption(len(exported.rows), kecamatan),
    )
