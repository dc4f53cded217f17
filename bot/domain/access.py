"""Who may do what: the role × action rule table, the one source every command and button uses.

A registered user has one role and one region; their scope is that region and everything under
it. Each cell of `RULES` says how far a role's right reaches for an action:

- `Grant.NONE`  — never;
- `Grant.OWN`   — only on incidents the user reported, inside their scope;
- `Grant.SCOPE` — on anything inside their scope;
- `Grant.ALL`   — everywhere (admin).

`decide()` returns a `Decision` whose `reason` names why a refusal happened; the texts module
turns that into the one-line answer the user sees. Deciding changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.domain.models import Role, User
from bot.domain.regions import NATIONAL, is_within


class Action(StrEnum):
    LAPOR = "lapor"  # report
    LIHAT = "lihat"  # see one incident (/status)
    DAFTAR = "daftar"  # list incidents (/insiden)
    CATATAN = "catatan"  # comment
    ESKALASI = "eskalasi"
    TANGANI = "tangani"  # take
    SELESAI = "selesai"  # resolve
    TOLAK = "tolak"  # reject a wrong report (misread, duplicate, test)
    BUKA = "buka"  # reopen a resolved or rejected incident
    EKSPOR = "ekspor"
    UNDANG = "undang"  # invite (which roles: INVITABLE)
    CABUT = "cabut"  # revoke a user
    GRUP = "grup"  # register a coordination group
    JADWAL_GRUP = "jadwal_grup"  # a coordination group's digest schedule
    JADWAL_PRIBADI = "jadwal_pribadi"  # one's own digest in a private chat
    IMPOR = "impor"  # baselines
    RINGKASAN = "ringkasan"  # digests on demand
    SIARAN = "siaran"  # broadcast to every active user in scope


class Grant(StrEnum):
    NONE = "none"
    OWN = "own"
    SCOPE = "scope"
    ALL = "all"


P, KO, KM, AD = Role.PETUGAS, Role.KOORDINATOR, Role.KOMISIONER, Role.ADMIN
N, O, S, A = Grant.NONE, Grant.OWN, Grant.SCOPE, Grant.ALL  # noqa: E741 (the table reads as a grid)

#: action → (petugas, koordinator, komisioner, admin), as in spec.md "Roles and scope".
RULES: dict[Action, dict[Role, Grant]] = {
    action: dict(zip((P, KO, KM, AD), grants, strict=True))
    for action, grants in {
        Action.LAPOR: (S, S, S, A),
        Action.LIHAT: (O, S, S, A),
        Action.DAFTAR: (O, S, S, A),
        Action.CATATAN: (O, S, S, A),
        Action.ESKALASI: (O, S, S, A),
        Action.TANGANI: (N, S, S, A),
        Action.SELESAI: (N, S, S, A),
        Action.TOLAK: (N, S, S, A),
        Action.BUKA: (N, S, S, A),
        Action.EKSPOR: (N, S, S, A),
        Action.UNDANG: (N, S, S, A),
        Action.CABUT: (N, N, S, A),
        Action.GRUP: (N, N, S, A),
        Action.JADWAL_GRUP: (N, N, S, A),
        Action.JADWAL_PRIBADI: (N, S, S, A),
        Action.IMPOR: (N, N, S, A),
        Action.RINGKASAN: (S, S, S, A),  # a petugas: their own region (a PPK's kecamatan)
        Action.SIARAN: (N, N, S, A),
    }.items()
}

#: Which roles each role may invite (and revoke): never above what spec.md allows.
INVITABLE: dict[Role, frozenset[Role]] = {
    P: frozenset(),
    KO: frozenset({P}),
    KM: frozenset({KO, P}),
    AD: frozenset({AD, KM, KO, P}),
}


class Reason(StrEnum):
    OK = "ok"
    NOT_REGISTERED = "not_registered"
    REVOKED = "revoked"
    ROLE = "role"  # the role never has this right
    SCOPE = "scope"  # the region lies outside the user's scope
    NOT_OWN = "not_own"  # the role has it only for its own reports
    ROLE_TOO_HIGH = "role_too_high"  # inviting or revoking a role above one's right


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: Reason

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True, Reason.OK)


def grant_for(role: Role, action: Action) -> Grant:
    return RULES[action][role]


def scope_of(user: User, action: Action) -> str:
    """The region `action` covers for `user` as a whole (listing, exporting, importing): the whole
    country (`NATIONAL`) for a role granted the action everywhere, else the user's own region."""
    return NATIONAL if grant_for(user.role, action) is Grant.ALL else user.region_code


def decide(
    user: User | None,
    action: Action,
    region_code: str | None = None,
    *,
    owner_id: int | None = None,
    target_role: Role | None = None,
) -> Decision:
    """May `user` do `action` on something in `region_code` (owned by `owner_id`)?

    `region_code` None means the action is about the user's own scope as a whole (listing,
    exporting). `target_role` is the role being invited or revoked.
    """
    if user is None:
        return Decision(False, Reason.NOT_REGISTERED)
    if not user.active:
        return Decision(False, Reason.REVOKED)
    grant = grant_for(user.role, action)
    if grant is Grant.NONE:
        return Decision(False, Reason.ROLE)
    if action in (Action.UNDANG, Action.CABUT) and target_role is not None:
        if target_role not in INVITABLE[user.role]:
            return Decision(False, Reason.ROLE_TOO_HIGH)
    if grant is Grant.ALL:
        return ALLOW
    if region_code is not None and not is_within(region_code, user.region_code):
        return Decision(False, Reason.SCOPE)
    if grant is Grant.OWN and owner_id is not None and owner_id != user.telegram_id:
        return Decision(False, Reason.NOT_OWN)
    return ALLOW
