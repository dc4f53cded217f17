"""/undang (invite links) and /cabut (revocation)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ChatType

from bot import registration
from bot.app import KpuContext
from bot.registration import InviteCreated
from bot.texts import common as t
from storage import regions as region_store


async def undang(update: Update, context: KpuContext) -> None:
    msg = update.effective_message
    if update.effective_chat.type != ChatType.PRIVATE:
        await msg.reply_text(t.UNDANG_PRIVATE_ONLY)
        return
    if len(context.args) != 2:
        await msg.reply_text(t.UNDANG_USAGE)
        return
    rt = context.rt
    result = await registration.create_invite(rt, context.actor, context.args[0], context.args[1])
    if isinstance(result, InviteCreated):
        path = t.region_path(await region_store.path(rt.db, result.region.code))
        await msg.reply_text(t.invite_created(result.role, path, result.link,
                                              result.expires_at.astimezone(rt.settings.tz)))
    elif result.reason == "bad_role":
        await msg.reply_text(t.undang_bad_role(result.detail))
    elif result.reason == "bad_region":
        await msg.reply_text(t.undang_bad_region(result.detail))
    else:
        await msg.reply_text(t.refusal(result.reason))


async def cabut(update: Update, context: KpuContext) -> None:
    msg = update.effective_message
    if len(context.args) != 1 or not context.args[0].isdigit():
        await msg.reply_text(t.CABUT_USAGE)
        return
    result = await registration.revoke(context.rt, context.actor, int(context.args[0]))
    if result.ok:
        await msg.reply_text(t.cabut_done(result.target.full_name, result.target.telegram_id))
        return
    await msg.reply_text({
        "unknown_user": t.CABUT_UNKNOWN,
        "self": t.CABUT_SELF,
        "bootstrap_admin": t.CABUT_BOOTSTRAP,
    }.get(result.reason) or t.refusal(result.reason))
