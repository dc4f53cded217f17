"""User-visible sentences of baseline imports (`import-plan`, `import-tps`, `/impor`).

Bahasa Indonesia, **plain text** (not HTML): the same sentences go to a terminal and to Telegram.
Values typed by the user are put in as they are (quoted with `quote`), so a caller that shows them
in a Telegram message must escape the finished line (`bot.texts.common.esc`).

Keys of `ERRORS` are the values of `bot.domain.baselines.ErrorCode`; a unit test checks that each
code has a text. `error_line` words a `LineError`, `summary` / `error_lines` an import's result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Protocol

from bot.domain.baselines import PLAN_HEADER, TPS_HEADER, BaselineKind, LineError
from bot.domain.reporting import JENIS_PEMILIHAN
from bot.texts.formatting import number

#: Longest user token quoted back in a message, in characters.
MAX_QUOTED: Final = 40

#: What each kind of file is, in a sentence ("kebutuhan logistik").
KIND_LABELS: Final[dict[str, str]] = {
    "rencana": "kebutuhan logistik",
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

#: Why a file or a line was refused. Placeholders are filled by `error_message` from the error's
#: details.
ERRORS: Final[dict[str, str]] = {
    # the file as a whole
    "empty_file": "berkas kosong; baris pertama harus judul kolom {header}",
    "not_utf8": "bukan teks UTF-8; " + _SAVE_AS_CSV,
    "utf16": "berkas ber-encoding UTF-16; " + _SAVE_AS_CSV,
    "spreadsheet": 'ini berkas Excel lama (.xls); simpan ulang dari Excel sebagai "Buku Kerja Excel (.xlsx)" atau CSV',
    "bad_xlsx": "berkas Excel (.xlsx) ini tidak bisa dibaca; " + _SAVE_AS_CSV,
    "bad_csv": 'CSV rusak mulai baris ini; periksa tanda kutip (")',
    "missing_header": "baris judul tidak ada; baris pertama harus {header}",
    "wrong_header": "judul kolom harus {header}, tertulis {found}",
    "other_kind_header": "ini judul berkas {other_label} ({other_header}), bukan {label} ({header})",
    "unknown_header": "judul kolom harus {plan_header} (kebutuhan logistik) atau {tps_header} (jumlah TPS), "
    "tertulis {found}",
    "no_data": "tidak ada baris data di bawah judul kolom",
    # one line
    "too_few_columns": "kolom kurang: harus {expected} kolom ({header}), ada {found}",
    "too_many_columns": (
        "kolom berlebih: harus {expected} kolom ({header}), ada {found} (angka desimal atau koma di dalam nilai?)"
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
    "kebutuhan logistik: {rows} baris diimpor ({regions} kecamatan, {items} barang; "
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


#: how the items per jenis pemilihan are named in a list of choices (they are too many to list)
PER_JENIS_CHOICES: Final = "; per jenis pemilihan mis. surat_suara_dpr, kotak_suara_ppwp"


def _item_choices(names: object) -> str:
    """The items a plan line may name: the plain ones, and how the per-jenis ones are written."""
    listed = [str(n) for n in names] if isinstance(names, list | tuple) else [str(names)]
    plain = [n for n in listed if not any(n.endswith(f"_{jenis}") for jenis in JENIS_PEMILIHAN)]
    return ", ".join(plain) + (PER_JENIS_CHOICES if len(plain) < len(listed) else "")


def kind_label(kind: BaselineKind) -> str:
    """ "kebutuhan logistik" / "jumlah TPS"."""
    return KIND_LABELS[kind.value]


#: Lines named at most in a message about a kecamatan written per desa.
MAX_LINES_NAMED: Final = 5


def _line_list(lines: Sequence[int]) -> str:
    """ "3, 4, 7" (at most `MAX_LINES_NAMED`, then "dan N lainnya")."""
    named = ", ".join(str(n) for n in lines[:MAX_LINES_NAMED])
    more = len(lines) - MAX_LINES_NAMED
    return named if more <= 0 else MORE_LINES.format(lines=named, count=more)


def _header(kind: BaselineKind) -> str:
    return ",".join(kind.header)


def error_message(error: LineError) -> str:
    """The sentence of one problem (plain text, without its line)."""
    values: dict[str, Any] = dict(error.details)  # the values of the problem, turned into words below
    kind = values.pop("kind", None)
    if isinstance(kind, BaselineKind):
        values |= {"label": kind_label(kind), "header": _header(kind)}
    else:
        values["header"] = "kode_wilayah,..."  # an empty file of a kind not known yet
    other = values.pop("other", None)
    if isinstance(other, BaselineKind):
        values |= {"other_label": kind_label(other), "other_header": _header(other)}
    if "token" in values:
        values["token"] = quote(str(values["token"]))
    if "cells" in values:
        values["found"] = quote(",".join(values.pop("cells")))
    if "level" in values:
        values["level"] = LEVEL_LABELS.get(str(values["level"]), str(values["level"]))
    if "items" in values:
        values["items"] = _item_choices(values["items"])
    if "lines" in values:
        values["lines"] = _line_list(values["lines"])
    if "bound" in values:
        values["bound"] = number(values["bound"])
    values |= {"plan_header": ",".join(PLAN_HEADER), "tps_header": ",".join(TPS_HEADER)}
    return ERRORS[error.code.value].format(**values)


def error_line(error: LineError) -> str:
    """One problem as "baris N: …" (or the sentence alone for the file as a whole)."""
    if error.line is None:
        return error_message(error)
    return LINE_PREFIX.format(line=error.line, message=error_message(error))


class ImportOutcome(Protocol):
    """What `summary` reads of `bot.services.baselines.ImportResult`."""

    @property
    def kind(self) -> BaselineKind | None: ...
    @property
    def errors(self) -> tuple[LineError, ...]: ...
    @property
    def rows(self) -> int: ...
    @property
    def regions(self) -> int: ...
    @property
    def desa(self) -> int: ...
    @property
    def items(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def added(self) -> int: ...
    @property
    def replaced(self) -> int: ...


def summary(result: ImportOutcome) -> str:
    """One line (plain text): what was imported, or how many problems stopped it."""
    if result.errors:
        label = kind_label(result.kind) if result.kind is not None else UNKNOWN_KIND_LABEL
        return FAILED.format(label=label, count=len(result.errors))
    if result.kind is BaselineKind.RENCANA:
        template = PLAN_DONE
    else:
        template = TPS_DONE_DESA if result.desa else TPS_DONE
    return template.format(
        rows=number(result.rows),
        regions=number(result.regions),
        items=number(result.items),
        total=number(result.total),
        added=number(result.added),
        replaced=number(result.replaced),
        desa=number(result.desa),
    )


def sentence(text: str) -> str:
    """`text` starting with a capital, the rest as it is ("jumlah TPS: …" → "Jumlah TPS: …")."""
    return text[:1].upper() + text[1:]


def chat_summary(result: ImportOutcome) -> str:
    """`summary` as a sentence on its own in a chat ("Kebutuhan logistik: 741 baris diimpor …");
    the command line prints it after the file's name, lower case."""
    return sentence(summary(result))


def error_lines(result: ImportOutcome) -> list[str]:
    """Every problem as "baris N: …" (plain text), in file order."""
    return [error_line(error) for error in result.errors]


# --- /impor in Telegram (HTML: the handler escapes the plain lines above) -----------------------

IMPOR_USAGE_HTML: Final = (
    "Kirim berkas CSV atau Excel (.xlsx, lembar pertama) ke chat ini, lalu <b>balas berkas itu</b> dengan /impor.\n"
    "Kebutuhan logistik: kolom <code>kode_wilayah,barang,jumlah</code> (per kecamatan)\n"
    "Jumlah TPS: kolom <code>kode_wilayah,jumlah_tps</code> (per kecamatan atau per desa/kelurahan)"
)
IMPOR_TOO_BIG_HTML: Final = "Berkas terlalu besar (paling besar {limit} MB). Bagi menjadi beberapa berkas."
#: up to this many bad lines are listed in chat messages (split below Telegram's limit); more go
#: into a text file, every one of them
IMPOR_MAX_LINES_SHOWN: Final = 30
IMPOR_ERRORS_FILE: Final = "masalah_impor.txt"
IMPOR_ERRORS_CAPTION_HTML: Final = (
    "{summary}\nSemua baris yang bermasalah, dengan nomornya, ada di berkas ini. "
    "Perbaiki berkasnya, lalu kirim dan balas lagi dengan /impor."
)
