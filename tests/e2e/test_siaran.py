"""/siaran: a komisioner's message to every active user in scope, privately, through the outbox at
Telegram's pace; the sender is told how many it reached and how many blocked the bot."""

from __future__ import annotations

import json
import time

import bot.texts.broadcasts as tb
from bot.domain.access import Reason
from bot.domain.models import Role
from bot.texts import commands
from bot.texts.common import refusal
from tests.e2e.conftest import shown

RECIPIENTS = 500
KECAMATAN = ("51.03.01", "51.03.02", "51.03.03", "51.03.04", "51.03.05", "51.03.06")


async def add_users(kpu, first_id: int, count: int, region_of) -> list:
    """`count` registered petugas who once opened a chat with the bot (stored as registration does)."""
    users = []
    rows = []
    for n in range(count):
        uid = first_id + n
        user = kpu.emu.user(uid, f"Petugas {n}")
        kpu.emu.world.private_chat(user.account, kpu.bot.account).started = True
        users.append(user)
        rows.append((uid, "petugas", region_of(n), f"Petugas {n}", "2024-02-01T00:00:00.000000+00:00"))
    async with kpu.rt.db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO users (telegram_id, role, region_code, full_name, registered_at) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
    return users


async def test_siaran_reaches_every_active_user_in_scope_within_telegrams_limits(kpu, people):
    komang = people["komang"]  # KPU Badung
    refused: list[str] = []
    check = kpu.emu.api.flood.check

    def counted_check(*args, **kwargs):
        try:
            return check(*args, **kwargs)
        except Exception as exc:
            refused.append(str(exc))
            raise

    kpu.emu.api.flood.check = counted_check
    kpu.emu.enforce_flood_limits = True
    # people of the fixture in Badung besides Komang: Wayan (Kuta) and Made (Badung)
    users = await add_users(kpu, 10_000, RECIPIENTS - 2, lambda n: KECAMATAN[n % len(KECAMATAN)])
    outside = await add_users(kpu, 20_000, 3, lambda n: "51.71.01")  # Denpasar: not in Komang's scope
    await kpu.rt.db.write("UPDATE users SET revoked_at = '2024-02-10T00:00:00.000000+00:00' WHERE telegram_id = 10001")
    users[2].block(kpu.bot)
    users[3].block(kpu.bot)

    text = "Rapat koordinasi logistik besok 09.00 WITA.\nMohon hadir tepat waktu <semua PPK>."
    started = time.monotonic()
    queued = await kpu.say(komang, f"/siaran {text}")
    assert queued.text == shown(tb.siaran_queued(RECIPIENTS - 1, "Bali › Badung"))  # one revoked
    done = await kpu.next(komang, timeout=60)
    seconds = time.monotonic() - started
    assert done.text == shown(tb.siaran_done(1, RECIPIENTS - 3, 2, 0))
    # Telegram's pace: 30 messages in any second; nothing refused with 429, nothing lost
    assert seconds >= (RECIPIENTS - 30) / 30 * 0.95 and refused == []
    expected = shown(tb.siaran_message(text, "Komang", "KPU Kabupaten Badung"))
    assert (await kpu.next(people["wayan"])).text == expected
    assert (await kpu.next(people["made"])).text == expected
    delivered = [u for u in users if [m.text for m in kpu.emu.bot_messages(kpu.dm(u))] == [expected]]
    assert len(delivered) == RECIPIENTS - 2 - 3  # revoked and the two who blocked the bot
    assert all(kpu.emu.bot_messages(kpu.dm(u)) == [] for u in outside)
    assert kpu.emu.bot_messages(kpu.dm(users[1])) == []
    audit = await kpu.rt.db.fetchone("SELECT actor_id, action, target, detail FROM audit_log WHERE action = 'siaran'")
    assert (audit["actor_id"], audit["target"]) == (komang.id, "51.03")
    assert json.loads(audit["detail"])["penerima"] == RECIPIENTS - 1


async def test_siaran_is_for_komisioner_and_admin_in_a_private_chat(kpu, people):
    assert "/siaran" in (await kpu.say(people["komang"], "/bantuan")).text
    assert "/siaran" not in (await kpu.say(people["made"], "/bantuan")).text
    assert "siaran" in dict(commands.private_menu(Role.KOMISIONER)) and "siaran" not in dict(commands.group_menu())
    assert "siaran" not in dict(commands.private_menu(Role.KOORDINATOR))
    assert (await kpu.say(people["made"], "/siaran halo")).text == refusal(Reason.ROLE)
    assert (await kpu.say(people["wayan"], "/siaran halo")).text == refusal(Reason.ROLE)
    assert (await kpu.say(people["komang"], "/siaran")).text == shown(tb.SIARAN_USAGE)
    assert (await kpu.say(people["komang"], "/siaran " + "x" * (tb.SIARAN_MAX + 1))).text == shown(tb.SIARAN_USAGE)
    group = await kpu.group("Grup Badung", people["komang"])
    assert (await kpu.say(people["komang"], "/siaran halo", group)).text == shown(tb.SIARAN_PRIVATE_ONLY)
    # the admin's scope is everywhere: everyone else registered hears it
    queued = await kpu.say(kpu.admin, "/siaran Uji siaran")
    assert queued.text == shown(tb.siaran_queued(len(people) - 1, tb.EVERYWHERE))
    assert (await kpu.next(kpu.admin)).text == shown(tb.siaran_done(1, len(people) - 1, 0, 0))
    assert (await kpu.next(people["gede"])).text == shown(tb.siaran_message("Uji siaran", "Admin", "KPU Provinsi Bali"))
