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

    @property
    def office(self) -> str:
        """The institution of the region, as an escalation target: "KPU Provinsi Bali", "KPU
        Kabupaten Badung", "KPU Kota Denpasar", "PPK Kuta", "KPU RI"."""
        if self.level is Level.NASIONAL:
            return "KPU RI"
        if self.level is Level.KECAMATAN:
            return f"PPK {self.name}"
        return f"KPU {self.title}"


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


class Status(StrEnum):
    BARU = "baru"
    DITANGANI = "ditangani"
    SELESAI = "selesai"
    DITOLAK = "ditolak"  # the report was wrong (misread, duplicate, test): out of every figure

    @property
    def closed(self) -> bool:
        """Resolved or rejected: nothing left to handle."""
        return self in (Status.SELESAI, Status.DITOLAK)


@dataclass(frozen=True, slots=True)
class Incident:
    """One stored report and its current state (figures depend on the kind)."""

    id: int
    kind: str
    severity: str
    status: Status
    region_code: str
    reporter_id: int
    item: str | None
    received: int | None
    planned: int | None
    damaged: int | None
    data_count: int | None
    tps_done: int | None
    tps_total: int | None
    sirekap: int | None
    description: str
    payload: dict
    source_chat_id: int
    source_message_id: int
    reported_at: datetime
    received_at: datetime
    handling_region: str
    escalations: int
    assignee_id: int | None
    taken_at: datetime | None
    resolved_at: datetime | None
    awaiting_since: datetime | None = None  # when it started waiting to be taken at its current level
    last_reported_at: datetime | None = None  # message time of the report whose figures it shows
    desa_done: int | None = None  # rekap (rekapitulasi kecamatan): desa recapitulated
    desa_total: int | None = None


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    id: int
    incident_id: int
    at: datetime
    actor_id: int | None
    actor_name: str | None
    action: str
    from_status: str | None
    to_status: str | None
    region_code: str | None
    note: str


@dataclass(frozen=True, slots=True)
class Attachment:
    id: int
    incident_id: int
    kind: str  # foto, dokumen, lokasi
    file_id: str | None
    file_unique_id: str | None
    file_name: str | None
    mime_type: str | None
    file_size: int | None
    width: int | None
    height: int | None
    latitude: float | None
    longitude: float | None
    added_by: int
    added_at: datetime


@dataclass(frozen=True, slots=True)
class NewIncident:
    """What the reporting service hands to storage to create an incident."""

    kind: str
    severity: str
    region_code: str
    reporter_id: int
    description: str
    payload: dict
    source_chat_id: int
    source_message_id: int
    update_id: int | None
    reported_at: datetime
    received_at: datetime
    item: str | None = None
    received: int | None = None
    planned: int | None = None
    damaged: int | None = None
    data_count: int | None = None
    tps_done: int | None = None
    tps_total: int | None = None
    sirekap: int | None = None
    desa_done: int | None = None
    desa_total: int | None = None
    #: the bot that received it: with the source message and the content, a report's identity
    bot_id: int = 0


@dataclass(frozen=True, slots=True)
class NewAttachment:
    """A photo, document or location from a message, to attach to an incident."""

    kind: str  # foto, dokumen, lokasi
    chat_id: int
    message_id: int
    file_id: str | None = None
    file_unique_id: str | None = None
    file_name: str | None = None
    mime_type: str | None = None
    file_size: int | None = None
    width: int | None = None
    height: int | None = None
    latitude: float | None = None
    longitude: float | None = None
