"""User-visible strings of reporting (`/lapor`): the one place to read and reword them.

Everything here is Bahasa Indonesia for Telegram's HTML parse mode. Templates hold only the tags
`<b>`, `<i>` and `<code>`; their `{placeholders}` are filled here (`render_error`,
`describe_report`) with values that are already HTML-escaped. Raw strings meant to be shown inside a message (the one-line forms and
examples) are stored unescaped and escaped where they are composed, because they contain `<` and
`>`.

Messages are functions of the domain's values: `render_error(LaporError)`,
`describe_report(Report, Severity)`. Keys of `ERRORS` are the values of
`bot.domain.reporting.ErrorCode`; a unit test checks that each code has a text.
"""

from __future__ import annotations

from html import escape
from typing import Final

from bot.domain.reporting import (
    DATA_PROBLEMS,
    ITEMS,
    JENIS_PEMILIHAN,
    DataReport,
    ErrorCode,
    HitungReport,
    InsidenReport,
    Kind,
    LaporError,
    LogistikReport,
    RekapReport,
    Report,
    Severity,
)
from bot.texts.formatting import number, percent_of
from bot.texts.labels import KIND_LABELS
from bot.texts.messages import ELLIPSIS

# --- the one-line forms -------------------------------------------------------------------

#: One-line form of each kind (raw text, escaped when shown).
FORMS: Final[dict[str, str]] = {
    "logistik": "/lapor logistik <barang> <diterima>[/<kebutuhan>] [rusak <n>] [<barang> <diterima> …] [catatan]",
    "data": "/lapor data <jenis> <jumlah> [keterangan]",
    "hitung": "/lapor hitung <tps_selesai>[/<tps_total>] [sirekap <n>]",
    "rekap": "/lapor rekap <jenis_pemilihan> <desa_selesai>/<desa_total>",
    "insiden": "/lapor insiden [rendah|sedang|tinggi|kritis] <uraian>",
}

#: One example of each kind (raw text, escaped when shown).
EXAMPLES: Final[dict[str, str]] = {
    "logistik": "/lapor logistik kotak_suara 118/120 rusak 2 dua kotak penyok",
    "data": "/lapor data ganda 14 pemilih ganda di Desa Kuta",
    "hitung": "/lapor hitung 180/205 sirekap 150",
    "rekap": "/lapor rekap dpr 12/18",
    "insiden": "/lapor insiden kritis gudang logistik PPK Kuta tergenang banjir",
}

# --- usage: `/lapor` without a valid kind ------------------------------------------------------

USAGE_TITLE: Final = "<b>Cara melapor</b>"
USAGE_GUIDED: Final = "Kirim /lapor saja untuk dipandu langkah demi langkah, atau tulis satu baris:"
#: One menu entry; `{label}` is plain, `{form}` and `{example}` are escaped before filling.
USAGE_ENTRY: Final = "<b>{label}</b>: <code>{form}</code>\nContoh: <code>{example}</code>"
USAGE_WORDS: Final = (
    "Angka boleh ditulis <code>1.025</code>, <code>293 ribu</code>, <code>118 dari 120</code>; "
    "beberapa barang sekaligus: <code>kotak 1025 bilik 820</code>; beberapa baris /lapor dalam satu pesan. "
    "<i>penghitungan</i> sama dengan <i>hitung</i> (juga <i>rekap</i> yang langsung diikuti angka); "
    "<i>rekapitulasi</i> sama dengan <i>rekap</i>; "
    "<i>kejadian</i> sama dengan <i>insiden</i>; <i>darurat</i> = kritis, <i>mendesak</i> = tinggi."
)
USAGE_TARGET: Final = (
    "Untuk wilayah lain di bawah Anda, tulis @kode atau @nama wilayah di depan, "
    "mis. <code>/lapor @51.03.01 hitung 180/205</code>."
)

# --- parts of an error message -----------------------------------------------------------------

FORM_LINE: Final = "Format: <code>{form}</code>"
EXAMPLE_LINE: Final = "Contoh: <code>{example}</code>"
VALID_ITEMS: Final = "Barang: {names}."
VALID_PROBLEMS: Final = "Jenis masalah: {names}."
VALID_SEVERITIES: Final = "Prioritas: {names}."
VALID_JENIS: Final = "Jenis pemilihan: {names}."
VALID_KINDS: Final = "Jenis laporan: {names}."
#: Longest user token quoted back in an error message, in characters.
MAX_QUOTED_TOKEN: Final = 40

#: First sentence of each error. `{token}` is the offending input (escaped, maybe shortened),
#: `{bound}` the limit it broke (a formatted number).
ERRORS: Final[dict[str, str]] = {
    "missing_kind": "Jenis laporan belum ditulis.",
    "unknown_kind": "Jenis laporan «{token}» tidak dikenal.",
    "kind_after_target": (
        "Sesudah nama wilayah harus ada jenis laporan. Nama wilayah yang berspasi disambung "
        "dengan garis bawah, mis. «{token}»."
    ),
    "empty_target": "Sesudah «@» tulis kode atau nama wilayah, mis. @51.03.01 atau @kuta.",
    "missing_item": "Nama barang belum ditulis.",
    "unknown_item": "Barang «{token}» tidak dikenal.",
    "missing_problem": "Jenis masalah data belum ditulis.",
    "unknown_problem": "Jenis masalah «{token}» tidak dikenal.",
    "unknown_severity": "Prioritas «{token}» tidak dikenal.",
    "missing_number": "Sesudah «{token}» harus ada angka.",
    "invalid_number": "«{token}» bukan angka yang benar. Tulis bilangan bulat, mis. 120 atau 1.250.",
    "negative_number": "«{token}» negatif. Jumlah tidak boleh kurang dari 0.",
    "number_too_large": "«{token}» terlalu besar (paling banyak {bound}).",
    "invalid_fraction": "«{token}» harus ditulis dua angka dengan garis miring: angka/angka.",
    "received_over_plan": "Diterima «{token}» lebih dari dua kali kebutuhan ({bound}). Periksa angkanya.",
    "damaged_over_received": "Rusak «{token}» lebih banyak dari yang diterima ({bound}).",
    "tps_total_zero": "Jumlah TPS di «{token}» tidak boleh 0.",
    "tps_done_over_total": "TPS selesai «{token}» lebih banyak dari jumlah TPS ({bound}).",
    "sirekap_over_done": "Sirekap «{token}» lebih banyak dari TPS selesai ({bound}).",
    "tps_over_baseline": "TPS selesai «{token}» lebih banyak dari jumlah TPS kecamatan ini ({bound}). Periksa angkanya.",
    "missing_tps_total": (
        "Jumlah TPS kecamatan ini belum diimpor: tulis TPS selesai dan jumlah TPS, mis. {token}/205."
    ),
    "missing_jenis": "Jenis pemilihan belum ditulis.",
    "unknown_jenis": "Jenis pemilihan «{token}» tidak dikenal.",
    "desa_total_zero": "Jumlah desa di «{token}» tidak boleh 0.",
    "desa_done_over_total": "Desa selesai «{token}» lebih banyak dari jumlah desa ({bound}).",
    "missing_description": "Sesudah «{token}» tulis uraian kejadiannya.",
    "text_too_long": "Teksnya terlalu panjang ({token} karakter, paling banyak {bound}).",
    "unexpected_token": "«{token}» tidak dimengerti di sini.",
    "split_number": "«{token}» terbaca dua angka, padahal di sini hanya ada satu.",
    "leftover_figure": (
        "«{token}» berisi angka yang tidak punya tempat di format ini, jadi tidak dicatat sebagai keterangan."
    ),
    "duplicate_item": "«{token}» disebut dua kali dalam satu baris. Tulis setiap barang sekali.",
    "too_many_reports": "Terlalu banyak laporan dalam satu pesan (paling banyak {bound}). Kirim dalam beberapa pesan.",
}
#: After the first sentence, when the input can be written right: `{hint}` escaped.
HINT_LINE: Final = "Bila maksudnya satu angka, tulis <code>{hint}</code>."
#: Before the sentence, when a message of several /lapor lines was refused for one of them.
LINE_PREFIX: Final = "Baris {line}: "
#: After the whole message, in that case.
NOTHING_STORED: Final = "Tidak ada laporan dari pesan ini yang disimpan; perbaiki baris itu lalu kirim lagi semuanya."

# --- restating an understood report (the confirmation) -----------------------------------------

#: `{label}` item label, `{received}`/`{planned}`/`{damaged}` formatted numbers, `{note}` escaped.
SUMMARY_LOGISTIK: Final = "<b>Logistik</b> {label}: diterima {received}"
SUMMARY_LOGISTIK_PLAN: Final = " dari kebutuhan {planned}"
SUMMARY_LOGISTIK_DAMAGED: Final = ", rusak {damaged}"
SUMMARY_DATA: Final = "<b>Data pemilih</b>, {label}: {count} orang"
SUMMARY_HITUNG: Final = "<b>Penghitungan suara</b>: {done} dari {total} TPS selesai ({percent})"
SUMMARY_HITUNG_NO_TOTAL: Final = "<b>Penghitungan suara</b>: {done} TPS selesai"
SUMMARY_HITUNG_SIREKAP: Final = ", C.Hasil diunggah ke Sirekap: {sirekap}"
SUMMARY_HITUNG_NO_SIREKAP: Final = ", Sirekap: belum dilaporkan"
SUMMARY_REKAP: Final = "<b>Rekapitulasi kecamatan</b> {jenis}: {done} dari {total} desa selesai ({percent})"
SUMMARY_INSIDEN: Final = "<b>Insiden</b> prioritas {severity}"
#: Second line of a summary, for catatan / keterangan / uraian.
SUMMARY_NOTE: Final = "<i>{note}</i>"
SUMMARY_SEVERITY: Final = "Prioritas: <b>{severity}</b>"


def _usage() -> str:
    """Compose `USAGE` from the forms and examples above (escaped, as they contain `<`)."""
    entries = [
        USAGE_ENTRY.format(label=KIND_LABELS[kind], form=escape(FORMS[kind]), example=escape(EXAMPLES[kind]))
        for kind in FORMS
    ]
    return "\n\n".join([USAGE_TITLE + "\n" + USAGE_GUIDED, *entries, USAGE_WORDS, USAGE_TARGET])


#: The menu shown for `/lapor` with arguments but no valid kind: every form with an example.
USAGE: Final[str] = _usage()


# --- composing -----------------------------------------------------------------------------------

#: Codes whose message lists the valid choices, and the template plus choices for each.
_VALID_CHOICES: Final[dict[ErrorCode, tuple[str, tuple[str, ...]]]] = {
    ErrorCode.MISSING_ITEM: (VALID_ITEMS, tuple(ITEMS)),
    ErrorCode.UNKNOWN_ITEM: (VALID_ITEMS, tuple(ITEMS)),
    ErrorCode.MISSING_PROBLEM: (VALID_PROBLEMS, tuple(DATA_PROBLEMS)),
    ErrorCode.UNKNOWN_PROBLEM: (VALID_PROBLEMS, tuple(DATA_PROBLEMS)),
    ErrorCode.UNKNOWN_SEVERITY: (VALID_SEVERITIES, tuple(Severity)),
    ErrorCode.UNKNOWN_KIND: (VALID_KINDS, tuple(Kind)),
    ErrorCode.MISSING_JENIS: (VALID_JENIS, tuple(JENIS_PEMILIHAN)),
    ErrorCode.UNKNOWN_JENIS: (VALID_JENIS, tuple(JENIS_PEMILIHAN)),
    ErrorCode.KIND_AFTER_TARGET: (VALID_KINDS, tuple(Kind)),
}


def kind_label(kind: Kind) -> str:
    """Indonesian display name of a kind of report ("Data pemilih")."""
    return KIND_LABELS[kind.value]


def render_error(error: LaporError) -> str:
    """Indonesian message in Telegram HTML for a refused `/lapor` line: the problem naming the
    token, the valid choices where that helps, then the right form with one example (or, without
    a kind, the menu of all four forms). Every user-supplied value is escaped.
    """
    token = error.token or ""
    if len(token) > MAX_QUOTED_TOKEN:
        token = token[:MAX_QUOTED_TOKEN] + ELLIPSIS
    first = ERRORS[error.code].format(token=escape(token), bound=number(error.bound) if error.bound is not None else "")
    lines = [LINE_PREFIX.format(line=error.line) + first if error.line is not None else first]
    if error.hint is not None:
        lines.append(HINT_LINE.format(hint=escape(error.hint)))
    if error.code in _VALID_CHOICES:
        template, names = _VALID_CHOICES[error.code]
        lines.append(template.format(names=", ".join(names)))
    if error.kind is None:
        lines.append("")
        lines.append(USAGE)
    else:
        lines.append(FORM_LINE.format(form=escape(FORMS[error.kind])))
        lines.append(EXAMPLE_LINE.format(example=escape(EXAMPLES[error.kind])))
    if error.line is not None:
        lines.append(NOTHING_STORED)
    return "\n".join(lines)


def describe_report(report: Report, severity: Severity | None = None) -> str:
    """Restate a report in Indonesian Telegram HTML (for the confirmation), user text escaped.

    The note, if any, goes on a second line; with `severity`, a last line names it. Region and
    incident id are the caller's to add.
    """
    note = ""
    match report:
        case LogistikReport():
            line = SUMMARY_LOGISTIK.format(label=ITEMS[report.item].label, received=number(report.received))
            if report.planned is not None:
                line += SUMMARY_LOGISTIK_PLAN.format(planned=number(report.planned))
            if report.damaged:
                line += SUMMARY_LOGISTIK_DAMAGED.format(damaged=number(report.damaged))
            note = report.note
        case DataReport():
            line = SUMMARY_DATA.format(label=DATA_PROBLEMS[report.problem].label, count=number(report.count))
            note = report.note
        case HitungReport():
            if report.tps_total is None:
                line = SUMMARY_HITUNG_NO_TOTAL.format(done=number(report.tps_done))
            else:
                line = SUMMARY_HITUNG.format(
                    done=number(report.tps_done),
                    total=number(report.tps_total),
                    percent=percent_of(report.tps_done, report.tps_total),
                )
            if report.sirekap is not None:
                line += SUMMARY_HITUNG_SIREKAP.format(sirekap=number(report.sirekap))
            else:
                line += SUMMARY_HITUNG_NO_SIREKAP
        case RekapReport():
            line = SUMMARY_REKAP.format(
                jenis=JENIS_PEMILIHAN[report.jenis].label,
                done=number(report.desa_done),
                total=number(report.desa_total),
                percent=percent_of(report.desa_done, report.desa_total),
            )
        case InsidenReport():
            line = SUMMARY_INSIDEN.format(severity=report.severity.value)
            note = report.description
        case _:  # pragma: no cover - exhaustive above
            raise TypeError(f"not a report: {report!r}")
    lines = [line]
    if note:
        lines.append(SUMMARY_NOTE.format(note=escape(note)))
    if severity is not None:
        lines.append(SUMMARY_SEVERITY.format(severity=severity.value))
    return "\n".join(lines)


# --- a figure that went down -------------------------------------------------------------------

HELD: Final = (
    "⚠️ <b>Angka ini lebih kecil dari yang tercatat</b>\n"
    "Tercatat: {current}\n"
    "Laporan Anda: {report}\n"
    "Angka yang turun biasanya salah ketik. Laporan belum dihitung: tekan <b>Benar</b> bila angkanya "
    "memang turun, atau <b>Batal</b>."
)
HELD_CONFIRM_BUTTON: Final = "Benar"
HELD_CANCEL_BUTTON: Final = "Batal"
HELD_CANCELLED: Final = "Laporan dibatalkan; angka yang tercatat tetap berlaku."
HELD_ALREADY: Final = "Laporan ini sudah dijawab sebelumnya."


def held(report: Report, current: Report) -> str:
    """The question asked when a cumulative figure goes down (first lines of both restatements)."""
    return HELD.format(current=describe_report(current).split("\n")[0], report=describe_report(report).split("\n")[0])


# --- near misses, plain text, files without a caption ------------------------------------------

#: After a refusal, when a near miss parses once corrected: `{line}` the whole command, escaped.
DID_YOU_MEAN: Final = "Maksud Anda:\n<code>{line}</code>?"
#: The button that sends the corrected report (checked as if typed).
SEND_SUGGESTION_BUTTON: Final = "✅ Ya, kirim laporan ini"
#: A message without a command in a private chat: it is not stored.
PLAIN_TEXT: Final = (
    "Pesan ini tidak dicatat. Untuk melapor kirim /lapor (dipandu langkah demi langkah) atau satu baris, "
    "mis. <code>/lapor logistik kotak suara 1025</code>. Semua perintah: /bantuan."
)
#: ... when it reads as a report: `{line}` the command it most likely means, escaped.
PLAIN_TEXT_REPORT: Final = "Pesan ini belum dicatat sebagai laporan. Maksud Anda:\n<code>{line}</code>?"
#: A command the bot does not know: `{command}` as typed, escaped.
UNKNOWN_COMMAND: Final = "Perintah «{command}» tidak dikenal. Semua perintah: /bantuan."
#: ... that is close to one it knows: `{command}` as typed, `{known}` the right one.
UNKNOWN_COMMAND_CLOSE: Final = "Perintah «{command}» tidak dikenal. Maksud Anda /{known}? Semua perintah: /bantuan."
#: A photo or document without a caption in a private chat.
FILE_WITHOUT_CAPTION: Final = (
    "Berkas ini belum terlampir ke laporan mana pun. Lampirkan ke salah satu laporan terakhir Anda, "
    "atau buat laporan baru dengan berkas ini:"
)
#: ... when the sender has no report yet.
FILE_WITHOUT_CAPTION_NO_REPORTS: Final = (
    "Berkas ini belum terlampir ke laporan mana pun. Buat laporan baru dengan berkas ini, "
    "atau kirim ulang dengan keterangan <code>/lapor …</code>:"
)
#: A button attaching the file to one of the sender's incidents: `{id}`, `{label}` (plain text).
ATTACH_TO_BUTTON: Final = "📎 #{id} {label}"
NEW_REPORT_WITH_FILE_BUTTON: Final = "📝 Laporan baru dengan berkas ini"
#: Shown when the guided flow that started from a file ends with a stored report.
FLOW_FILE_KEPT: Final = "Berkas Anda akan dilampirkan ke laporan ini."
#: Alerts for the buttons above.
ONLY_THE_SENDER: Final = "Tombol ini hanya untuk pengirim pesan tersebut."
SUGGESTION_GONE: Final = "Pesan aslinya tidak dapat dibaca lagi. Ketik ulang laporannya dengan /lapor."


def did_you_mean(line: str) -> str:
    return DID_YOU_MEAN.format(line=escape(line))


def plain_text_report(line: str) -> str:
    return PLAIN_TEXT_REPORT.format(line=escape(line))


def unknown_command(command: str, known: str | None) -> str:
    if known is None:
        return UNKNOWN_COMMAND.format(command=escape(command))
    return UNKNOWN_COMMAND_CLOSE.format(command=escape(command), known=escape(known))


def attach_to_button(incident_id: int, label: str) -> str:
    return ATTACH_TO_BUTTON.format(id=incident_id, label=label)


def in_line(line: int, refusal_html: str) -> str:
    """A refusal of one line of a message of several: the line named, and nothing stored."""
    return LINE_PREFIX.format(line=line) + refusal_html + "\n" + NOTHING_STORED
