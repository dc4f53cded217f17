"""Registration through invite links, strangers, roles in /bantuan, /wilayah, revocation, restarts."""

import pytest

import bot.texts.commands
import bot.texts.common
import bot.texts.incidents
from bot.domain.access import Reason
from bot.domain.models import Role
from storage import users as user_store
from tests.conftest import audit_rows
from tests.e2e.conftest import shown

KUTA = "Bali › Badung › Kuta"  # the path of 51.03.01 as the greetings show it


def help_title(role: Role) -> str:
    """The first line of /bantuan for `role`."""
    return shown(bot.texts.common.help_text(role, []))


async def test_admin_invites_and_officer_registers(kpu):
    emu = kpu.emu
    answer = await kpu.say(kpu.admin, "/undang petugas 51.03.01")
    assert "https://t.me/kpu_koordinasi_bot?start=" in answer.text
    code = answer.text.split("?start=")[1].split()[0]
    wayan = emu.user(100, "Wayan", username="wayan_ppk")
    await wayan.start(kpu.bot, code)
    greeting = await kpu.next(wayan)
    assert greeting.text == shown(bot.texts.common.greeting_registered("Wayan", Role.PETUGAS, KUTA))
    # the same link a second time, by someone else: refused
    ketut = emu.user(101, "Ketut")
    await ketut.start(kpu.bot, code)
    assert (await kpu.next(ketut)).text == shown(bot.texts.common.INVITE_USED)
    actions = [row["action"] for row in await audit_rows(kpu.rt.db)]
    assert "registrasi" in actions and "undang" in actions


async def test_an_edited_command_changes_nothing_and_gets_no_reply(kpu):
    emu, db = kpu.emu, kpu.rt.db
    wayan = await kpu.person("wayan")
    stranger = emu.user(666, "Orang Asing")
    undang = await kpu.admin.send(kpu.bot, "/undang petugas 51.03.01")
    assert "?start=" in (await kpu.next(kpu.admin)).text
    lapor = await wayan.send(kpu.bot, "/lapor insiden sedang genset belum datang")
    incident_id = bot.texts.incidents.receipt_incident_id((await kpu.next(wayan)).text)
    assert incident_id is not None
    halo = await stranger.send(kpu.bot, "halo")
    assert (await kpu.next(stranger)).text == shown(bot.texts.common.NOT_REGISTERED)
    before = [(await db.fetchone(f"SELECT count(*) FROM {table}"))[0] for table in ("invites", "incidents", "users")]
    await kpu.admin.edit(undang, "/undang petugas 51.03.02")
    await wayan.edit(lapor, "/lapor insiden kritis genset belum datang")
    await stranger.edit(halo, "/lapor insiden kritis ada yang aneh")
    # updates of a chat are handled in order: each next answer is the one to /bantuan, not to the edit
    assert (await kpu.say(kpu.admin, "/bantuan")).text.startswith(help_title(Role.ADMIN))
    # the officer who edited a report is told it changed nothing (and how to correct it)
    notice = await kpu.next(wayan)
    assert notice.text == shown(bot.texts.common.edited_report(incident_id))
    assert (await kpu.say(wayan, "/bantuan")).text.startswith(help_title(Role.PETUGAS))
    assert (await kpu.say(stranger, "/bantuan")).text == shown(bot.texts.common.NOT_REGISTERED)
    assert len(emu.bot_messages(kpu.dm(stranger))) == 2  # "halo" and "/bantuan", nothing for the edit
    after = [(await db.fetchone(f"SELECT count(*) FROM {table}"))[0] for table in ("invites", "incidents", "users")]
    assert after == before


async def test_a_registered_user_opening_an_invite_is_refused_and_the_invite_stays_unused(kpu):
    code = await kpu.invite_link("petugas", "51.03.01")
    await kpu.admin.start(kpu.bot, code)  # the bootstrap admin opens a petugas link
    answer = await kpu.next(kpu.admin)
    assert answer.text == shown(bot.texts.common.invite_not_for_registered(Role.ADMIN, "Bali"))
    admin = await user_store.get(kpu.rt.db, kpu.admin.id)
    assert (admin.role.value, admin.region_code, admin.active) == ("admin", "51", True)
    assert (await kpu.rt.db.fetchone("SELECT used_by FROM invites"))["used_by"] is None
    wayan = kpu.emu.user(100, "Wayan")
    await wayan.start(kpu.bot, code)  # the person it was meant for can still use it
    assert (await kpu.next(wayan)).text == shown(bot.texts.common.greeting_registered("Wayan", Role.PETUGAS, KUTA))


async def test_expired_and_unknown_links(kpu, clock):
    code = await kpu.invite_link("petugas", "51.03.01")
    clock.advance(days=7, seconds=1)
    late = kpu.emu.user(102, "Late")
    await late.start(kpu.bot, code)
    assert (await kpu.next(late)).text == shown(bot.texts.common.INVITE_EXPIRED)
    await late.start(kpu.bot, "A" * 32)
    assert (await kpu.next(late)).text == shown(bot.texts.common.INVITE_UNKNOWN)


async def test_strangers_get_one_short_explanation_and_nothing_is_stored(kpu):
    stranger = kpu.emu.user(666, "Orang Asing")
    for text in ("/lapor insiden kritis gudang terbakar", "halo", "/start"):
        answer = await kpu.say(stranger, text)
        assert answer.text == shown(bot.texts.common.NOT_REGISTERED)
    rows = await kpu.rt.db.fetchone(
        "SELECT (SELECT count(*) FROM incidents) + (SELECT count(*) FROM users WHERE telegram_id = 666)"
    )
    assert rows[0] == 0


async def test_stranger_in_a_group(kpu):
    wayan = await kpu.person("wayan")
    stranger = kpu.emu.user(666, "Orang Asing")
    group = await kpu.group("PPK Kuta", wayan, stranger)
    answer = await kpu.say(stranger, "/lapor insiden kritis gudang terbakar", group)
    assert answer.text == shown(bot.texts.common.NOT_REGISTERED) and answer.reply_to_message_id is not None
    assert (await kpu.rt.db.fetchone("SELECT count(*) FROM incidents"))[0] == 0


@pytest.mark.parametrize(
    ("role", "present", "absent"),
    [
        ("petugas", ["/lapor", "/status"], ["/tangani", "/undang", "/grup"]),
        ("koordinator", ["/lapor", "/tangani", "/undang", "/insiden"], ["/grup", "/cabut"]),
        ("komisioner", ["/grup", "/cabut", "/undang"], []),
    ],
)
async def test_help_is_tailored_to_the_role(kpu, role, present, absent):
    user = await kpu.register(kpu.emu.user(200, "Made"), role, "51.03")
    answer = await kpu.say(user, "/bantuan")
    for command in present:
        assert command + " " in answer.text
    for command in absent:
        assert command + " " not in answer.text


@pytest.mark.parametrize(
    ("inviter_role", "command", "expected"),
    [
        ("koordinator", "/undang komisioner 51.03.01", bot.texts.common.REFUSAL[Reason.ROLE_TOO_HIGH]),
        ("koordinator", "/undang petugas 51.71.01", bot.texts.common.REFUSAL[Reason.SCOPE]),
        ("petugas", "/undang petugas 51.03.01", bot.texts.common.REFUSAL[Reason.ROLE]),
        ("komisioner", "/undang raja 51.03", bot.texts.common.undang_bad_role("raja")),
        ("komisioner", "/undang petugas 99.99", bot.texts.common.undang_bad_region("99.99")),
        ("komisioner", "/undang petugas", bot.texts.common.UNDANG_USAGE),
    ],
)
async def test_invite_refusals(kpu, inviter_role, command, expected):
    user = await kpu.register(kpu.emu.user(200, "Made"), inviter_role, "51.03")
    answer = await kpu.say(user, command)
    assert answer.text == shown(expected)
    invites = await kpu.rt.db.fetchone("SELECT count(*) FROM invites WHERE created_by = 200")
    assert invites[0] == 0


async def test_invites_only_in_private(kpu):
    made = await kpu.register(kpu.emu.user(200, "Made"), "komisioner", "51.03")
    group = await kpu.group("KPU Badung", made)
    answer = await kpu.say(made, "/undang petugas 51.03.01", group)
    assert answer.text == shown(bot.texts.common.UNDANG_PRIVATE_ONLY)


async def test_wilayah_finds_by_name_alias_and_code(kpu):
    wayan = await kpu.person("wayan")
    answer = await kpu.say(wayan, "/wilayah KUTA")
    assert "<code>51.03.01</code> Bali › Badung › Kuta" in answer.html
    answer = await kpu.say(wayan, "/wilayah salamadeg timur")
    assert "Selemadeg Timur" in answer.text and "Salamadeg Timur" in answer.text
    answer = await kpu.say(wayan, "/wilayah 5171")
    assert "Bali › Kota Denpasar" in answer.text
    answer = await kpu.say(wayan, "/wilayah <b>atlantis</b>")
    assert answer.text == shown(bot.texts.common.wilayah_none("<b>atlantis</b>"))  # shown as typed, escaped


async def test_revocation(kpu):
    made = await kpu.register(kpu.emu.user(300, "Made"), "komisioner", "51.03")
    wayan = await kpu.person("wayan")
    assert (await kpu.say(made, "/cabut 100")).text == shown(bot.texts.common.cabut_done("Wayan", 100))
    assert (await kpu.next(wayan)).text == shown(bot.texts.common.cabut_notice())  # he is told, once
    revoked = shown(bot.texts.common.REFUSAL[Reason.REVOKED])
    assert (await kpu.say(wayan, "/bantuan")).text == revoked  # the gate now refuses him
    assert (await kpu.say(wayan, "/start")).text == revoked  # not the stranger's explanation
    assert "cabut" in [row["action"] for row in await audit_rows(kpu.rt.db)]


async def test_registration_survives_a_restart(kpu):
    wayan = await kpu.person("wayan")
    await kpu.restart()
    answer = await kpu.say(wayan, "/start")
    assert answer.text == shown(bot.texts.common.greeting_again("Wayan", Role.PETUGAS, KUTA))


async def test_command_menu_is_published_in_indonesian(kpu):
    names = {c["command"]: c["description"] for c in kpu.bot.commands("all_private_chats")}
    assert {"lapor", "status", "bantuan", "wilayah"} <= set(names)
    assert names == dict(bot.texts.commands.private_menu(Role.PETUGAS))


async def test_a_failing_handler_answers_with_an_apology(kpu, monkeypatch):
    from bot.services import registration

    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(registration, "create_invite", broken)
    answer = await kpu.say(kpu.admin, "/undang petugas 51.03.01")
    assert answer.text == shown(bot.texts.common.ERROR_APOLOGY)  # not "database on fire"
    answer = await kpu.say(kpu.admin, "/start")  # the bot goes on
    assert answer.text == shown(bot.texts.common.greeting_again("Admin", Role.ADMIN, "Bali"))


async def test_revoking_someone_who_blocked_the_bot_still_works(kpu):
    made = await kpu.register(kpu.emu.user(300, "Made"), "komisioner", "51.03")
    wayan = await kpu.person("wayan")
    wayan.block(kpu.bot)
    assert (await kpu.say(made, "/cabut 100")).text == shown(bot.texts.common.cabut_done("Wayan", 100))
    assert not (await user_store.get(kpu.rt.db, 100)).active
    # no apology followed the failed notice: the next answer is the one to /bantuan
    assert (await kpu.say(made, "/bantuan")).text.startswith(help_title(Role.KOMISIONER))


async def test_a_bootstrap_admin_cannot_be_revoked_in_chat_and_is_told_how(kpu):
    other = await kpu.register(kpu.emu.user(2, "Admin Dua"), "admin", "51")
    answer = await kpu.say(other, f"/cabut {kpu.admin.id}")
    assert answer.text == shown(bot.texts.common.CABUT_BOOTSTRAP)
    assert (await user_store.get(kpu.rt.db, kpu.admin.id)).active
