"""/undang (invite links), /cabut (revocation) and /impor (baselines sent as a CSV in the chat)."""

from __future__ import annotations

import logging
from typing import cast

from telegram import Document, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.context import KpuContext
from bot.domain import access
from bot.domain.access import Action
from bot.domain.models import User
from bot.domain.privacy import for_chat
from bot.services import baselines, regions, registration
from bot.services.registration import InviteCreated
from bot.telegram import digests as digest_delivery
from bot.telegram import menus
from bot.telegram.replies import reply, send, send_document
from bot.telegram.updates import actor_of, args_of, chat_of, job_queue_of, message_of, whole_number
from bot.texts import baselines as tb
from bot.texts import common as t
from bot.texts.digest import split_messages

MAX_CSV_BYTES = 10 * 1024 * 1024
log = logging.getLogger(__name__)


async def undang(update: Update, context: KpuContext) -> None:
    if chat_of(update).type != ChatType.PRIVATE:
        await reply(update, t.UNDANG_PRIVATE_ONLY)
        return
    args = args_of(context)
    if len(args) != 2:
        await reply(update, t.UNDANG_USAGE)
        return
    rt = context.rt
    result = await registration.create_invite(rt, actor_of(context), args[0], args[1])
    if isinstance(result, InviteCreated):
        path = t.region_path(await regions.path(rt, result.region.code))
        await reply(
            update, t.invite_created(result.role, path, result.link, result.expires_at.astimezone(rt.settings.tz))
        )
    elif result.reason == "bad_role":
        await reply(update, t.undang_bad_role(result.detail))
    elif result.reason == "bad_region":
        await reply(update, t.undang_bad_region(result.detail))
    else:
        await reply(update, t.refusal(result.reason))


async def cabut(update: Update, context: KpuContext) -> None:
    args = args_of(context)
    target_id = whole_number(args[0]) if len(args) == 1 else None
    if target_id is None:
        await reply(update, t.CABUT_USAGE)
        return
    result = await registration.revoke(context.rt, actor_of(context), target_id)
    if result.ok:
        # `RevokeResult.target` is optional for the refusals; a revocation that succeeded has one
        target = cast(User, result.target)
        digest_delivery.remove_chat_jobs(job_queue_of(context), target.telegram_id)  # the rows went with it
        await menus.set_for_user(context.bot, target.telegram_id, None)  # back to the plain menu
        await reply(update, t.cabut_done(target.full_name, target.telegram_id))
        try:  # one private message to the revoked user; one who blocked the bot is simply not told
            await send(context.bot, target.telegram_id, t.cabut_notice())
        except TelegramError:
            log.info("could not tell user %s about the revocation", target.telegram_id)
        return
    await reply(
        update,
        {
            "unknown_user": t.CABUT_UNKNOWN,
            "self": t.CABUT_SELF,
            "bootstrap_admin": t.CABUT_BOOTSTRAP,
        }.get(result.reason)
        or t.refusal(result.reason),
    )


async def impor(update: Update, context: KpuContext) -> None:
    """/impor as a reply to an uploaded CSV: plan or TPS baseline, checked whole, all-or-nothing."""
    msg = message_of(update)
    document = msg.reply_to_message.document if msg.reply_to_message else None
    if document is None:
        await reply(update, tb.IMPOR_USAGE_HTML)
        return
    actor = actor_of(context)
    decision = access.decide(actor, Action.IMPOR, actor.region_code)
    if not decision:
        await reply(update, t.refusal(decision.reason))
        return
    if document.file_size and document.file_size > MAX_CSV_BYTES:
        await reply(update, tb.IMPOR_TOO_BIG_HTML.format(limit=MAX_CSV_BYTES // (1024 * 1024)))
        return
    within = access.scope_of(actor, Action.IMPOR)  # an admin's is the whole country: no restriction
    # downloading, checking and storing a big file take a while: in the background, so everyone
    # else's updates are handled meanwhile; a failure reaches the error handler through `update`
    context.application.create_task(
        _impor(update, context, document, within), update=update, name=f"impor:{chat_of(update).id}"
    )


async def _impor(update: Update, context: KpuContext, document: Document, within: str) -> None:
    data = bytes(await (await document.get_file()).download_as_bytearray())
    result = await baselines.import_baseline(
        context.rt, data, actor_of(context).telegram_id, source=document.file_name or "", within=within
    )
    await _impor_answer(update, result)


async def _impor_answer(update: Update, result: baselines.ImportResult) -> None:
    """The summary, and every bad line: in messages below Telegram's limit when they are few, else
    in a text file (a short summary as its caption), so a long list is never refused by Telegram."""
    summary = t.esc(tb.chat_summary(result))
    if result.ok:
        await reply(update, summary)
        return
    problems = tb.error_lines(result)
    if len(problems) <= tb.IMPOR_MAX_LINES_SHOWN:
        for part in split_messages(["\n".join([summary, *(t.esc(line) for line in problems)])]):
            await reply(update, part)
        return
    content = "\n".join([tb.chat_summary(result), *problems]) + "\n"
    owner = update.effective_user.id if update.effective_user else None
    await send_document(
        update,
        for_chat(content, chat_of(update).id, owner).encode("utf-8"),
        tb.IMPOR_ERRORS_FILE,
        tb.IMPOR_ERRORS_CAPTION_HTML.format(summary=summary),
    )
