"""/siaran (a broadcast to every active user in the sender's scope) and the counting reminder a
silent kecamatan's petugas receive: every sentence of both."""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Final

from bot.texts.common import esc
from bot.texts.formatting import date_time, duration, number

#: the longest broadcast text, in characters (its header and Telegram's 4,096 leave room)
SIARAN_MAX: Final = 3500

SIARAN_USAGE: Final = (
    "Bentuk: <code>/siaran &lt;teks&gt;</code> — pesan ke semua pengguna aktif di wilayah Anda, lewat chat pribadi.\n"
    f"Paling panjang {number(SIARAN_MAX)} karakter.\n"
    "Contoh: <code>/siaran Rapat koordinasi logistik besok 09.00 WITA di kantor KPU Badung.</code>"
)
#: the scope of an admin's broadcast
EVERYWHERE: Final = "seluruh wilayah"
SIARAN_PRIVATE_ONLY: Final = "Kirim /siaran di chat pribadi dengan bot, agar balasannya hanya untuk Anda."


def siaran_queued(recipients: int, scope: str) -> str:
    """The sender's answer as soon as the broadcast is queued."""
    if not recipients:
        return f"📣 Tidak ada pengguna aktif lain di {scope}: siaran tidak dikirim ke siapa pun."
    return (
        f"📣 Siaran sedang dikirim ke <b>{number(recipients)}</b> pengguna di {scope} "
        "(sekitar 30 pesan per detik). Anda diberi tahu bila selesai."
    )


def siaran_message(text: str, sender_name: str, sender_office: str) -> str:
    """What each recipient reads: who sent it, then the text as typed (escaped)."""
    return f"📣 <b>Siaran dari {esc(sender_name)}</b> ({esc(sender_office)})\n\n{esc(text)}"


def siaran_done(broadcast_id: int, sent: int, blocked: int, failed: int) -> str:
    """The sender's outcome once every message is sent or given up."""
    lines = [f"✅ Siaran #{broadcast_id} terkirim ke <b>{number(sent)}</b> pengguna."]
    if blocked:
        lines.append(f"🚫 {number(blocked)} pengguna memblokir bot atau akunnya dihapus: tidak terkirim.")
    if failed:
        lines.append(f"⚠️ {number(failed)} pesan gagal dikirim (lihat log bot).")
    return "\n".join(lines)


# --- counting silence ----------------------------------------------------------------------------


def counting_reminder(kecamatan: str, last_report: datetime | None, silent_for: timedelta, tz: tzinfo) -> str:
    """The private reminder to a petugas of a kecamatan without a counting report for a while."""
    if last_report is None:
        head = f"⏰ PPK {esc(kecamatan)} belum mengirim laporan penghitungan suara hari ini."
    else:
        head = (
            f"⏰ PPK {esc(kecamatan)} belum mengirim laporan penghitungan suara selama {duration(silent_for)} "
            f"(terakhir {date_time(last_report, tz)})."
        )
    return (
        f"{head}\n"
        "Kirim TPS yang sudah selesai dihitung dan C.Hasil yang sudah diunggah ke Sirekap:\n"
        "<code>/lapor hitung &lt;tps_selesai&gt;/&lt;tps_total&gt; sirekap &lt;n&gt;</code>\n"
        "Contoh: <code>/lapor hitung 180/205 sirekap 150</code>"
    )
