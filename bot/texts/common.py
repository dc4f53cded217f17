"""User-visible sentences of registration, help, regions and errors (Bahasa Indonesia, HTML).

Every user-supplied string is escaped with `esc` before it is put into a message.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from bot.domain.access import Reason
from bot.domain.models import Region, RegionMatch, Role
from bot.texts.formatting import date_time


def esc(text: object) -> str:
    return escape(str(text), quote=False)


#: how much of what a user typed an answer quotes back («…»): a 4,000-character query echoed in
#: full would make the answer longer than Telegram takes (4,096), and nobody reads it anyway
QUOTE_LIMIT = 80


def quoted(text: str) -> str:
    """What the user typed, escaped and cut to `QUOTE_LIMIT` characters (… when cut)."""
    text = str(text)
    return esc(text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + "…")


ROLE_LABEL = {
    Role.PETUGAS: "Petugas (PPK/PPS, operator lapangan)",
    Role.KOORDINATOR: "Koordinator (sekretariat, Kasubag)",
    Role.KOMISIONER: "Komisioner KPU",
    Role.ADMIN: "Admin",
}

#: what each role can do, in one short paragraph for the greeting
ROLE_CAN = {
    Role.PETUGAS: "melaporkan logistik, masalah data pemilih, progres penghitungan dan rekapitulasi, dan kejadian "
    "di wilayah Anda, "
    "serta melihat dan menindaklanjuti laporan Anda sendiri.",
    Role.KOORDINATOR: "melakukan semua yang bisa dilakukan petugas, ditambah melihat, menangani, mengeskalasi dan "
    "menyelesaikan semua laporan di wilayah Anda, serta mengundang petugas.",
    Role.KOMISIONER: "melakukan semua yang bisa dilakukan koordinator, ditambah mendaftarkan grup koordinasi, mengatur "
    "jadwal ringkasan, mengundang koordinator/petugas dan mencabut akses pengguna di wilayah Anda.",
    Role.ADMIN: "melakukan semua perintah, di seluruh wilayah, termasuk mengundang peran apa pun.",
}

NOT_REGISTERED = (
    "Bot ini khusus untuk jajaran KPU dan badan ad hoc (PPK/PPS).\n"
    "Untuk mendaftar, mintalah <b>tautan undangan</b> kepada koordinator atau komisioner KPU "
    "kabupaten/kota Anda, lalu buka tautan itu."
)

ERROR_APOLOGY = "Maaf, terjadi gangguan saat memproses pesan Anda. Silakan coba lagi sebentar lagi."
#: the database could not take a report (busy beyond its wait, read-only, full): nothing stored
NOT_STORED_BUSY = "Sistem sedang sibuk, laporan <b>BELUM</b> tersimpan. Kirim ulang sebentar lagi."
#: the same for any other command: nothing was changed
NOT_DONE_BUSY = "Sistem sedang sibuk, perintah Anda <b>belum</b> dijalankan. Kirim ulang sebentar lagi."

REFUSAL = {
    Reason.NOT_REGISTERED: "Anda belum terdaftar. Minta tautan undangan kepada koordinator Anda.",
    Reason.REVOKED: "Akses Anda sudah dicabut. Hubungi koordinator atau komisioner Anda.",
    Reason.ROLE: "Peran Anda tidak berwenang untuk perintah ini.",
    Reason.SCOPE: "Wilayah itu di luar wilayah kerja Anda.",
    Reason.NOT_OWN: "Anda hanya boleh melakukan ini pada laporan Anda sendiri.",
    Reason.ROLE_TOO_HIGH: "Anda tidak berwenang mengundang atau mencabut peran setingkat itu.",
}


def refusal(reason: Reason | str) -> str:
    return REFUSAL.get(Reason(reason), REFUSAL[Reason.ROLE])


def region_path(path: tuple[Region, ...] | list[Region]) -> str:
    return " › ".join(esc(r.name) for r in path)


def greeting_registered(name: str, role: Role, region_path_text: str) -> str:
    lines = [
        f"Selamat datang, <b>{esc(name)}</b>! Anda terdaftar sebagai <b>{ROLE_LABEL[role]}</b> "
        f"untuk wilayah <b>{region_path_text}</b>.",
        "",
        f"Anda dapat {ROLE_CAN[role]}",
        "",
        "Ketik /bantuan untuk daftar perintah.",
    ]
    return "\n".join(lines)


def greeting_again(name: str, role: Role, region_path_text: str) -> str:
    return (
        f"Halo, <b>{esc(name)}</b>. Anda terdaftar sebagai <b>{ROLE_LABEL[role]}</b> "
        f"untuk wilayah <b>{region_path_text}</b>.\n\nAnda dapat {ROLE_CAN[role]}\n\n"
        "Ketik /bantuan untuk daftar perintah."
    )


INVITE_UNKNOWN = "Tautan undangan ini tidak dikenal. Periksa kembali tautannya atau minta undangan baru."
INVITE_USED = "Tautan undangan ini sudah pernah dipakai. Setiap undangan hanya berlaku sekali; minta undangan baru."
INVITE_EXPIRED = "Tautan undangan ini sudah kedaluwarsa (berlaku 7 hari). Minta undangan baru."


def invite_not_for_registered(role: Role, region_path_text: str) -> str:
    return (
        f"Anda sudah terdaftar sebagai <b>{ROLE_LABEL[role]}</b> untuk wilayah <b>{region_path_text}</b>; "
        "undangan ini tidak dipakai dan tetap berlaku. Untuk berganti peran atau wilayah, minta akses Anda "
        "dicabut dulu (/cabut), lalu buka tautan ini lagi."
    )


def help_text(role: Role, lines: list[tuple[str, str]]) -> str:
    body = "\n".join(f"/{cmd} — {esc(desc)}" for cmd, desc in lines)
    return f"<b>Perintah untuk {ROLE_LABEL[role]}</b>\n{body}"


UNDANG_USAGE = (
    "Bentuk: <code>/undang &lt;peran&gt; &lt;kode_wilayah&gt;</code>\n"
    "Peran: petugas, koordinator, komisioner, admin.\n"
    "Contoh: <code>/undang petugas 51.03.01</code>"
)
UNDANG_PRIVATE_ONLY = "Demi keamanan, undangan hanya dibuat di chat pribadi dengan bot."


def undang_bad_role(text: str) -> str:
    return f"Peran «{quoted(text)}» tidak dikenal.\n{UNDANG_USAGE}"


def undang_bad_region(text: str) -> str:
    return f"Kode wilayah «{quoted(text)}» tidak ditemukan. Cari kodenya dengan /wilayah.\n{UNDANG_USAGE}"


def invite_created(role: Role, path_text: str, link: str, expires_local: datetime) -> str:
    return (
        f"Undangan <b>{role.value}</b> untuk <b>{path_text}</b>:\n{esc(link)}\n\n"
        f"Berlaku sekali pakai sampai {date_time(expires_local, expires_local.tzinfo or UTC)}. "
        "Kirim tautan ini hanya kepada orang yang dituju."
    )


CABUT_USAGE = "Bentuk: <code>/cabut &lt;id_telegram&gt;</code>\nContoh: <code>/cabut 123456789</code>"
CABUT_UNKNOWN = "Pengguna itu tidak ditemukan atau sudah tidak aktif."
CABUT_SELF = "Anda tidak dapat mencabut akses Anda sendiri."
CABUT_BOOTSTRAP = (
    "Admin dari BOT_ADMIN_IDS tidak dapat dicabut lewat chat. Hapus dulu id-nya dari BOT_ADMIN_IDS dan "
    "mulai ulang bot; sesudah itu admin lain dapat mencabutnya dengan /cabut."
)


def cabut_done(name: str, telegram_id: int) -> str:
    return f"Akses <b>{esc(name)}</b> ({telegram_id}) telah dicabut."


def cabut_notice() -> str:
    return "Akses Anda ke bot koordinasi KPU telah dicabut. Hubungi komisioner Anda bila ini keliru."


WILAYAH_USAGE = (
    "Bentuk: <code>/wilayah &lt;nama atau kode&gt;</code>\n"
    "Contoh: <code>/wilayah kuta</code> atau <code>/wilayah 51.03</code>"
)


def wilayah_none(query: str) -> str:
    return f"Tidak ada wilayah yang cocok dengan «{quoted(query)}»."


def wilayah_results(query: str, matches: list[RegionMatch], more: bool) -> str:
    lines = [f"Wilayah untuk «{quoted(query)}»:"]
    for m in matches:
        alias = f" (juga: {esc(m.matched_alias)})" if m.matched_alias else ""
        lines.append(f"<code>{m.region.code}</code> {region_path(m.path)}{alias}")
    if more:
        lines.append("… dan lainnya; perjelas pencarian Anda.")
    return "\n".join(lines)


def edited_report(incident_id: int | None) -> str:
    """The answer to an edited /lapor message: edits are not read again."""
    which = f"Laporan #{incident_id} tetap seperti semula" if incident_id is not None else "Tidak ada yang dicatat"
    return (
        f"✏️ {which}: pesan yang diedit tidak dibaca ulang. Untuk mengoreksi, kirim /lapor baru dengan "
        "angka yang benar; laporan terbaru yang dihitung."
    )
