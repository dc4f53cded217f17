"""Domain models shared by services and storage (no Telegram types here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    PETUGAS = "petugas"
    KOORDINATOR = "koordinator"
    KOMISIONER = "komisioner"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _ROLE_RANK[self]

    @classmethod
    def parse(cls, text: str) -> Role | None:
        try:
            return cls(text.strip().lower())
        except ValueError:
            return None


_ROLE_RANK = {Role.PETUGAS: 1, Role.KOORDINATOR: 2, Role.KOMISIONER: 3, Role.ADMIN: 4}


class Level(StrEnum):
    NASIONAL = "nasional"
    PROVINSI = "provinsi"
    KABKOTA = "kabkota"
    KECAMATAN = "kecamatan"


@dataclass(frozen=True, slots=True)
class Region:
    code: str  # dotted: "51", "51.03", "51.03.01"; "ID" for the whole country
    parent_code: str | None
    level: Level
    kind: str  # Negara, Provinsi, Kabupaten, Kota, Kecamatan
    name: str

    @property
    def title(self) -> str:
        """The name as officials write it: "Provinsi Bali", "Kabupaten Badung", "Kota Denpasar"."""
        if self.level is Level.NASIONAL or self.kind == "Kota":
            return self.name  # city names already carry "Kota"
        return f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class RegionMatch:
    region: Region
    path: tuple[Region, ...]  # from the root down to the region itself
    matched_alias: str | None = None


@dataclass(frozen=True, slots=True)
class User:
    telegram_id: int
    role: Role
    region_code: str
    full_name: str
    username: str | None
    registered_at: datetime
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class Invite:
    role: Role
    region_code: str
    created_by: int | None
    created_at: datetime
    expires_at: datetime
    used_by: int | None
    used_at: datetime | None
