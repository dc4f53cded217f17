"""Authorization under attack: forged buttons, presses from outside the region, strangers and
revoked users in a group, two people racing for one invite, an invite above one's role, a group
taken over from a region outside one's scope. Each changes nothing and leaves a refusal in the
audit trail; every press is answered, whatever its data."""

from __future__ import annotations

import asyncio
import json

import pytest

import bot.texts.common
import bot.texts.incidents
from bot.domain.access import Reason
from bot.services import registration
from storage import users as user_store
from tests.e2e.conftest import shown


async def refusals(kpu) -> list[tuple[int | None, str, str, str]]:
    """The audit trail's refusals: (who, target, what was tried, why)."""
    rows = await kpu.rt.db.fetchall(
        "SELECT actor_id, target, detail FROM audit_log WHERE action = 'ditolak' ORDER BY id"
    )
    return [
        (r["actor_id"], r["target"], json.loads(r["detail"])["aksi"], json.loads(r["detail"])["alasan"]) for r in rows
    ]


async def snapshot(kpu) -> tuple:
    """Everything a press or command could change: incidents, their history, the outbox, users,
    invites, groups."""
    db = kpu.rt.db
    tables = {
        "incidents": "SELECT id, status, assignee_id, handling_region, escalations FROM incidents ORDER BY id",
        "events": "SELECT id FROM incident_events ORDER BY id",
        "outbox": "SELECT id FROM outbox ORDER BY id",
        "users": "SELECT telegram_id, role, region_code, revoked_at FROM users ORDER BY telegram_id",
        "invites": "SELECT code_hash, used_by FROM invites ORDER BY code_hash",
        "groups": "SELECT chat_id, region_code FROM groups ORDER BY chat_id",
    }
    state = []
    for sql in tables.values():
        state.append(tuple(tuple(r) for r in await db.fetchall(sql)))
    return tuple(state)


@pytest.fixture
async def scene(kpu):
    """Badung's coordination group with a kritis report of Wayan posted in it; Ketut and Gede
    (Kota Denpasar) are members too, and a stranger who never registered."""
    people = {name: await kpu.person(name) for name in ("wayan", "made", "komang", "ketut", "gede")}
    stranger = kpu.emu.user(900, "Orang Asing")
    badung = await kpu.coordination_group(
        "KPU Badung",
        "51.03",
        people["komang"],
        people["made"],
        people["wayan"],
        people["ketut"],
        people["gede"],
        stranger,
    )
    receipt = await kpu.say(people["wayan"], "/lapor insiden kritis gudang logistik terbakar")
    incident_id = bot.texts.incidents.receipt_incident_id(receipt.text)
    post = await kpu.next(badung)
    assert f"#{incident_id} " in post.text
    await kpu.settled(people["made"])
    return {**people, "stranger": stranger, "badung": badung, "post": post, "incident": incident_id}


async def test_a_forged_button_for_another_incident_changes_nothing(kpu, scene):
    """Made (Badung) forges a Tangani for an incident of Kota Denpasar on Badung's post."""
    denpasar = await kpu.say(scene["ketut"], "/lapor @51.71.01 insiden tinggi atap kantor bocor")
    other = bot.texts.incidents.receipt_incident_id(denpasar.text)
    await kpu.settled(scene["made"])
    before = await snapshot(kpu)
    press = await scene["made"].press(scene["post"], f"i1:t:{other}", forged=True)
    answer = await press.answer()
    assert answer.show_alert and answer.text == shown(bot.texts.common.refusal(Reason.SCOPE))
    missing = await scene["made"].press(scene["post"], "i1:t:999999", forged=True)
    assert (await missing.answer()).show_alert
    await kpu.settled(scene["made"])
    assert await snapshot(kpu) == before
    assert await refusals(kpu) == [
        (200, f"insiden {other}", "tangani", "scope"),
        (200, "", "tombol i1:t:999999", "not_found"),
    ]


async def test_a_forged_action_changes_nothing(kpu, scene):
    """Wayan, a petugas, forges Selesai (not on his post for him) and an action that does not exist."""
    before = await snapshot(kpu)
    resolve = await scene["wayan"].press(scene["post"], f"i1:s:{scene['incident']}", forged=True)
    assert (await resolve.answer()).text == shown(bot.texts.common.refusal(Reason.ROLE))
    unknown = await scene["wayan"].press(scene["post"], f"i1:x:{scene['incident']}", forged=True)
    assert (await unknown.answer()).text == shown(bot.texts.incidents.BUTTON_OUTDATED)
    await kpu.settled(scene["made"])
    assert await snapshot(kpu) == before
    assert await refusals(kpu) == [
        (100, f"insiden {scene['incident']}", "selesai", "role"),
        (100, "", f"tombol i1:x:{scene['incident']}", "unknown_button"),
    ]


async def test_a_forged_page_button_cannot_rewrite_a_post(kpu, scene):
    """The /insiden list's ◀ ▶ data, forged by its own "requester" on an incident post: the post
    is not turned into a list (the press is refused and audited)."""
    before = await snapshot(kpu)
    press = await scene["made"].press(scene["post"], "il2:200:*:o:1", forged=True)
    assert (await press.answer()).text == shown(bot.texts.incidents.BUTTON_OUTDATED)
    await kpu.settled(scene["made"])
    [post] = [m for m in kpu.emu.messages(scene["badung"]) if m.message_id == scene["post"].message_id]
    assert post.text == scene["post"].text
    assert await snapshot(kpu) == before
    assert await refusals(kpu) == [(200, "", "tombol il2:200:*:o:1", "unknown_button")]


async def test_a_press_from_another_region_changes_nothing(kpu, scene):
    before = await snapshot(kpu)
    press = await scene["ketut"].press(scene["post"], f"i1:t:{scene['incident']}")
    assert (await press.answer()).text == shown(bot.texts.common.refusal(Reason.SCOPE))
    await kpu.settled(scene["made"])
    assert await snapshot(kpu) == before
    assert await refusals(kpu) == [(201, f"insiden {scene['incident']}", "tangani", "scope")]


async def test_presses_by_a_stranger_and_a_revoked_user_change_nothing(kpu, scene):
    assert (await registration.revoke(kpu.rt, await user_store.get(kpu.rt.db, 1), 201)).ok  # Ketut revoked
    before = await snapshot(kpu)
    stranger = await scene["stranger"].press(scene["post"], f"i1:t:{scene['incident']}")
    assert (await stranger.answer()).text == shown(bot.texts.common.refusal("not_registered"))
    revoked = await scene["ketut"].press(scene["post"], f"i1:s:{scene['incident']}")
    assert (await revoked.answer()).text == shown(bot.texts.common.refusal("revoked"))
    await kpu.settled(scene["made"])
    assert await snapshot(kpu) == before
    chat = f"chat {scene['badung'].id}"
    assert await refusals(kpu) == [
        (900, chat, f"tombol i1:t:{scene['incident']}", "not_registered"),
        (201, chat, f"tombol i1:s:{scene['incident']}", "revoked"),
    ]


async def test_every_press_is_answered_whatever_its_data(kpu, scene):
    before = await snapshot(kpu)
    for data in ("zzz", "", "i1", "i1:t:", "il2:x", "lp1:ok", "i9:t:1", "i1:t:1:2", "\u202e" * 10):
        press = await scene["made"].press(scene["post"], data, forged=True)
        answer = await press.answer()
        assert answer.text, data
    await kpu.settled(scene["made"])
    assert await snapshot(kpu) == before


async def test_two_people_racing_for_one_invite(kpu, scene):
    code = await kpu.invite_link("petugas", "51.03.01")
    first, second = kpu.emu.user(501, "Satu"), kpu.emu.user(502, "Dua")
    await asyncio.gather(first.start(kpu.bot, code), second.start(kpu.bot, code))
    answers = [await kpu.next(first), await kpu.next(second)]
    welcomed = [a for a in answers if "Selamat datang" in a.text]
    assert len(welcomed) == 1
    users = await kpu.rt.db.fetchall("SELECT telegram_id FROM users WHERE telegram_id IN (501, 502)")
    assert len(users) == 1
    loser = 502 if users[0][0] == 501 else 501
    assert (loser, "undangan petugas 51.03.01", "registrasi", "used") in await refusals(kpu)


async def test_inviting_above_ones_role_changes_nothing(kpu, scene):
    before = await snapshot(kpu)
    answer = await kpu.say(scene["made"], "/undang komisioner 51.03")
    assert answer.text == shown(bot.texts.common.refusal(Reason.ROLE_TOO_HIGH))
    assert await snapshot(kpu) == before
    assert await refusals(kpu) == [(200, "51.03", "undang komisioner", "role_too_high")]


async def test_a_group_cannot_be_taken_from_a_region_outside_ones_scope(kpu, scene):
    """Gede, komisioner of Kota Denpasar, types /grup 51.71.01 in Badung's group: refused, the
    group stays Badung's."""
    before = await snapshot(kpu)
    answer = await kpu.say(scene["gede"], "/grup 51.71.01", scene["badung"])
    assert answer.text == shown(bot.texts.common.refusal(Reason.SCOPE))
    assert await snapshot(kpu) == before
    assert await refusals(kpu) == [(301, f"chat {scene['badung'].id}", "grup 51.71.01", "scope")]
    # Komang, Badung's own komisioner, may move it within Badung
    moved = await kpu.say(scene["komang"], "/grup 51.03.01", scene["badung"])
    assert moved.text.startswith("✅")
