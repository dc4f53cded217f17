"""The command catalogue: every command the bot answers, what right it needs, its menu line.

`/bantuan` and the Telegram command menu (setMyCommands) are both built from this one list, so
a user is only ever shown commands their role can use.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.access import Action, Grant, grant_for
from bot.models import Role


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    description: str  # menu line, ≤ 256 characters, Indonesian
    action: Action | None  # None: every registered user


CATALOGUE: tuple[Command, ...] = (
    Command("start", "Mulai, atau daftar dengan tautan undangan", None),
    Command("bantuan", "Daftar perintah untuk peran Anda", None),
    Command("wilayah", "Cari wilayah dan kodenya: /wilayah kuta", None),
    Command("undang", "Buat tautan undangan: /undang petugas 51.03.01", Action.UNDANG),
    Command("cabut", "Cabut akses pengguna: /cabut <id_telegram>", Action.CABUT),
)


def for_role(role: Role) -> list[Command]:
    return [c for c in CATALOGUE if c.action is None or grant_for(role, c.action) is not Grant.NONE]


def menu() -> list[tuple[str, str]]:
    """The public command menu (everyone sees it; each command still checks rights)."""
    return [(c.name, c.description) for c in CATALOGUE]
