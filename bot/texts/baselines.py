"""User-visible sentences of baseline imports (`import-plan`, `import-tps`, `/impor`).

Bahasa Indonesia, **plain text** (not HTML): the same sentences go to a terminal and to Telegram.
Values typed by the user are put in as they are (quoted with `quote`), so a caller that shows them
in a Telegram message must escape the finished line (`bot.texts.common.esc`).

This module imports nothing from `bot`, so `bot.services.baselines` can import it freely. Keys of `ERRORS`
are the values of `bot.services.baselines.ErrorCode`; a unit test checks that each code has a text.
"""

from __future__ import annotations

from typing import Final

#: Longest user token quoted back in a message, in characters.
MAX_QUOTED: Final = 40

#: What each kind of file is, in a sentence ("rencana logistik").
KIND_LABELS: Final[dict[str, str]] = {
    "rencana": "rencana logistik",
    "tps": "jumlah TPS",
}

#: The label of a file whose header names neither kind.
UNKNOWN_KIND_LABEL: Final = "impor"

#: Levels as officials say them (keys are `bot.domain.models.Level` values).
LEVEL_LABELS: Final[dict[str, str]] = {
    "nasional": "tingkat nasional",
    "provinsi": "provinsi",
    "kabkota": "kabupaten/kota",
    "kecamatan": "kecamatan",
}

#: The fix for a file Excel saved in another form.
_SAVE_AS_CSV: Final = 'simpan ulang dari Excel sebagai "CSV UTF-8 (Dipisahkan koma)"'

#: One bad line: "baris 17: kode wilayah 51.99.01 tidak dikenal".
LINE_PREFIX: Final = "baris {line}: {message}"

#: Why a file or a line was refused. Placeholders are filled by `bot.services.baselines`.
ERRORS: Final[dict[str, str]] = {
    # the file as a whole
    "empty_file": "berkas kosong; baris pertama harus judul kolom {header}",
    "not_utf8": "bukan teks UTF-8; " + _SAVE_AS_CSV,
    "utf16": "berkas ber-encoding UTF-16; " + _SAVE_AS_CSV,
    "spreadsheet": "ini berkas Excel (.xlsx/.xls), bukan CSV; " + _SAVE_AS_CSV,
    "bad_csv": "CSV rusak mulai baris ini; periksa tanda kutip (\")",
    "missing_header": "baris judul tidak ada; baris pertama harus {header}",
    "wrong_header": "judul kolom harus {header}, tertulis {found}",
    "other_kind_header": "ini judul berkas {other_label} ({other_header}), bukan {label} ({header})",
    "unknown_header": "judul kolom harus {plan_header} (rencana logistik) atau {tps_header} (jumlah TPS), "
    "tertulis {found}",
    "no_data": "tidak ada baris data di bawah judul kolom",
    # one line
    "too_few_columns": "kolom kurang: harus {expected} kolom ({header}), ada {found}",
    "too_many_columns": (
        "kolom berlebih: harus {expected} kolom ({header}), ada {found} "
        "(angka desimal atau koma di dalam nilai?)"
    ),
    "empty_code": "kode wilayah kosong",
    "invalid_code": "kode wilayah {token} tidak sah (contoh: 51.03.01 atau 510301)",
    "unknown_region": "kode wilayah {code} tidak dikenal",
    "desa_code": "kode wilayah {code} adalah kode desa/kelurahan; {label} diisi per kecamatan ({parent})",
    "not_kecamatan": "kode wilayah {code} adalah {level}, bukan kecamatan; {label} diisi per kecamatan",
    "out_of_scope": "kode wilayah {code} di luar wilayah Anda ({scope})",
    "empty_item": "barang kosong (pilihan: {items})",
    "unknown_item": "barang {token} tidak dikenal (pilihan: {items})",
    "empty_number": "{column} kosong",
    "invalid_number": "{column} {token} bukan bilangan bulat (tulis 1250 atau 1.250)",
    "negative_number": "{column} {token} tidak boleh negatif",
    "number_too_large": "{column} {token} terlalu besar (paling banyak {bound})",
    "duplicate_plan": "{code} {item} sudah ada di baris {first}",
    "duplicate_tps": "{code} sudah ada di baris {first}",
    "desa_after_kecamatan": (
        "{code} adalah desa/kelurahan di kecamatan {parent}, yang sudah diisi sebagai satu kecamatan "
        "di baris {first}; isi satu kecamatan per kecamatan atau per desa, jangan keduanya"
    ),
    "kecamatan_after_desa": (
        "kecamatan {code} sudah diisi per desa/kelurahan di baris {lines}; "
        "isi satu kecamatan per kecamatan atau per desa, jangan keduanya"
    ),
}

#: A list of line numbers cut short: "3, 4, 5, 6, 7 dan 4 lainnya".
MORE_LINES: Final = "{lines} dan {count} lainnya"

#: After a refused import: how many lines are bad (followed by one line per problem).
FAILED: Final = "{label}: {count} masalah, tidak ada yang diimpor"

#: After a good import (one line).
PLAN_DONE: Final = (
    "rencana logistik: {rows} baris diimpor ({regions} kecamatan, {items} barang; "
    "{added} baru, {replaced} mengganti nilai lama)"
)
TPS_DONE: Final = (
    "jumlah TPS: {rows} baris diimpor ({regions} kecamatan, total {total} TPS; "
    "{added} baru, {replaced} mengganti nilai lama)"
)
#: ... when some lines were desa/kelurahan, summed into their kecamatan
TPS_DONE_DESA: Final = (
    "jumlah TPS: {rows} baris diimpor ({regions} kecamatan, {desa} baris desa/kelurahan dijumlahkan "
    "per kecamatan; total {total} TPS; {added} baru, {replaced} mengganti nilai lama)"
)


#: The database refused the import's transaction (busy because the bot is writing, locked,
#: read-only, full); nothing was stored.
DATABASE_FAILED: Final = (
    "{path}: basis data tidak bisa ditulis ({reason}); tidak ada yang diimpor. "
    "Bila bot sedang sibuk menulis, coba lagi sebentar lagi"
)


def quote(token: str) -> str:
    """A user token as shown in a message: in double quotes, cut to `MAX_QUOTED` characters."""
    token = " ".join(token.split())
    if len(token) > MAX_QUOTED:
        token = token[: MAX_QUOTED - 3] + "..."
    return f'"{token}"'

# --- /impor in Telegram (HTML: the handler escapes the plain lines above) -----------------------

IMPOR_USAGE_HTML: Final = (
    "Kirim berkas CSV ke chat ini, lalu <b>balas berkas itu</b> dengan /impor.\n"
    "Rencana logistik: kolom <code>kode_wilayah,barang,jumlah</code> (per kecamatan)\n"
    "Jumlah TPS: kolom <code>kode_wilayah,jumlah_tps</code> (per kecamatan atau per desa/kelurahan)"
)
IMPOR_TOO_BIG_HTML: Final = "Berkas terlalu besar (paling besar {limit} MB). Bagi menjadi beberapa berkas."
#: up to this many bad lines are listed in chat messages (split below Telegram's limit); more go
#: into a text file, every one of them
IMPOR_MAX_LINES_SHOWN: Final = 30
IMPOR_ERRORS_FILE: Final = "masalah_impor.txt"
IMPOR_ERRORS_CAPTION_HTML: Final = (
    "{summary}\nSemua baris yang bermasalah, dengan nomornya, ada di berkas ini. "
    "Perbaiki berkas CSV, lalu kirim dan balas lagi dengan /impor."
)
