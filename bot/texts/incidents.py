"""User-visible sentences about incidents: receipts, /status, attachments, the guided /lapor flow."""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import NamedTuple

from bot.domain.access import Reason
from bot.domain.follow_up import REMINDER_ACTIONS, flagged_since
from bot.domain.models import Attachment, Incident, IncidentEvent, Region, Status
from bot.domain.reporting import (
    DATA_PROBLEMS,
    ITEMS,
    JENIS_PEMILIHAN,
    IncidentNotFound,
    LaporError,
    NeedsKecamatan,
    Refusal,
    Report,
    Severity,
    TargetAmbiguous,
    TargetOutOfScope,
    TargetUnknown,
)
from bot.texts import reporting as tr
from bot.texts.common import esc, quoted, refusal, region_path
from bot.texts.formatting import date_time, number
from bot.texts.labels import KIND_LABELS, SEVERITY_MARK, STATUS_LABEL, kind_label
from bot.texts.messages import ELLIPSIS, MESSAGE_LIMIT, split_messages
from bot.texts.reporting import describe_report, render_error

ACTION_LABEL = {
    "lapor": "melapor",
    "laporan": "mengirim laporan",
    "tangani": "menangani",
    "eskalasi": "mengeskalasi",
    "eskalasi_otomatis": "eskalasi otomatis",
    "selesai": "menyelesaikan",
    "selesai_otomatis": "selesai otomatis",
    "prioritas": "prioritas naik",
    "catatan": "mencatat",
    "lampiran": "melampirkan",
    "tolak": "menolak",
    "buka": "membuka kembali",
    "pengingat": "mengingatkan yang menangani",
    "belum_diperbarui": "menandai belum ada pembaruan",
}
#: the tail of a reminder's history line (its note: the minutes without an update)
REMINDER_TAIL = " ({minutes} menit tanpa pembaruan)"
ATTACHMENT_LABEL = {"foto": "Foto", "dokumen": "Dokumen", "lokasi": "Lokasi"}

#: notes the bot writes into an incident's history itself
AUTO_ESCALATION_NOTE = "tidak ditangani dalam {minutes} menit"
AUTO_ESCALATION_AT_TOP_NOTE = (
    "tidak ditangani dalam {minutes} menit; sudah di tingkat tertinggi, tetap menunggu ditangani"
)


#: the history line of an incident the bot closed because the figures are complete
AUTO_CLOSE_NOTE = "lengkap, laporan ke-{number}"
#: closed when the database was upgraded: a later report of the same kecamatan and item carries the figures
SUPERSEDED_NOTE = "digantikan laporan #{id} (satu laporan terbuka per kecamatan dan barang)"
DEADLINE_RAISED_NOTE = "batas logistik lengkap di PPK sudah tiba, kekurangan ini kini prioritas {severity}"
RECEIPT_UPDATED = (
    "Ini laporan ke-{number} untuk #{id}: angkanya diperbarui, tidak dibuat laporan baru "
    "(kartu di grup, bila ada, ikut diperbarui)."
)
RECEIPT_CLOSED = "✅ #{id} selesai otomatis: lengkap, laporan ke-{number}."
RECEIPT_CLOSED_FIRST = "✅ #{id} langsung selesai otomatis: lengkap."


def auto_escalation_note(minutes: int, at_top: bool) -> str:
    """The note of an automatic escalation after `minutes` untaken (or of staying, at the top)."""
    return (AUTO_ESCALATION_AT_TOP_NOTE if at_top else AUTO_ESCALATION_NOTE).format(minutes=minutes)


def plain_summary(incident: Incident) -> str:
    """A short plain-text line for an incident without words of its own (digests escape it)."""
    if (
        incident.kind == "logistik"
        and incident.item is not None
        and incident.item in ITEMS
        and incident.received is not None
    ):
        planned = f"/{number(incident.planned)}" if incident.planned is not None else ""
        damaged = f", rusak {number(incident.damaged)}" if incident.damaged else ""
        return f"{ITEMS[incident.item].label} diterima {number(incident.received)}{planned}{damaged}"
    if (
        incident.kind == "data"
        and incident.item is not None
        and incident.item in DATA_PROBLEMS
        and incident.data_count is not None
    ):
        return f"{DATA_PROBLEMS[incident.item].label}: {number(incident.data_count)} orang"
    if incident.kind == "hitung" and incident.tps_done is not None and incident.tps_total is not None:
        return f"{number(incident.tps_done)}/{number(incident.tps_total)} TPS selesai dihitung"
    if incident.kind == "rekap" and incident.desa_done is not None and incident.desa_total is not None:
        jenis = JENIS_PEMILIHAN[incident.item].label if incident.item and incident.item in JENIS_PEMILIHAN else ""
        return f"Rekapitulasi {jenis}: {number(incident.desa_done)}/{number(incident.desa_total)} desa"
    return incident.description


def _with_target(kind: str | None, code: str) -> str:
    """The right form and an example of `kind` for a region given with @ (every kind without one)."""
    kinds = [kind] if kind in tr.FORMS else list(tr.FORMS)
    lines = []
    for k in kinds:
        form = tr.FORMS[k].replace("/lapor ", "/lapor [@wilayah] ", 1)
        example = tr.EXAMPLES[k].replace("/lapor ", f"/lapor @{code} ", 1)
        lines += [tr.FORM_LINE.format(form=esc(form)), tr.EXAMPLE_LINE.format(example=esc(example))]
    return "\n".join(lines)


def target_unknown(target: str, kind: str | None, example_code: str) -> str:
    return (
        f"Wilayah «@{quoted(target)}» tidak ditemukan. Cari nama atau kodenya dengan /wilayah; nama dengan "
        f"spasi ditulis dengan garis bawah (@kuta_selatan).\n{_with_target(kind, example_code)}"
    )


def target_out_of_scope(
    target: str, path: tuple[Region, ...], home: tuple[Region, ...], kind: str | None, example_code: str
) -> str:
    where = f" ({region_path(path)})" if path else ""
    return (
        f"Wilayah «@{quoted(target)}»{where} di luar wilayah kerja Anda ({region_path(home)}). "
        f"Laporkan untuk wilayah Anda atau wilayah di bawahnya.\n{_with_target(kind, example_code)}"
    )


def target_ambiguous(target: str, paths: list[tuple[Region, ...]]) -> str:
    lines = [f"«{quoted(target)}» cocok dengan beberapa wilayah. Tulis kodenya, misalnya @{paths[0][-1].code}:"]
    lines += [f"<code>@{p[-1].code}</code> {region_path(p)}" for p in paths]
    return "\n".join(lines)


def needs_kecamatan(kind: str, region: Region) -> str:
    return (
        f"Laporan {kind} dicatat per kecamatan, sedangkan {esc(region.title)} bukan kecamatan.\n"
        f"Tambahkan @kecamatan di depan, misalnya <code>/lapor @kuta {kind} …</code>"
    )


def refusal_text(why: Refusal) -> str:
    """Why a report, a region step or an attachment was refused, as an Indonesian HTML message."""
    match why:
        case LaporError():
            return render_error(why)
        case TargetUnknown(target, kind, example_code):
            return target_unknown(target, kind, example_code)
        case TargetAmbiguous(target, paths):
            return target_ambiguous(target, list(paths))
        case TargetOutOfScope(target, path, home, kind, example_code):
            return target_out_of_scope(target, path, home, kind, example_code)
        case NeedsKecamatan(kind, region):
            return needs_kecamatan(kind, region)
        case IncidentNotFound(incident_id):
            return status_not_found(incident_id)
        case Reason():
            return refusal(why)
    raise TypeError(f"not a refusal: {why!r}")  # pragma: no cover - exhaustive above


_RECEIPT_HEAD = re.compile(r"✅ Laporan #(\d{1,18}) (?:diterima|sudah tercatat|diperbarui)\n")
_RECEIPTS_HEAD = re.compile(r"✅ Laporan Anda diterima: (#\d{1,18}(?:, #\d{1,18})*)\n")


def receipt_incident_id(text: str | None) -> int | None:
    """The incident a receipt of `receipt` speaks of, from the receipt's text as Telegram gives
    it back (a reply's `reply_to_message`, formatting stripped); None for any other text (a
    message of `receipts` names several: attaching by reply needs the receipt of one)."""
    found = _RECEIPT_HEAD.match(text or "")
    return int(found.group(1)) if found else None


#: A report sent again within the repeat window: `{id}` the first one, `{ago}` how long ago.
REPEAT_NOTE = "↩️ Laporan yang sama sudah Anda kirim {ago} sebagai #{id}; tidak dicatat dua kali."
REPEAT_JUST_NOW = "baru saja"
REPEAT_MINUTES_AGO = "{minutes} menit lalu"
ATTACH_HINT = "Balas pesan ini dengan foto, dokumen atau lokasi untuk melampirkannya."
#: Head of the receipt of a message that carried several reports.
BATCH_HEAD = "✅ <b>{count} laporan dari pesan ini</b>"
BATCH_NEW = "<b>#{id} diterima</b>"
BATCH_KNOWN = "<b>#{id} sudah tercatat</b>"
BATCH_UPDATED = "<b>#{id} diperbarui</b>"
#: a report of the message whose figure went down: asked below with Benar / Batal
BATCH_HELD = "⚠️ <b>Belum dihitung, angkanya turun</b> · {path} (jawab pertanyaan di bawah)"


def repeat_note(incident_id: int, minutes: int) -> str:
    ago = REPEAT_JUST_NOW if minutes < 1 else REPEAT_MINUTES_AGO.format(minutes=minutes)
    return REPEAT_NOTE.format(ago=ago, id=incident_id)


def _nik_lines(nik_warnings: tuple[str, ...]) -> list[str]:
    return [
        f"⚠️ NIK {esc(nik)} tidak berasal dari wilayah ini (6 angka awal NIK = kode kecamatan). "
        "Laporan tetap dicatat; periksa kembali NIK-nya."
        for nik in nik_warnings
    ]


def _state_lines(incident_id: int, updated: int | None, closed: bool) -> list[str]:
    """What a cumulative report did to its open incident: updated in place, closed automatically."""
    lines = []
    if updated is not None:
        lines.append(RECEIPT_UPDATED.format(number=updated, id=incident_id))
    if closed:
        lines.append(
            RECEIPT_CLOSED.format(id=incident_id, number=updated)
            if updated is not None
            else RECEIPT_CLOSED_FIRST.format(id=incident_id)
        )
    return lines


def receipt_incident_ids(text: str | None) -> list[int]:
    """Every incident a receipt (`receipt`) or a coalesced receipt (`receipts`) confirms, from its
    text as Telegram gives it back; [] for any other text."""
    single = receipt_incident_id(text)
    if single is not None:
        return [single]
    found = _RECEIPTS_HEAD.match(text or "")
    return [int(part.lstrip("#")) for part in found.group(1).split(", ")] if found else []


def receipt(
    incident: Incident,
    report: Report,
    path: tuple[Region, ...],
    nik_warnings: tuple[str, ...],
    duplicate: bool,
    *,
    repeat_minutes: int | None = None,
    updated: int | None = None,
    closed: bool = False,
) -> str:
    if duplicate:
        head = "✅ <b>Laporan #{id} sudah tercatat</b>"
    elif updated is not None:
        head = "✅ <b>Laporan #{id} diperbarui</b>"
    else:
        head = "✅ <b>Laporan #{id} diterima</b>"
    lines = [
        head.format(id=incident.id),
        f"Wilayah: {region_path(path)}",
        describe_report(report, Severity(incident.severity)),
        f"Status: {STATUS_LABEL[incident.status.value]}",
    ]
    if repeat_minutes is not None:
        lines.append(repeat_note(incident.id, repeat_minutes))
    if not duplicate:
        lines += _state_lines(incident.id, updated, closed)
    lines += _nik_lines(nik_warnings)
    lines.append(ATTACH_HINT)
    return "\n".join(lines)


class ReceiptPart(NamedTuple):
    """One stored report of a message of several, as the batch receipt lists it."""

    incident: Incident
    report: Report
    path: tuple[Region, ...]
    nik_warnings: tuple[str, ...]
    duplicate: bool
    repeat_minutes: int | None = None
    updated: int | None = None
    closed: bool = False


class HeldPart(NamedTuple):
    """One report of a message of several whose figure went down: asked on its own, not counted."""

    report: Report
    current: Report
    path: tuple[Region, ...]


def batch_receipt(parts: Sequence[ReceiptPart | HeldPart]) -> str:
    """One receipt for a message of several reports: each with its number, region and figures."""
    blocks = [BATCH_HEAD.format(count=len(parts))]
    for part in parts:
        if isinstance(part, HeldPart):
            blocks.append(
                BATCH_HELD.format(path=region_path(part.path)) + "\n" + describe_report(part.report).split("\n")[0]
            )
            continue
        incident = part.incident
        if part.duplicate:
            head = BATCH_KNOWN
        elif part.updated is not None:
            head = BATCH_UPDATED
        else:
            head = BATCH_NEW
        lines = [
            head.format(id=incident.id) + f" · {region_path(part.path)}",
            describe_report(part.report, Severity(incident.severity)),
        ]
        if part.repeat_minutes is not None:
            lines.append(repeat_note(incident.id, part.repeat_minutes))
        if not part.duplicate:
            lines += _state_lines(incident.id, part.updated, part.closed)
        lines += _nik_lines(part.nik_warnings)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


#: characters of a report's own words in a line of a coalesced receipt
RECEIPT_LINE_SHOWN = 60
#: reports named in one coalesced receipt at most (a line each: well within 4,096 characters)
RECEIPTS_PER_MESSAGE = 30
#: head of a coalesced receipt: `{ids}` the reports' numbers ("#101, #102")
RECEIPTS_HEAD = "✅ <b>Laporan Anda diterima: {ids}</b>"


def receipts(parts: Sequence[ReceiptPart]) -> str:
    """One receipt for several reports of one officer that waited together (Telegram's budget
    was spent on more urgent messages): each as a line with its mark, number, kind and a short
    summary (the figures as reported), then what else its own receipt would have said (already
    stored, a repeat, updated in place or closed at once, NIKs from another region). A report
    that updated an incident named before is not named twice in the head."""
    ids = ", ".join(f"#{number}" for number in dict.fromkeys(part.incident.id for part in parts))
    lines = [RECEIPTS_HEAD.format(ids=ids)]
    for part in parts:
        incident = part.incident
        summary = esc(shorten(plain_summary(incident), RECEIPT_LINE_SHOWN))
        again = " (sudah tercatat sebelumnya)" if part.duplicate else ""
        lines.append(
            f"{SEVERITY_MARK[incident.severity]} #{incident.id} {KIND_LABELS[incident.kind]}: {summary}{again}"
        )
        if part.repeat_minutes is not None:
            lines.append(repeat_note(incident.id, part.repeat_minutes))
        if not part.duplicate:
            lines += _state_lines(incident.id, part.updated, part.closed)
        lines += _nik_lines(part.nik_warnings)
    example = parts[-1].incident.id
    lines.append(
        f"Untuk melampirkan foto atau dokumen, balas pesan ini dengan keterangan nomor laporannya, misalnya "
        f"<code>#{example}</code>. Rincian: <code>/status &lt;nomor&gt;</code>."
    )
    return "\n".join(lines)


def receipts_in_messages(parts: Sequence[ReceiptPart]) -> list[int]:
    """How many of `parts`, in order, go in each coalesced receipt so every one fits in a message
    (at most `RECEIPTS_PER_MESSAGE` each; many NIK warnings or updates make a long one)."""
    sizes: list[int] = []
    start = 0
    for end in range(1, len(parts) + 1):
        if end - start > 1 and visible_size(receipts(parts[start:end])) > MESSAGE_LIMIT:
            sizes.append(end - 1 - start)
            start = end - 1
    if start < len(parts):
        sizes.append(len(parts) - start)
    return sizes


def attach_which(incident_ids: list[int]) -> str:
    """A file sent in reply to a coalesced receipt without the number of one of its reports."""
    ids = ", ".join(f"#{i}" for i in incident_ids)
    return (
        f"Pesan itu tanda terima beberapa laporan ({ids}); lampiran belum disimpan. Kirim ulang sebagai "
        f"balasan dengan keterangan nomor laporannya, misalnya <code>#{incident_ids[-1]}</code>. Lokasi tidak "
        f"bisa diberi keterangan: tulis letaknya dengan <code>/catatan {incident_ids[-1]} …</code>."
    )


#: characters of a note shown in a group card or a notice (/status shows it whole)
NOTE_SHOWN = 200
_DIGITS = frozenset("0123456789")
_TAG = re.compile(r"<[^>]*>")


def shorten(text: str, limit: int = NOTE_SHOWN) -> str:
    """`text` on one line, at most `limit` characters and "…". The cut falls at a space when one
    is near and never inside a run of digits, so a NIK is either whole (and masked on the way out)
    or left out — never half shown."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = limit
    while cut > 0 and text[cut - 1] in _DIGITS and text[cut] in _DIGITS:
        cut -= 1
    space = text.rfind(" ", max(0, cut - 30), cut + 1)
    if space > 0:
        cut = space
    return text[:cut].rstrip() + ELLIPSIS


def visible_size(html_text: str) -> int:
    """Length of Telegram HTML once parsed (tags dropped, entities decoded), in UTF-16 units as
    Telegram counts it."""
    return len(html.unescape(_TAG.sub("", html_text)).encode("utf-16-le")) // 2


def _event_lines(
    events: list[IncidentEvent], tz: tzinfo, region_names: Mapping[str, str], *, note_limit: int | None, dash: str
) -> list[tuple[IncidentEvent, str]]:
    """One line per event: who did what, where an escalation went, and the note."""
    out = []
    level = None  # the region the incident was handled at before each event
    for e in events:
        who = esc(e.actor_name) if e.actor_name else "sistem"
        if e.action == "lampiran":
            tail = f" {ATTACHMENT_LABEL.get(e.note, e.note).lower()}"
        elif e.action == "laporan":
            tail = f" ke-{esc(e.note)}"
        elif e.action == "selesai_otomatis" and e.note.startswith("#"):
            tail = ": " + SUPERSEDED_NOTE.format(id=esc(e.note[1:]))
        elif e.action == "selesai_otomatis":
            tail = ": " + AUTO_CLOSE_NOTE.format(number=esc(e.note))
        elif e.action == "prioritas":
            tail = ": " + DEADLINE_RAISED_NOTE.format(severity=esc(e.note))
        elif e.action in REMINDER_ACTIONS:
            tail = REMINDER_TAIL.format(minutes=esc(e.note)) if e.note.isdigit() else ""
        else:
            tail = ""
            moved = e.action in ("eskalasi", "eskalasi_otomatis") and e.region_code and e.region_code != level
            if moved and e.region_code:
                tail = f" ke {esc(region_names.get(e.region_code, e.region_code))}"
            if e.note:
                tail += f": {esc(e.note if note_limit is None else shorten(e.note, note_limit))}"
            level = e.region_code or level
        out.append((e, f"• {date_time(e.at, tz)}{dash}{who} {ACTION_LABEL.get(e.action, e.action)}{tail}"))
    return out


def status_messages(
    incident: Incident,
    report: Report,
    path: tuple[Region, ...],
    reporter_name: str,
    events: list[IncidentEvent],
    attachments: list[Attachment],
    tz: tzinfo,
    region_names: Mapping[str, str] | None = None,
) -> list[str]:
    """/status: the incident with its whole history, as messages below Telegram's limit (split
    between lines of the attachments and the history; a continuation repeats its title)."""

    mark = SEVERITY_MARK.get(incident.severity, "")
    blocks = [
        "\n".join(
            [
                f"{mark} <b>#{incident.id} {KIND_LABELS[incident.kind]}</b> — {STATUS_LABEL[incident.status.value]}",
                f"Wilayah: {region_path(path)}",
                f"Pelapor: {esc(reporter_name)}, {date_time(incident.reported_at, tz)}",
                describe_report(report, Severity(incident.severity)),
            ]
        )
    ]
    if attachments:
        lines = [f"<b>Lampiran ({len(attachments)})</b>"]
        for a in attachments:
            if a.kind == "lokasi":
                lines.append(f"• Lokasi {a.latitude:.5f}, {a.longitude:.5f}")
            else:
                detail = esc(a.file_name) if a.file_name else (f"{a.width}×{a.height}" if a.width else "")
                lines.append(f"• {ATTACHMENT_LABEL[a.kind]} {detail}".rstrip() + f" ({date_time(a.added_at, tz)})")
        blocks.append("\n".join(lines))
    history = [line for _, line in _event_lines(events, tz, region_names or {}, note_limit=None, dash=" — ")]
    blocks.append("\n".join(["<b>Riwayat</b>", *history]))
    return split_messages(blocks)


STATUS_USAGE = "Bentuk: <code>/status &lt;nomor&gt;</code>\nContoh: <code>/status 12</code>"


def status_not_found(incident_id: int | str) -> str:
    return f"Laporan #{esc(incident_id)} tidak ditemukan."


def attached(incident_id: int, kind: str) -> str:
    return f"📎 {ATTACHMENT_LABEL[kind]} dilampirkan ke laporan #{incident_id}."


def already_attached(incident_id: int) -> str:
    return f"Lampiran ini sudah tercatat di laporan #{incident_id}."


# --- the guided flow --------------------------------------------------------------------------

FLOW_CHOOSE_KIND = "Apa yang ingin Anda laporkan? (ketik /batal untuk membatalkan)"
FLOW_CHOOSE_ITEM = "Barang apa?"
FLOW_CHOOSE_PROBLEM = "Masalah data apa?"
FLOW_CHOOSE_SEVERITY = "Seberapa gawat kejadiannya?"
FLOW_ASK_REGION = (
    "Untuk kecamatan mana? Ketik nama atau kode kecamatan (misalnya <code>kuta</code> atau <code>51.03.01</code>)."
)


def flow_ask_region_own(region: Region) -> str:
    return (
        f"Untuk wilayah mana? Tekan tombol untuk {esc(region.title)}, atau ketik nama/kode wilayah lain di bawah Anda."
    )


FLOW_ASK_LOGISTIK = (
    "Ketik jumlah yang <b>sudah diterima</b> (total sampai sekarang), boleh dengan kebutuhan dan rusak:\n"
    "<code>118</code> atau <code>118/120 rusak 2 dua kotak penyok</code>"
)
FLOW_ASK_DATA = "Ketik jumlah pemilih dan keterangan:\n<code>14 pemilih ganda di Desa Kuta</code>"
FLOW_ASK_HITUNG = (
    "Ketik TPS yang selesai dihitung (dan jumlah TPS bila belum diimpor), dan C.Hasil yang sudah diunggah ke "
    "Sirekap bila ada:\n<code>180/205 sirekap 150</code>"
)
FLOW_ASK_REKAP = "Ketik jenis pemilihan dan desa selesai/jumlah desa:\n<code>dpr 12/18</code>"
FLOW_ASK_INSIDEN = "Ceritakan kejadiannya dalam satu pesan."


def flow_confirm(summary_html: str, path: tuple[Region, ...]) -> str:
    return f"Periksa laporan Anda:\nWilayah: {region_path(path)}\n{summary_html}\n\nKirim laporan ini?"


FLOW_SEND = "✅ Kirim"
FLOW_CANCEL_BUTTON = "✖️ Batal"
FLOW_CANCELLED = "Laporan dibatalkan. Tidak ada yang disimpan."
FLOW_TIMEOUT = "Pengisian laporan dihentikan karena tidak ada jawaban 10 menit. Mulai lagi dengan /lapor."
FLOW_NOTHING_TO_CANCEL = "Tidak ada yang sedang diisi."
FLOW_EXPIRED_BUTTON = "Tombol ini sudah tidak berlaku. Mulai lagi dengan /lapor."
FLOW_IN_GROUP = "Isi laporan lewat chat pribadi agar grup tetap rapi:"
FLOW_IN_GROUP_BUTTON = "📝 Isi laporan"
FLOW_GROUP_NOT_REGISTERED = (
    "Grup ini bukan grup koordinasi terdaftar, jadi laporan tidak diterima di sini. "
    "Kirim laporan lewat chat pribadi dengan bot:"
)
FLOW_TYPE_PLEASE = "Pilih salah satu tombol di atas, atau ketik /batal."

# --- coordination: group posts, buttons, lifecycle answers ------------------------------------

BUTTON_TAKE = "🙋 Tangani"
BUTTON_ESCALATE = "⬆️ Eskalasi"
BUTTON_RESOLVE = "✅ Selesai"


CARD_HISTORY = 4


def _short_report(report: Report) -> Report:
    """The report with its free text shortened like a note (for a card that would not fit)."""
    for name in ("note", "description"):
        if getattr(report, name, ""):
            # mypy cannot type replace() over a union of dataclasses; `name` is a field of this one
            return dataclasses.replace(report, **{name: shorten(getattr(report, name))})  # type: ignore[arg-type]
    return report


def card(
    incident: Incident,
    report: Report,
    path: tuple[Region, ...],
    reporter_name: str,
    assignee_name: str | None,
    events: list[IncidentEvent],
    tz: tzinfo,
    *,
    moved_to: str | None = None,
    region_names: Mapping[str, str] | None = None,
) -> str:
    """A group post: what, where, who, the current status and the latest history, always below
    Telegram's 4,096 characters: the report's own text is shortened, then history left out, only
    when it would not fit otherwise."""
    short = _short_report(report)
    for rep, history in ((report, CARD_HISTORY), (short, CARD_HISTORY), (short, 1), (short, 0)):
        text = _card(
            incident, rep, path, reporter_name, assignee_name, events, tz, moved_to, region_names or {}, history
        )
        if visible_size(text) < MESSAGE_LIMIT:
            break
    return text


def _card(
    incident: Incident,
    report: Report,
    path: tuple[Region, ...],
    reporter_name: str,
    assignee_name: str | None,
    events: list[IncidentEvent],
    tz: tzinfo,
    moved_to: str | None,
    region_names: Mapping[str, str],
    history: int,
) -> str:
    mark = SEVERITY_MARK.get(incident.severity, "")
    status = STATUS_LABEL[incident.status.value]
    rejection = [e for e in events if e.action == "tolak"][-1:] if incident.status is Status.DITOLAK else []
    if incident.status.value == "ditangani" and assignee_name:
        status = f"sedang ditangani oleh {esc(assignee_name)}"
    elif incident.status.value == "selesai":
        status = "selesai" + (f" oleh {esc(assignee_name)}" if assignee_name else "")
    elif rejection and rejection[0].actor_name:
        status = f"ditolak oleh {esc(rejection[0].actor_name)}"
    lines = [
        f"{mark} <b>#{incident.id} {KIND_LABELS[incident.kind]} — {incident.severity}</b>",
        f"Wilayah: {region_path(path)}",
        f"Pelapor: {esc(reporter_name)}, {date_time(incident.reported_at, tz)}",
        describe_report(report),
        f"Status: <b>{status}</b>",
    ]
    if incident.status is Status.DITOLAK:
        lines.append(CARD_REJECTED.format(id=incident.id))
    stale_since = flagged_since(events) if incident.status is Status.DITANGANI else None
    if stale_since is not None:
        lines.append(CARD_STALE.format(since=date_time(stale_since, tz)))
    if moved_to and not incident.status.closed:
        lines.append(f"⬆️ Dieskalasi ke {esc(moved_to)}.")
    if incident.escalations and not moved_to:
        lines.append(f"Eskalasi ke-{incident.escalations}.")
    lines_of = [
        line
        for e, line in _event_lines(events, tz, region_names, note_limit=NOTE_SHOWN, dash=" ")
        if e.action != "lapor"
    ]
    recent = lines_of[-history:] if history else []
    if recent:
        lines.append("<i>Riwayat:</i>")
        lines += recent
    if len(lines_of) > len(recent):
        lines.append(f"<i>(+{len(lines_of) - len(recent)} lainnya — /status {incident.id})</i>")
    return "\n".join(lines)


#: a rejected report's card: why it no longer counts, and the way back
CARD_REJECTED = "❌ Laporan ini salah (ditolak) dan tidak dihitung di ringkasan. Buka kembali: /buka {id}"
#: a taken incident nobody updated for twice REMIND_TAKEN_MIN
CARD_STALE = "⏰ <b>Belum ada pembaruan</b> sejak {since}."


def reminder(incident: Incident, path: tuple[Region, ...], minutes: int) -> str:
    """The private reminder to whoever took an incident and left it without an update."""
    mark = SEVERITY_MARK.get(incident.severity, "")
    summary = shorten(plain_summary(incident), NOTE_SHOWN)
    return "\n".join(
        [
            f"⏰ <b>Pengingat</b>: {mark} #{incident.id} {KIND_LABELS[incident.kind]} — {incident.severity}",
            f"Wilayah: {region_path(path)}",
            esc(summary),
            f"Anda menangani laporan ini, tetapi belum ada pembaruan selama {minutes} menit.",
            f"Kirim perkembangannya: <code>/catatan {incident.id} &lt;teks&gt;</code>; bila sudah beres: "
            f"<code>/selesai {incident.id} &lt;catatan&gt;</code>; bila perlu bantuan tingkat atas: "
            f"<code>/eskalasi {incident.id} &lt;alasan&gt;</code>.",
        ]
    )


def rejected_to_reporter(incident_id: int, by: str, reason: str) -> str:
    extra = f": {esc(shorten(reason))}" if reason else "."
    return (
        f"❌ Laporan Anda #{incident_id} ditolak oleh {esc(by)}{extra}\n"
        "Laporan ini tidak dihitung lagi. Bila ada angka yang benar, kirim laporan baru dengan /lapor."
    )


def reopened_to_reporter(incident_id: int, by: str, reason: str) -> str:
    extra = f": {esc(shorten(reason))}" if reason else "."
    return f"↩️ Laporan Anda #{incident_id} dibuka kembali oleh {esc(by)}{extra} Laporan ini dihitung lagi."


def resolved_notice(incident_id: int, by: str, note: str) -> str:
    extra = f": {esc(shorten(note))}" if note else "."
    return f"✅ Laporan #{incident_id} telah diselesaikan oleh {esc(by)}{extra}"


def auto_resolved_notice(incident_id: int, note: str) -> str:
    """The groups' notice of an incident the bot closed itself: a report showed it complete (`note`
    the report's number), or a later report of the same kecamatan and item carries its figures
    (`note` "#<that incident>")."""
    reason = (
        SUPERSEDED_NOTE.format(id=esc(note[1:])) if note.startswith("#") else AUTO_CLOSE_NOTE.format(number=esc(note))
    )
    return f"✅ Laporan #{incident_id} selesai otomatis: {reason}."


def resolved_to_reporter(incident_id: int, by: str, note: str) -> str:
    extra = f"\nCatatan: {esc(shorten(note))}" if note else ""
    return f"✅ Laporan Anda #{incident_id} telah diselesaikan oleh {esc(by)}.{extra}"


MOVE_DONE = {
    "tangani": "🙋 Anda menangani laporan #{id}.",
    "eskalasi": "⬆️ Laporan #{id} dieskalasi ke {to}.",
    "selesai": "✅ Laporan #{id} ditandai selesai.",
    "catatan": "📝 Catatan ditambahkan ke laporan #{id}.",
    "tolak": "❌ Laporan #{id} ditolak: tidak dihitung lagi di ringkasan. Kartunya di grup ikut diperbarui.",
    "buka": "↩️ Laporan #{id} dibuka kembali (status baru) dan dihitung lagi.",
}
ESCALATED_NO_GROUP = " Belum ada grup koordinasi terdaftar di tingkat itu atau di atasnya."

MOVE_REFUSED = {
    "not_found": "Laporan #{id} tidak ditemukan.",
    "already_taken": "Laporan #{id} sudah ditangani oleh {who}.",
    "already_done": "Laporan #{id} sudah selesai.",
    "at_top": "Laporan #{id} sudah di tingkat tertinggi; tidak bisa dieskalasi lagi.",
    "note_required": "Tulis catatannya: <code>/catatan {id} &lt;teks&gt;</code>",
    "conflict": "Laporan #{id} baru saja berubah. Lihat /status {id} lalu coba lagi.",
    "note_too_long": "Catatan terlalu panjang ({length} karakter). Paling banyak {limit} karakter; "
    "persingkat lalu kirim lagi. Laporan #{id} tidak diubah.",
    "already_rejected": "Laporan #{id} sudah ditolak. Untuk menghitungnya lagi: /buka {id}",
    "reason_required": "Tulis alasannya: <code>/tolak {id} &lt;alasan&gt;</code>, "
    "misalnya <code>/tolak {id} salah ketik, seharusnya 120</code>",
    "not_closed": "Laporan #{id} masih terbuka; /buka hanya untuk laporan yang selesai atau ditolak.",
    "state_open": "Laporan #{id} tidak dibuka kembali: untuk kecamatan dan barang yang sama sudah ada laporan "
    "terbuka #{other}. Lihat /status {other}.",
    "progress": "Laporan #{id} adalah laporan progres (angka rutin), bukan masalah, jadi tidak dieskalasi. "
    "Bila ada masalah, laporkan dengan <code>/lapor insiden &lt;uraian&gt;</code>.",
}

#: answerCallbackQuery text is plain text (not parsed) and at most 200 characters
ALERT_LIMIT = 200


def plain_template(template: str) -> str:
    """An HTML sentence template as plain text for an alert (tags dropped, entities decoded); the
    values put in afterwards stay as they are."""
    return html.unescape(_TAG.sub("", template))


def alert(text: str) -> str:
    """A sentence as a button alert: plain, at most 200 characters."""
    return text if len(text) <= ALERT_LIMIT else text[: ALERT_LIMIT - 1] + ELLIPSIS


LIFECYCLE_USAGE = {
    "tangani": "Bentuk: <code>/tangani &lt;nomor&gt;</code>\nContoh: <code>/tangani 12</code>",
    "eskalasi": "Bentuk: <code>/eskalasi &lt;nomor&gt; [alasan]</code>\nContoh: <code>/eskalasi 12 butuh bantuan provinsi</code>",
    "selesai": "Bentuk: <code>/selesai &lt;nomor&gt; [catatan]</code>\nContoh: <code>/selesai 12 kotak pengganti tiba</code>",
    "catatan": "Bentuk: <code>/catatan &lt;nomor&gt; &lt;teks&gt;</code>\nContoh: <code>/catatan 12 tim sudah di lokasi</code>",
    "tolak": "Bentuk: <code>/tolak &lt;nomor&gt; &lt;alasan&gt;</code> (laporan salah baca, ganda atau uji coba: "
    "tidak dihitung lagi)\nContoh: <code>/tolak 12 salah ketik, seharusnya 120</code>",
    "buka": "Bentuk: <code>/buka &lt;nomor&gt; [alasan]</code> (laporan selesai atau ditolak dibuka kembali)\n"
    "Contoh: <code>/buka 12 ternyata belum beres</code>",
}
BUTTON_OUTDATED = "Tombol ini dari versi lama. Gunakan /status dan perintahnya, misalnya /tangani 12."

# --- /insiden ---------------------------------------------------------------------------------

INSIDEN_USAGE = (
    "Bentuk: <code>/insiden [logistik|data|rekap|insiden] [terbuka|semua]</code>\n"
    "Contoh: <code>/insiden insiden terbuka</code>"
)


PROGRESS_LEFT_OUT = (
    "Laporan progres (rekap, logistik lengkap tanpa kerusakan) tidak ditampilkan: "
    "lihat dengan /insiden rekap, /insiden logistik atau /insiden semua."
)


def incident_list(
    items: list[tuple[Incident, str]],
    page: int,
    pages: int,
    total: int,
    kind: str | None,
    open_only: bool,
    tz: tzinfo,
    progress_left_out: bool = False,
) -> str:
    what = KIND_LABELS[kind].lower() if kind else "semua jenis"
    state = "terbuka" if open_only else "semua status"
    if not items:
        empty = f"Tidak ada laporan ({what}, {state}) di wilayah Anda."
        return f"{empty}\n{PROGRESS_LEFT_OUT}" if progress_left_out else empty
    lines = [f"<b>Laporan {what}, {state}</b> — {total} laporan, halaman {page}/{pages}"]
    for incident, region_name in items:
        mark = SEVERITY_MARK.get(incident.severity, "")
        summary = list_summary(incident)
        lines.append(
            f"{mark} <b>#{incident.id}</b> {KIND_LABELS[incident.kind]} · {esc(region_name)} · "
            f"{STATUS_LABEL[incident.status.value]} · {date_time(incident.reported_at, tz)}"
            + (f"\n    {esc(summary)}" if summary else "")
        )
    lines.append("Rincian: /status &lt;nomor&gt;")
    if progress_left_out:
        lines.append(PROGRESS_LEFT_OUT)
    return "\n".join(lines)


#: characters of an incident's summary in /insiden
LIST_SUMMARY = 80


def list_summary(incident: Incident) -> str:
    """An incident in /insiden: its label and figures ("Kotak suara diterima 700/1.025"), then its
    own words, shortened; plain text."""
    figures = plain_summary(incident)
    if figures != incident.description and incident.description:
        figures = f"{figures} — {incident.description}"
    return shorten(figures, LIST_SUMMARY)


PAGE_PREV = "◀"
PAGE_NEXT = "▶"
LIST_NOT_YOURS = "Daftar ini milik yang memintanya. Ketik /insiden untuk melihat daftar Anda sendiri."

# --- /ekspor ------------------------------------------------------------------------------------

EKSPOR_USAGE = "Bentuk: <code>/ekspor [hari]</code> (bawaan 7, paling banyak 90)\nContoh: <code>/ekspor 30</code>"


def ekspor_caption(count: int, days: int, path_text: str) -> str:
    return f"📄 {count} laporan {days} hari terakhir, {path_text}. NIK disamarkan."


#: characters of an incident's summary on a button
BUTTON_SUMMARY = 40


def incident_label(incident: Incident) -> str:
    """An incident on a button, plain text: "Logistik: Kotak suara diterima 700/1.025"."""
    return f"{kind_label(incident.kind)}: {shorten(plain_summary(incident), BUTTON_SUMMARY)}"


def refusal_alert(why: Refusal) -> str:
    """A refusal as a button alert (plain text, at most 200 characters)."""
    return alert(html.unescape(_TAG.sub("", refusal_text(why))))
