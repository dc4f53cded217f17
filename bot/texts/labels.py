"""One display label per kind, status, severity and item: the tables every message, the CSV
export and the charts name them from.

Orders (which severity comes first, the kinds in their order) are rules and live in the domain
(`bot.domain.reporting`); this module only says what each value is called.
"""

from __future__ import annotations

from typing import Final

from bot.domain.reporting import ITEMS

#: Display name of each kind of report and incident.
KIND_LABELS: Final[dict[str, str]] = {
    "logistik": "Logistik",
    "data": "Data pemilih",
    "hitung": "Penghitungan suara",
    "rekap": "Rekapitulasi kecamatan",
    "insiden": "Insiden",
}

#: Status of an incident as it reads in a sentence ("Status: sedang ditangani").
STATUS_LABEL: Final[dict[str, str]] = {
    "baru": "baru",
    "ditangani": "sedang ditangani",
    "selesai": "selesai",
    "ditolak": "ditolak",
}

#: The coloured mark put before an incident of each severity.
SEVERITY_MARK: Final[dict[str, str]] = {"rendah": "⚪", "sedang": "🟡", "tinggi": "🟠", "kritis": "🔴"}


def kind_label(kind: str) -> str:
    """Display label of an incident kind ("Data pemilih"); unknown kinds are made readable."""
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def item_label(item: str) -> str:
    """Display label of a logistics item ("Kotak suara"); unknown names are made readable."""
    term = ITEMS.get(item)
    return term.label if term else item.replace("_", " ").capitalize()


def status_label(status: str) -> str:
    """A status as it reads in a sentence ("sedang ditangani"); an unknown one as it is."""
    return STATUS_LABEL.get(status, status)


def severity_label(severity: str) -> str:
    """A severity is called by its own name ("kritis")."""
    return severity
