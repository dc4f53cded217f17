"""The full role × action × in/out-of-scope matrix, written out by hand from spec.md."""

from datetime import UTC, datetime

import pytest

from bot.domain.access import RULES, Action, Reason, decide
from bot.domain.models import Role, User

NOW = datetime(2024, 2, 1, tzinfo=UTC)
KUTA, BADUNG, BALI, DENPASAR_BARAT = "51.03.01", "51.03", "51", "51.71.03"


def user(role: Role, region: str, uid: int = 7, revoked: bool = False) -> User:
    return User(uid, role, region, "Wayan", None, NOW, NOW if revoked else None)


# expected[action][role] = (own report in scope, other's report in scope, outside scope)
Y, NO = True, False
EXPECTED = {
    Action.LAPOR: {"petugas": (Y, Y, NO), "koordinator": (Y, Y, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.LIHAT: {"petugas": (Y, NO, NO), "koordinator": (Y, Y, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.DAFTAR: {"petugas": (Y, NO, NO), "koordinator": (Y, Y, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.CATATAN: {"petugas": (Y, NO, NO), "koordinator": (Y, Y, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.ESKALASI: {"petugas": (Y, NO, NO), "koordinator": (Y, Y, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.TANGANI: {"petugas": (NO, NO, NO), "koordinator": (Y, Y, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.SELESAI: {"petugas": (NO, NO, NO), "koordinator": (Y, Y, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.TOLAK: {"petugas": (NO, NO, NO), "koordinator": (Y, Y, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.BUKA: {"petugas": (NO, NO, NO), "koordinator": (Y, Y, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.EKSPOR: {"petugas": (NO, NO, NO), "koordinator": (Y, Y, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.UNDANG: {"petugas": (NO, NO, NO), "koordinator": (Y, Y, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.CABUT: {"petugas": (NO, NO, NO), "koordinator": (NO, NO, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.GRUP: {"petugas": (NO, NO, NO), "koordinator": (NO, NO, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.JADWAL_GRUP: {
        "petugas": (NO, NO, NO),
        "koordinator": (NO, NO, NO),
        "komisioner": (Y, Y, NO),
        "admin": (Y, Y, Y),
    },
    Action.JADWAL_PRIBADI: {
        "petugas": (NO, NO, NO),
        "koordinator": (Y, Y, NO),
        "komisioner": (Y, Y, NO),
        "admin": (Y, Y, Y),
    },
    Action.IMPOR: {"petugas": (NO, NO, NO), "koordinator": (NO, NO, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.SIARAN: {"petugas": (NO, NO, NO), "koordinator": (NO, NO, NO), "komisioner": (Y, Y, NO), "admin": (Y, Y, Y)},
    Action.RINGKASAN: {  # a petugas: a digest of their own region (spec: "for every role")
        "petugas": (Y, Y, NO),
        "koordinator": (Y, Y, NO),
        "komisioner": (Y, Y, NO),
        "admin": (Y, Y, Y),
    },
}


def test_every_action_is_in_the_expected_table():
    assert set(EXPECTED) == set(RULES) == set(Action)


CASES = [(action, role, column) for action in Action for role in Role for column in range(3)]


@pytest.mark.parametrize(("action", "role", "column"), CASES)
def test_matrix(action, role, column):
    # the user's region: Badung for everyone but admin, who sits at the root (Bali)
    actor = user(role, BALI if role is Role.ADMIN else BADUNG)
    region, owner = [(KUTA, actor.telegram_id), (KUTA, 999), (DENPASAR_BARAT, 999)][column]
    if role is Role.ADMIN and column == 2:
        region = "52.01.01"  # outside even the deployment's root: admin is everything, everywhere
    decision = decide(actor, action, region, owner_id=owner)
    assert decision.allowed is EXPECTED[action][role.value][column]
    if not decision.allowed:
        assert decision.reason in {Reason.ROLE, Reason.SCOPE, Reason.NOT_OWN}


def test_refusal_reasons_are_specific():
    petugas = user(Role.PETUGAS, KUTA)
    assert decide(petugas, Action.TANGANI, KUTA).reason is Reason.ROLE
    assert decide(petugas, Action.LAPOR, DENPASAR_BARAT).reason is Reason.SCOPE
    assert decide(petugas, Action.LIHAT, KUTA, owner_id=999).reason is Reason.NOT_OWN
    assert decide(None, Action.LAPOR, KUTA).reason is Reason.NOT_REGISTERED
    assert decide(user(Role.ADMIN, BALI, revoked=True), Action.LAPOR, KUTA).reason is Reason.REVOKED


def test_scope_is_a_subtree_not_a_prefix_of_digits():
    # 51.03 must not contain 51.031 style codes nor 51.0: codes are compared per level
    koor = user(Role.KOORDINATOR, "51.03")
    assert decide(koor, Action.LIHAT, "51.03.05")
    assert not decide(koor, Action.LIHAT, "51.04.01")
    assert not decide(koor, Action.LIHAT, "51")


@pytest.mark.parametrize(
    ("role", "target", "allowed"),
    [
        (Role.PETUGAS, Role.PETUGAS, False),
        (Role.KOORDINATOR, Role.PETUGAS, True),
        (Role.KOORDINATOR, Role.KOORDINATOR, False),
        (Role.KOMISIONER, Role.KOORDINATOR, True),
        (Role.KOMISIONER, Role.PETUGAS, True),
        (Role.KOMISIONER, Role.KOMISIONER, False),
        (Role.KOMISIONER, Role.ADMIN, False),
        (Role.ADMIN, Role.ADMIN, True),
        (Role.ADMIN, Role.KOMISIONER, True),
    ],
)
def test_who_may_invite_whom(role, target, allowed):
    decision = decide(user(role, BADUNG), Action.UNDANG, KUTA, target_role=target)
    assert decision.allowed is allowed
    if not allowed and role is not Role.PETUGAS:
        assert decision.reason is Reason.ROLE_TOO_HIGH
