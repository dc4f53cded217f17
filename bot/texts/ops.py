"""Messages to the operators' chat (`OPS_CHAT_ID`): what went wrong, how often, what to check.

The operators are the deployment's IT officers; the alerts say what happened and where to look
(the log, the service), never the token and never a NIK.
"""

from __future__ import annotations

from bot.texts.common import esc


def handler_error(error: str, where: str) -> str:
    return (
        "⚠️ <b>Galat saat memproses pesan</b>\n"
        f"{esc(error)}\n"
        f"Perintah/pembaruan: {esc(where)}\n"
        "Pengguna sudah diberi tahu. Rincian (traceback) ada di log bot."
    )


def notification_given_up(outbox_id: int, incident_id: int, chat_id: int, error: str) -> str:
    return (
        f"⚠️ <b>Notifikasi laporan #{incident_id} tidak terkirim</b> ke chat {chat_id} dan tidak dicoba lagi.\n"
        f"Alasan Telegram: {esc(error)}\n"
        f"(antrean #{outbox_id}; periksa apakah bot masih anggota grup itu)"
    )


def digest_given_up(chat_id: int, times: str) -> str:
    return (
        f"⚠️ <b>Ringkasan jam {esc(times)} untuk chat {chat_id} gagal dikirim</b> dan dilewati sampai "
        "jadwal berikutnya. Kirim /ringkasan di grup itu untuk mengirimnya sekarang; rincian di log bot."
    )


def second_instance(database: str, pid: int | None, host: str) -> str:
    holder = f"pid {pid}" if pid is not None else "proses lain"
    return (
        "⚠️ <b>Bot kedua ditolak</b>\n"
        f"Di server {esc(host)} ada yang mencoba menjalankan bot kedua pada basis data {esc(database)}, "
        f"yang sudah dipakai {holder}. Bot yang berjalan tidak terganggu; periksa layanan (systemd/docker) "
        "agar bot hanya dijalankan sekali."
    )


def polling_conflict() -> str:
    return (
        "⚠️ <b>Telegram menolak getUpdates (409 Conflict)</b>\n"
        "Ada proses lain, di server lain, yang memakai token bot ini (atau webhook masih terpasang). "
        "Dua bot dengan satu token saling merebut pesan: hentikan yang lain, atau ganti token lewat BotFather."
    )


def repeated(count: int) -> str:
    return f"\n(terjadi {count} kali lagi sejak peringatan terakhir)"


def held_back(count: int) -> str:
    return f"\n({count} peringatan lain ditahan agar chat ini tidak banjir pesan; lihat log bot)"
