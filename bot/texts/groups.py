"""User-visible sentences of coordination groups (/grup) and the bot joining or leaving them."""

from __future__ import annotations

from bot.texts.common import esc, quoted

GRUP_USAGE = (
    "Bentuk: <code>/grup &lt;kode_wilayah&gt;</code> (di grup yang akan dijadikan grup koordinasi)\n"
    "Contoh: <code>/grup 51.03</code>"
)
GRUP_GROUPS_ONLY = "Perintah /grup dipakai di dalam grup, bukan di chat pribadi."


def grup_bad_region(text: str) -> str:
    return f"Kode wilayah «{quoted(text)}» tidak ditemukan. Cari kodenya dengan /wilayah.\n{GRUP_USAGE}"


def grup_registered(path_text: str, topic: bool, moved_from_chat: bool, previous_region: str | None) -> str:
    lines = [f"✅ Grup ini sekarang grup koordinasi <b>{path_text}</b>."]
    if topic:
        lines.append("Laporan akan dikirim ke topik ini.")
    lines.append(
        "Laporan tingkat tinggi dan kritis di wilayah ini akan dikirim ke sini dengan tombol "
        "Tangani, Eskalasi dan Selesai."
    )
    if moved_from_chat:
        lines.append("(Wilayah ini sebelumnya punya grup lain; grup itu tidak lagi menerima laporannya.)")
    if previous_region:
        lines.append(f"(Sebelumnya grup ini untuk wilayah {esc(previous_region)}.)")
    return "\n".join(lines)


def grup_moved_away(path_text: str, new_title: str) -> str:
    """To the group a region was moved away from (by /grup in another group)."""
    return (
        f"ℹ️ Wilayah <b>{path_text}</b> sekarang dikoordinasikan di grup «{esc(new_title)}». Grup ini tidak "
        "lagi menerima laporan dan ringkasan terjadwal wilayah itu."
    )


WELCOME_IN_GROUP = (
    "Halo! Saya bot koordinasi KPU. Komisioner wilayah ini dapat mendaftarkan grup dengan "
    "<code>/grup &lt;kode_wilayah&gt;</code>."
)

# --- digest schedules and on-demand digests ----------------------------------------------------

JADWAL_USAGE = (
    "Bentuk: <code>/jadwal HH:MM[,HH:MM…]</code> atau <code>/jadwal mati</code> (waktu setempat, paling "
    "banyak 6)\nContoh: <code>/jadwal 07:00,17:00</code>"
)
JADWAL_GROUP_NOT_REGISTERED = (
    "Grup ini belum menjadi grup koordinasi. Daftarkan dulu dengan <code>/grup &lt;kode_wilayah&gt;</code>."
)


def jadwal_set(times: list[str], zone: str, path_text: str) -> str:
    return f"🗓 Ringkasan <b>{path_text}</b> akan dikirim setiap hari pukul {', '.join(times)} {esc(zone)}."


JADWAL_OFF = "🗓 Ringkasan terjadwal dimatikan. Ringkasan tetap bisa diminta dengan /ringkasan."


def jadwal_now(times: list[str], zone: str) -> str:
    if not times:
        return "Belum ada ringkasan terjadwal. " + JADWAL_USAGE
    return f"Ringkasan terjadwal: {', '.join(times)} {esc(zone)}.\n" + JADWAL_USAGE


def too_soon(seconds: int) -> str:
    return f"Ringkasan baru saja dikirim. Coba lagi dalam {seconds} detik."
