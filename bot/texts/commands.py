"""The command catalogue: every command the bot answers, what right it needs, its menu line.

`/bantuan` and the Telegram command menu (setMyCommands) are both built from this one list, so
a user is only ever shown commands their role can use.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.access import Action, Grant, grant_for
from bot.domain.models import Role


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    description: str  # menu line, ≤ 256 characters, Indonesian
    action: Action | None  # None: every registered user


CATALOGUE: tuple[Command, ...] = (
    Command("lapor", "Kirim laporan (logistik, data, hitung, rekap, insiden)", Action.LAPOR),
    Command("status", "Rincian dan riwayat laporan: /status 12", Action.LIHAT),
    Command("insiden", "Daftar laporan di wilayah Anda", Action.DAFTAR),
    Command("tangani", "Tangani laporan: /tangani 12", Action.TANGANI),
    Command("eskalasi", "Eskalasi ke tingkat di atas: /eskalasi 12 alasan", Action.ESKALASI),
    Command("selesai", "Tandai selesai: /selesai 12 catatan", Action.SELESAI),
    Command("catatan", "Tambah catatan: /catatan 12 teks", Action.CATATAN),
    Command("tolak", "Tolak laporan yang salah (tidak dihitung): /tolak 12 alasan", Action.TOLAK),
    Command("buka", "Buka kembali laporan selesai/ditolak: /buka 12", Action.BUKA),
    Command("ekspor", "Unduh laporan sebagai CSV dan Excel (.xlsx): /ekspor 7", Action.EKSPOR),
    Command("grup", "Daftarkan grup ini sebagai grup koordinasi: /grup 51.03", Action.GRUP),
    Command("ringkasan", "Ringkasan wilayah sekarang, dengan grafik", Action.RINGKASAN),
    Command("progres", "Progres penghitungan dan Sirekap", Action.RINGKASAN),
    Command("logistik", "Kelengkapan logistik", Action.RINGKASAN),
    Command("jadwal", "Atur jam ringkasan harian: /jadwal 07:00", Action.JADWAL_PRIBADI),
    Command("batal", "Batalkan pengisian laporan", None),
    Command("start", "Mulai, atau daftar dengan tautan undangan", None),
    Command("bantuan", "Daftar perintah untuk peran Anda", None),
    Command("wilayah", "Cari wilayah dan kodenya: /wilayah kuta", None),
    Command("undang", "Buat tautan undangan: /undang petugas 51.03.01", Action.UNDANG),
    Command("cabut", "Cabut akses pengguna: /cabut <id_telegram>", Action.CABUT),
    Command("impor", "Impor kebutuhan logistik / jumlah TPS: balas berkas CSV atau Excel", Action.IMPOR),
    Command("siaran", "Kirim pesan ke semua pengguna di wilayah Anda: /siaran teks", Action.SIARAN),
)


def for_role(role: Role) -> list[Command]:
    return [c for c in CATALOGUE if c.action is None or grant_for(role, c.action) is not Grant.NONE]


#: commands that only make sense in a private chat (an invite link, a revocation, a file to import,
#: registering with a link); a group's menu leaves them out
PRIVATE_ONLY = frozenset({"undang", "cabut", "impor", "siaran", "start"})


def private_menu(role: Role) -> list[tuple[str, str]]:
    """The menu of a private chat with a user of `role` (a petugas's is every private chat's default)."""
    return [(c.name, c.description) for c in for_role(role)]


def group_menu() -> list[tuple[str, str]]:
    """The menu in groups: what members use there; each command still checks the sender's rights."""
    return [(c.name, c.description) for c in CATALOGUE if c.name not in PRIVATE_ONLY]
