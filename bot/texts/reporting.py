"""User-visible strings of reporting (`/lapor`): the one place to read and reword them.

Everything here is Bahasa Indonesia for Telegram's HTML parse mode. Templates hold only the tags
`<b>`, `<i>` and `<code>`; their `{placeholders}` are filled by `bot.domain.reporting` with values that are
already HTML-escaped. Raw strings meant to be shown inside a message (the one-line forms and
examples) are stored unescaped and escaped where they are composed, because they contain `<` and
`>`.

This module imports nothing from `bot`, so the domain (`bot.domain.reporting`) can import it freely. Keys of
`ERRORS` are the values of `bot.domain.reporting.ErrorCode`; a unit test checks that each code has a text.
"""

from __future__ import annotations

from html import escape
from typing import Final

# --- the four one-line forms -------------------------------------------------------------------

#: One-line form of each kind (raw text, escaped when shown).
FORMS: Final[dict[str, str]] = {
    "logistik": "/lapor logistik <barang> <diterima>[/<rencana>] [rusak <n>] [catatan]",
    "data": "/lapor data <jenis> <jumlah> [keterangan]",
    "rekap": "/lapor rekap <tps_selesai>/<tps_total> [sirekap <n>]",
    "insiden": "/lapor insiden <rendah|sedang|tinggi|kritis> <uraian>",
}

#: One example of each kind (raw text, escaped when shown).
EXAMPLES: Final[dict[str, str]] = {
    "logistik": "/lapor logistik kotak_suara 118/120 rusak 2 dua kotak penyok",
    "data": "/lapor data ganda 14 pemilih ganda di Desa Kuta",
    "rekap": "/lapor rekap 180/205 sirekap 150",
    "insiden": "/lapor insiden kritis gudang logistik PPK Kuta tergenang banjir",
}

#: Display name of each kind.
KIND_LABELS: Final[dict[str, str]] = {
    "logistik": "Logistik",
    "data": "Data pemilih",
    "rekap": "Rekapitulasi",
    "insiden": "Insiden",
}

# --- usage: `/lapor` without a valid kind ------------------------------------------------------

USAGE_TITLE: Final = "<b>Cara melapor</b>"
USAGE_GUIDED: Final = "Kirim /lapor saja untuk dipandu langkah demi langkah, atau tulis satu baris:"
#: One menu entry; `{label}` is plain, `{form}` and `{example}` are escaped before filling.
USAGE_ENTRY: Final = "<b>{label}</b>: <code>{form}</code>\nContoh: <code>{example}</code>"
USAGE_TARGET: Final = (
    "Untuk wilayah lain di bawah Anda, tulis @kode atau @nama wilayah di depan, "
    "mis. <code>/lapor @51.03.01 rekap 180/205</code>."
)

# --- parts of an error message -----------------------------------------------------------------

FORM_LINE: Final = "Format: <code>{form}</code>"
EXAMPLE_LINE: Final = "Contoh: <code>{example}</code>"
VALID_ITEMS: Final = "Barang: {names}."
VALID_PROBLEMS: Final = "Jenis masalah: {names}."
VALID_SEVERITIES: Final = "Tingkat: {names}."
VALID_KINDS: Final = "Jenis laporan: {names}."
#: Appended to a token shown in a message when it had to be shortened.
ELLIPSIS: Final = "…"

#: First sentence of each error. `{token}` is the offending input (escaped, maybe shortened),
#: `{bound}` the limit it broke (a formatted number).
ERRORS: Final[dict[str, str]] = {
    "missing_kind": "Jenis laporan belum ditulis.",
    "unknown_kind": "Jenis laporan «{token}» tidak dikenal.",
    "kind_after_target": ("Sesudah nama wilayah harus ada jenis laporan. Nama wilayah yang berspasi disambung "
                          "dengan garis bawah, mis. «{token}»."),
    "empty_target": "Sesudah «@» tulis kode atau nama wilayah, mis. @51.03.01 atau @kuta.",
    "missing_item": "Nama barang belum ditulis.",
    "unknown_item": "Barang «{token}» tidak dikenal.",
    "missing_problem": "Jenis masalah data belum ditulis.",
    "unknown_problem": "Jenis masalah «{token}» tidak dikenal.",
    "missing_severity": "Tingkat insiden belum ditulis.",
    "unknown_severity": "Tingkat «{token}» tidak dikenal.",
    "missing_number": "Sesudah «{token}» harus ada angka.",
    "invalid_number": "«{token}» bukan angka yang benar. Tulis bilangan bulat, mis. 120 atau 1.250.",
    "negative_number": "«{token}» negatif. Jumlah tidak boleh kurang dari 0.",
    "number_too_large": "«{token}» terlalu besar (paling banyak {bound}).",
    "invalid_fraction": "«{token}» harus ditulis dua angka dengan garis miring: angka/angka.",
    "received_over_plan": "Diterima «{token}» lebih dari dua kali rencana ({bound}). Periksa angkanya.",
    "damaged_over_received": "Rusak «{token}» lebih banyak dari yang diterima ({bound}).",
    "tps_total_zero": "Jumlah TPS di «{token}» tidak boleh 0.",
    "tps_done_over_total": "TPS selesai «{token}» lebih banyak dari jumlah TPS ({bound}).",
    "sirekap_over_done": "Sirekap «{token}» lebih banyak dari TPS selesai ({bound}).",
    "missing_description": "Sesudah «{token}» tulis uraian kejadiannya.",
    "text_too_long": "Teksnya terlalu panjang ({token} karakter, paling banyak {bound}).",
    "unexpected_token": "«{token}» tidak dimengerti di sini.",
}

# --- restating an understood report (the confirmation) -----------------------------------------

#: `{label}` item label, `{received}`/`{planned}`/`{damaged}` formatted numbers, `{note}` escaped.
SUMMARY_LOGISTIK: Final = "<b>Logistik</b> {label}: diterima {received}"
SUMMARY_LOGISTIK_PLAN: Final = " dari rencana {planned}"
SUMMARY_LOGISTIK_DAMAGED: Final = ", rusak {damaged}"
SUMMARY_DATA: Final = "<b>Data pemilih</b> {label}: {count} orang"
SUMMARY_REKAP: Final = "<b>Rekapitulasi</b>: {done} dari {total} TPS selesai ({percent})"
SUMMARY_REKAP_SIREKAP: Final = ", {sirekap} diunggah ke Sirekap"
SUMMARY_INSIDEN: Final = "<b>Insiden</b> tingkat {severity}"
#: Second line of a summary, for catatan / keterangan / uraian.
SUMMARY_NOTE: Final = "<i>{note}</i>"
SUMMARY_SEVERITY: Final = "Tingkat: <b>{severity}</b>"


def _usage() -> str:
    """Compose `USAGE` from the forms and examples above (escaped, as they contain `<`)."""
    entries = [
        USAGE_ENTRY.format(label=KIND_LABELS[kind], form=escape(FORMS[kind]), example=escape(EXAMPLES[kind]))
        for kind in FORMS
    ]
    return "\n\n".join([USAGE_TITLE + "\n" + USAGE_GUIDED, *entries, USAGE_TARGET])


#: The menu shown for `/lapor` with arguments but no valid kind: the four forms with examples.
USAGE: Final[str] = _usage()
