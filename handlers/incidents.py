"""Incidents: /status, the lifecycle commands and buttons, and /insiden with paging."""

from __future__ import annotations

import dataclasses

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.domain import access
from bot.services import export
from bot.services import incidents as lifecycle
from bot.services import reporting
from bot.domain.access import Action, Grant
from bot.context import NOTIFIER_KEY, KpuContext
from bot.services.incidents import Move, MoveResult, Why
from bot.telegram.outbox import CALLBACK_VERSION, region_titles
from bot.domain.privacy import mask_niks
from bot.texts import common as tc
from bot.texts import export as texts_export
from bot.texts import incidents as ti
from bot.texts.common import esc
from bot.texts.formatting import number
from bot.telegram.replies import edit, reply, send_document
from storage import incidents as incident_store
from storage import regions as region_store
from storage import users as user_store


def _incident_id(args: list[str]) -> int | None:
    if len(args) != 1:
        return None
    token = args[0].lstrip("#")
    return int(token) if token.isdigit() and len(token) < 12 else None


async def status(update: Update, context: KpuContext) -> None:
    incident_id = _incident_id(context.args)
    if incident_id is None:
        await reply(update, ti.STATUS_USAGE)
        return
    db = context.rt.db
    incident = await incident_store.get(db, incident_id)
    if incident is None:
        await reply(update, ti.status_not_found(incident_id))
        return
    decision = access.decide(context.actor, Action.LIHAT, incident.region_code, owner_id=incident.reporter_id)
    if not decision:
        await reply(update, tc.refusal(decision.reason))
        return
    reporter = await user_store.get(db, incident.reporter_id)
    # shown unmasked only in the reporter's own chat, so what others wrote is masked for them too
    events = [e if e.actor_id == incident.reporter_id else dataclasses.replace(e, note=mask_niks(e.note))
              for e in await incident_store.events(db, incident.id)]
    parts = ti.status_messages(
        incident, reporting.report_of(incident), await region_store.path(db, incident.region_code),
        reporter.full_name if reporter else str(incident.reporter_id),
        events, await incident_store.attachments(db, incident.id), context.rt.settings.tz,
        await region_titles(context.rt, events),
    )
    for part in parts:
        await reply(update, part, owner_id=incident.reporter_id)


# --- lifecycle: /tangani, /eskalasi, /selesai, /catatan and the buttons --------------------------


def _move_answer(move: Move, result: MoveResult, incident_id: int, who: str | None, to_title: str | None,
                 note: str, *, plain: bool) -> str:
    """The answer to a lifecycle command (HTML) or button (`plain`: an alert is not parsed)."""
    quote = (lambda text: text) if plain else esc
    if result.ok:
        text = ti.MOVE_DONE[move.value].format(id=incident_id, to=quote(to_title or ""))
        if move is Move.ESKALASI and not result.to_group:
            text += ti.ESCALATED_NO_GROUP
        return text
    if result.why in ti.MOVE_REFUSED:
        return ti.MOVE_REFUSED[result.why].format(id=incident_id, who=quote(who or "orang lain"),
                                                  length=number(len(note.strip())),
                                                  limit=number(lifecycle.NOTE_LIMIT))
    return tc.refusal(result.why)


async def _perform(context: KpuContext, incident_id: int, move: Move, note: str, *,
                   plain: bool = False) -> tuple[MoveResult, str]:
    rt = context.rt
    result = await lifecycle.perform(rt, context.actor, incident_id, move, note)
    who = None
    if result.why == Why.ALREADY_TAKEN and result.incident and result.incident.assignee_id:
        assignee = await user_store.get(rt.db, result.incident.assignee_id)
        who = assignee.full_name if assignee else None
    to_title = None
    if result.ok and result.to_region:
        # name the level whose group received it (it may be above the parent), else the parent
        region = await region_store.get(rt.db, result.to_group_region or result.to_region)
        to_title = region.title if region else result.to_region
    if result.ok:
        context.application.bot_data[NOTIFIER_KEY].kick()
    return result, _move_answer(move, result, incident_id, who, to_title, note, plain=plain)


def _lifecycle_command(move: Move):
    async def command(update: Update, context: KpuContext) -> None:
        parts = (update.effective_message.text or "").split(maxsplit=2)
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

BUTTON_MOVES = {"t": Move.TANGANI, "e": Move.ESKALASI, "s": Move.SELESAI}


async def incident_button(update: Update, context: KpuContext) -> None:
    """A press on Tangani / Eskalasi / Selesai under a group post: the same checks as the commands;
    a refusal is an alert and changes nothing."""
    query = update.callback_query
    parts = (query.data or "").split(":")
    if len(parts) != 3 or parts[0] != CALLBACK_VERSION or parts[1] not in BUTTON_MOVES or not parts[2].isdigit():
        await query.answer(ti.BUTTON_OUTDATED, show_alert=True)
        return
    result, text = await _perform(context, int(parts[2]), BUTTON_MOVES[parts[1]], "", plain=True)
    await query.answer(ti.alert(text), show_alert=not result.ok)


# --- /insiden ------------------------------------------------------------------------------------

PAGE_SIZE = 10
LIST_CB = "il2"  # il2:<requester id>:<kind or *>:<o|a>:<page> (well under 64 bytes)
KINDS = ("logistik", "data", "rekap", "insiden")


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
    rt, actor = context.rt, context.actor
    decision = access.decide(actor, Action.DAFTAR)
    if not decision:
        return tc.refusal(decision.reason), None
    own_only = access.grant_for(actor.role, Action.DAFTAR) is Grant.OWN
    scope = "ID" if access.grant_for(actor.role, Action.DAFTAR) is Grant.ALL else actor.region_code
    offset = (page - 1) * PAGE_SIZE
    # open ones of every kind are what needs handling: routine progress reports are left out
    without_progress = open_only and kind is None
    items, total = await incident_store.list_in_scope(
        rt.db, scope=scope, reporter_id=actor.telegram_id if own_only else None, kind=kind, open_only=open_only,
        offset=offset, limit=PAGE_SIZE, without_progress=without_progress)
    pages = max(1, -(-total // PAGE_SIZE))
    named = []
    for incident in items:
        region = await region_store.get(rt.db, incident.region_code)
        named.append((incident, region.name if region else incident.region_code))
    text = ti.incident_list(named, page, pages, total, kind, open_only, rt.settings.tz, without_progress)
    nav = []
    state = f"{user_id}:{kind or '*'}:{'o' if open_only else 'a'}"
    if page > 1:
        nav.append(InlineKeyboardButton(ti.PAGE_PREV, callback_data=f"{LIST_CB}:{state}:{page - 1}"))
    if page < pages:
        nav.append(InlineKeyboardButton(ti.PAGE_NEXT, callback_data=f"{LIST_CB}:{state}:{page + 1}"))
    return text, InlineKeyboardMarkup([nav]) if nav else None


async def insiden(update: Update, context: KpuContext) -> None:
    parsed = _list_args(context.args)
    if parsed is None:
        await reply(update, ti.INSIDEN_USAGE)
        return
    text, markup = await _render_list(context, update.effective_user.id, *parsed, page=1)
    await reply(update, text, markup=markup)


def _page_data(data: str) -> tuple[int, str | None, bool, int] | None:
    """il2:<requester>:<kind or *>:<o|a>:<page> → (requester, kind, open_only, page); None if not."""
    parts = data.split(":")
    if len(parts) != 5 or parts[0] != LIST_CB or not parts[1].isdigit() or not parts[4].isdigit():
        return None
    if (parts[2] != "*" and parts[2] not in KINDS) or parts[3] not in ("o", "a") or int(parts[4]) < 1:
        return None
    return int(parts[1]), None if parts[2] == "*" else parts[2], parts[3] == "o", int(parts[4])


async def insiden_page(update: Update, context: KpuContext) -> None:
    """◀ ▶ under a /insiden list: only who asked for the list may turn its pages (in a group the
    list shows the requester's scope)."""
    query = update.callback_query
    parsed = _page_data(query.data or "")
    if parsed is None:
        await query.answer(ti.BUTTON_OUTDATED, show_alert=True)
        return
    requester, kind, open_only, page = parsed
    if requester != update.effective_user.id:
        await query.answer(ti.LIST_NOT_YOURS, show_alert=True)
        return
    text, markup = await _render_list(context, requester, kind, open_only, page)
    await query.answer()
    await edit(query.message, text, markup=markup)


# --- /ekspor -------------------------------------------------------------------------------------


async def ekspor(update: Update, context: KpuContext) -> None:
    """The incidents of the user's scope as CSV (NIKs masked), sent as a document."""
    if len(context.args) > 1 or (context.args and not context.args[0].isdigit()):
        await reply(update, ti.EKSPOR_USAGE)
        return
    days = int(context.args[0]) if context.args else 7
    if not 1 <= days <= export.MAX_DAYS:
        await reply(update, ti.EKSPOR_USAGE)
        return
    actor, rt = context.actor, context.rt
    decision = access.decide(actor, Action.EKSPOR, actor.region_code)
    if not decision:
        await reply(update, tc.refusal(decision.reason))
        return
    scope = "ID" if access.grant_for(actor.role, Action.EKSPOR) is Grant.ALL else actor.region_code
    now = rt.clock()
    rows = await export.export_rows(rt, scope, days, now)
    data, count = texts_export.to_csv(rows, rt.settings.tz), len(rows)
    path_text = tc.region_path(await region_store.path(rt.db, actor.region_code))
    name = texts_export.file_name(actor.region_code, now.astimezone(rt.settings.tz))
    await send_document(update, data, name, ti.ekspor_caption(count, days, path_text))
