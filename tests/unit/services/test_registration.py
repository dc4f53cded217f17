"""Invites: single use, 7-day expiry, never above one's role, audited."""

from urllib.parse import parse_qs, urlparse

import pytest

from bot.domain.models import Role
from bot.services import registration
from bot.services.registration import InviteCreated, InviteRefused
from storage import users as user_store
from storage.users import RedeemOutcome
from tests.conftest import audit_rows


def code_of(link: str) -> str:
    return parse_qs(urlparse(link).query)["start"][0]


async def admin(rt):
    return await user_store.get(rt.db, 1)


async def test_invite_link_shape_and_entropy(rt):
    created = await registration.create_invite(rt, await admin(rt), "petugas", "51.03.01")
    assert isinstance(created, InviteCreated)
    assert created.link.startswith("https://t.me/kpu_test_bot?start=")
    code = code_of(created.link)
    assert len(code) >= 22 and registration.looks_like_code(code)  # ≥128 bits in url-safe base64
    other = await registration.create_invite(rt, await admin(rt), "petugas", "51.03.01")
    assert code_of(other.link) != code
    stored = await rt.db.fetchall("SELECT code_hash FROM invites")
    assert all(code not in row["code_hash"] for row in stored)  # only hashes are kept


async def test_single_use(rt):
    created = await registration.create_invite(rt, await admin(rt), "koordinator", "51.03")
    first = await registration.redeem(rt, created.code, 500, "Made", "made")
    assert first.outcome is RedeemOutcome.REGISTERED and first.user.role is Role.KOORDINATOR
    second = await registration.redeem(rt, created.code, 501, "Ketut", None)
    assert second.outcome is RedeemOutcome.USED
    assert await user_store.get(rt.db, 501) is None


async def test_expires_after_seven_days(rt, clock):
    created = await registration.create_invite(rt, await admin(rt), "petugas", "51.03.01")
    clock.advance(days=7)
    assert (await registration.redeem(rt, created.code, 600, "Nyoman", None)).outcome is RedeemOutcome.EXPIRED
    fresh = await registration.create_invite(rt, await admin(rt), "petugas", "51.03.01")
    clock.advance(days=6, hours=23)
    assert (await registration.redeem(rt, fresh.code, 600, "Nyoman", None)).outcome is RedeemOutcome.REGISTERED


async def test_an_active_user_is_not_re_roled_by_an_invite(rt):
    created = await registration.create_invite(rt, await admin(rt), "petugas", "51.03.01")
    result = await registration.redeem(rt, created.code, 1, "Admin", None)  # the bootstrap admin
    assert result.outcome is RedeemOutcome.ALREADY_ACTIVE and result.previous.role is Role.ADMIN
    assert (await admin(rt)).role is Role.ADMIN
    assert (await registration.redeem(rt, created.code, 900, "Wayan", None)).outcome is RedeemOutcome.REGISTERED
    # a revoked user registers again
    await registration.revoke(rt, await admin(rt), 900)
    again = await registration.create_invite(rt, await admin(rt), "koordinator", "51.03")
    back = await registration.redeem(rt, again.code, 900, "Wayan", None)
    assert back.outcome is RedeemOutcome.REGISTERED and (await user_store.get(rt.db, 900)).active


async def test_unknown_code(rt):
    assert (await registration.redeem(rt, "x" * 32, 700, "A", None)).outcome is RedeemOutcome.UNKNOWN


@pytest.mark.parametrize(
    ("inviter_role", "inviter_region", "role", "region", "reason"),
    [
        ("koordinator", "51.03", "komisioner", "51.03.01", "role_too_high"),
        ("koordinator", "51.03", "admin", "51.03", "role_too_high"),
        ("koordinator", "51.03", "petugas", "51.71.01", "scope"),
        ("komisioner", "51.03", "komisioner", "51.03.01", "role_too_high"),
        ("petugas", "51.03.01", "petugas", "51.03.01", "role"),
        ("admin", "51", "raja", "51.03", "bad_role"),
        ("admin", "51", "petugas", "99.99.99", "bad_region"),
    ],
)
async def test_refusals(rt, inviter_role, inviter_region, role, region, reason):
    boss = await registration.create_invite(rt, await admin(rt), inviter_role, inviter_region)
    inviter = (await registration.redeem(rt, boss.code, 800, "Inviter", None)).user
    result = await registration.create_invite(rt, inviter, role, region)
    assert isinstance(result, InviteRefused) and result.reason == reason
    assert (await rt.db.fetchone("SELECT count(*) FROM invites"))[0] == 1  # only the inviter's own


async def test_registration_and_revocation_are_audited(rt):
    created = await registration.create_invite(rt, await admin(rt), "petugas", "51.03.01")
    await registration.redeem(rt, created.code, 900, "Wayan", "wayan")
    result = await registration.revoke(rt, await admin(rt), 900)
    assert result.ok
    assert not (await user_store.get(rt.db, 900)).active
    actions = [row["action"] for row in await audit_rows(rt.db)]
    assert actions[:3] == ["cabut", "registrasi", "undang"]


async def test_revoke_rules(rt):
    komisioner = (
        await registration.redeem(
            rt, (await registration.create_invite(rt, await admin(rt), "komisioner", "51.03")).code, 10, "K", None
        )
    ).user
    other_komisioner = (
        await registration.redeem(
            rt, (await registration.create_invite(rt, await admin(rt), "komisioner", "51.03")).code, 11, "L", None
        )
    ).user
    outside = (
        await registration.redeem(
            rt, (await registration.create_invite(rt, await admin(rt), "petugas", "51.71.01")).code, 12, "P", None
        )
    ).user
    assert (await registration.revoke(rt, komisioner, other_komisioner.telegram_id)).reason == "role_too_high"
    assert (await registration.revoke(rt, komisioner, outside.telegram_id)).reason == "scope"
    assert (await registration.revoke(rt, komisioner, komisioner.telegram_id)).reason == "self"
    assert (await registration.revoke(rt, await admin(rt), 1)).reason == "self"
    assert (await registration.revoke(rt, None, 1)).reason == "bootstrap_admin"


async def test_a_bootstrap_admin_is_revocable_once_removed_from_bot_admin_ids(rt):
    from dataclasses import replace

    second = (
        await registration.redeem(
            rt, (await registration.create_invite(rt, await admin(rt), "admin", "51")).code, 2, "Admin Dua", None
        )
    ).user
    assert (await registration.revoke(rt, second, 1)).reason == "bootstrap_admin"
    restarted = replace(rt, settings=rt.settings.model_copy(update={"BOT_ADMIN_IDS": []}))  # what CABUT_BOOTSTRAP says
    assert (await registration.revoke(restarted, second, 1)).ok
