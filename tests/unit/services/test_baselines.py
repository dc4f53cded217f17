"""Baseline imports: the CSV validator (every bad line, with its number) and the all-or-nothing store."""

from __future__ import annotations

import io
import threading

import openpyxl
import pytest

from bot.domain import baselines as checks
from bot.domain.baselines import (
    BaselineKind,
    ErrorCode,
    PlanRow,
    TpsRow,
    validate_plan,
    validate_tps,
)
from bot.domain.models import Level
from bot.services import baselines
from bot.services.digest import digest_now
from bot.texts import baselines as texts
from storage import baselines as store
from tests.conftest import audit_rows as audit_trail

#: A slice of Bali: the province, two kabupaten/kota and some of their kecamatan.
REGIONS = {
    "51": Level.PROVINSI,
    "51.03": Level.KABKOTA,
    "51.03.01": Level.KECAMATAN,  # Kuta
    "51.03.02": Level.KECAMATAN,  # Mengwi
    "51.03.03": Level.KECAMATAN,  # Abiansemal
    "51.03.04": Level.KECAMATAN,  # Petang
    "51.03.05": Level.KECAMATAN,  # Kuta Selatan
    "51.03.06": Level.KECAMATAN,  # Kuta Utara
    "51.71": Level.KABKOTA,
    "51.71.01": Level.KECAMATAN,  # Denpasar Selatan
}

PLAN_HEAD = "kode_wilayah,barang,jumlah\n"
TPS_HEAD = "kode_wilayah,jumlah_tps\n"


def plan(text: str, **kw):
    return validate_plan(text.encode(), REGIONS, **kw)


def tps(text: str, **kw):
    return validate_tps(text.encode(), REGIONS, **kw)


def errors(result) -> list[str]:
    assert not result.ok and result.rows == ()
    return [texts.error_line(e) for e in result.errors]


def codes(result) -> list[tuple[int | None, ErrorCode]]:
    return [(e.line, e.code) for e in result.errors]


# --- good files --------------------------------------------------------------------------------------


def test_plan_rows_with_aliases_codes_and_thousands_separators():
    result = plan(PLAN_HEAD + "51.03.01,kotak_suara,120\n510302,Surat Suara,1.250\n51-71-01,braille,12.500.000\n")
    assert result.ok and result.errors == ()
    assert result.rows == (
        PlanRow("51.03.01", "kotak_suara", 120, 2),
        PlanRow("51.03.02", "surat_suara", 1250, 3),
        PlanRow("51.71.01", "alat_bantu_tunanetra", 12_500_000, 4),
    )


def test_tps_rows_zero_allowed():
    result = tps(TPS_HEAD + "51.03.01,205\n51.03.02,0\n")
    assert result.rows == (TpsRow("51.03.01", 205, 2), TpsRow("51.03.02", 0, 3))


def test_excel_file_bom_semicolon_crlf_header_case_and_padding():
    data = (
        b"\xef\xbb\xbf Kode_Wilayah ; BARANG ;Jumlah;;\r\n51.03.01;kotak;1.250;;\r\n;;;;\r\n51.03.02 ; tinta ; 30\r\n"
    )
    result = validate_plan(data, REGIONS)
    assert result.rows == (PlanRow("51.03.01", "kotak_suara", 1250, 2), PlanRow("51.03.02", "tinta", 30, 4))


def test_semicolon_file_with_decimal_comma_is_a_number_error_not_a_column_error():
    # the Sniffer picks ";" although the bad value holds a ","
    result = plan("kode_wilayah;barang;jumlah\n51.03.01;tinta;10\n51.03.02;tinta;1,5\n51.03.03;tinta;2\n")
    assert errors(result) == ['baris 3: jumlah "1,5" bukan bilangan bulat (tulis 1250 atau 1.250)']


def test_comma_file_with_quoted_thousands_and_decimal_comma():
    result = plan(PLAN_HEAD + '51.03.01,tinta,"1.250"\n51.03.02,tinta,"1,5"\n')
    assert codes(result) == [(3, ErrorCode.INVALID_NUMBER)]


def test_unquoted_decimal_comma_in_comma_file_is_too_many_columns():
    result = plan(PLAN_HEAD + "51.03.01,tinta,1,5\n")
    assert codes(result) == [(2, ErrorCode.TOO_MANY_COLUMNS)]
    assert "harus 3 kolom" in errors(result)[0]


def test_blank_lines_are_skipped_but_counted():
    # line 1 blank, 2 header, 3-4 blank, 5 data, 6 spaces, 7 the bad line
    result = tps("\n" + TPS_HEAD + "\n\n51.03.01,3\n   \n51.03.02,x\n")
    assert codes(result) == [(7, ErrorCode.INVALID_NUMBER)]


def test_mac_line_endings():
    assert tps("kode_wilayah,jumlah_tps\r51.03.01,3\r51.03.02,4\r").rows[1] == TpsRow("51.03.02", 4, 3)


# --- the file as a whole ----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n\n  \n", b";;\n"])
def test_empty_file(data):
    result = validate_plan(data, REGIONS)
    assert codes(result) == [(None, ErrorCode.EMPTY_FILE)]
    assert errors(result) == ["berkas kosong; baris pertama harus judul kolom kode_wilayah,barang,jumlah"]


@pytest.mark.parametrize("text", [TPS_HEAD, TPS_HEAD + "\n\n", TPS_HEAD + ",\n"])
def test_header_without_data(text):
    assert errors(tps(text)) == ["tidak ada baris data di bawah judul kolom"]


@pytest.mark.parametrize(
    "header",
    ["kode,barang,jumlah", "kode_wilayah,barang", "kode_wilayah,barang,jumlah,catatan", "kode wilayah,barang,jumlah"],
)
def test_wrong_header(header):
    result = plan(header + "\n51.03.01,tinta,1\n")
    assert codes(result) == [(1, ErrorCode.WRONG_HEADER)]
    assert errors(result)[0].startswith("baris 1: judul kolom harus kode_wilayah,barang,jumlah, tertulis ")


def test_missing_header():
    result = tps("51.03.01,3\n51.03.02,4\n")
    assert errors(result) == ["baris 1: baris judul tidak ada; baris pertama harus kode_wilayah,jumlah_tps"]


def test_header_of_the_other_kind():
    assert codes(tps(PLAN_HEAD + "51.03.01,tinta,1\n")) == [(1, ErrorCode.OTHER_KIND_HEADER)]
    assert errors(plan(TPS_HEAD + "51.03.01,1\n")) == [
        "baris 1: ini judul berkas jumlah TPS (kode_wilayah,jumlah_tps), "
        "bukan kebutuhan logistik (kode_wilayah,barang,jumlah)"
    ]


def test_not_utf8_names_the_line():
    data = TPS_HEAD.encode() + b"51.03.01,3\n51.03.02,\xe9\n"
    assert codes(validate_tps(data, REGIONS)) == [(3, ErrorCode.NOT_UTF8)]


def test_utf16_and_spreadsheets_are_refused():
    assert codes(validate_tps(TPS_HEAD.encode("utf-16"), REGIONS)) == [(None, ErrorCode.UTF16)]
    assert codes(validate_tps(b"PK\x03\x04\x14\x00rest-of-a-zip", REGIONS)) == [(None, ErrorCode.BAD_XLSX)]
    assert codes(validate_tps(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1old-xls", REGIONS)) == [(None, ErrorCode.SPREADSHEET)]


def test_unclosed_quote():
    result = tps(TPS_HEAD + '51.03.01,3\n51.03.02,"4\n51.03.03,5\n')
    assert codes(result) == [(3, ErrorCode.BAD_CSV)]


# --- one line ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "code", "message"),
    [
        ("51.99.01,tinta,1", ErrorCode.UNKNOWN_REGION, "kode wilayah 51.99.01 tidak dikenal"),
        ("529901,tinta,1", ErrorCode.UNKNOWN_REGION, "kode wilayah 52.99.01 tidak dikenal"),
        ("Kuta,tinta,1", ErrorCode.INVALID_CODE, 'kode wilayah "Kuta" tidak sah (contoh: 51.03.01 atau 510301)'),
        (",tinta,1", ErrorCode.EMPTY_CODE, "kode wilayah kosong"),
        (
            "51.03,tinta,1",
            ErrorCode.NOT_KECAMATAN,
            "kode wilayah 51.03 adalah kabupaten/kota, bukan kecamatan; kebutuhan logistik diisi per kecamatan",
        ),
        (
            "51,tinta,1",
            ErrorCode.NOT_KECAMATAN,
            "kode wilayah 51 adalah provinsi, bukan kecamatan; kebutuhan logistik diisi per kecamatan",
        ),
        (
            "5103012001,tinta,1",
            ErrorCode.DESA_CODE,
            "kode wilayah 51.03.01.2001 adalah kode desa/kelurahan; kebutuhan logistik diisi per kecamatan (51.03.01)",
        ),
        (
            "51.03.01,kursi,1",
            ErrorCode.UNKNOWN_ITEM,
            'barang "kursi" tidak dikenal (pilihan: kotak_suara, bilik_suara, surat_suara, tinta, segel, '
            "hologram, formulir, sampul, alat_bantu_tunanetra; per jenis pemilihan mis. surat_suara_dpr, "
            "kotak_suara_ppwp)",
        ),
        ("51.03.01, ,1", ErrorCode.EMPTY_ITEM, None),
        ("51.03.01,tinta,-3", ErrorCode.NEGATIVE_NUMBER, 'jumlah "-3" tidak boleh negatif'),
        ("51.03.01,tinta,1.5", ErrorCode.INVALID_NUMBER, 'jumlah "1.5" bukan bilangan bulat (tulis 1250 atau 1.250)'),
        ("51.03.01,tinta,12.5", ErrorCode.INVALID_NUMBER, None),
        ("51.03.01,tinta,sepuluh", ErrorCode.INVALID_NUMBER, None),
        ("51.03.01,tinta,", ErrorCode.EMPTY_NUMBER, "jumlah kosong"),
        (
            "51.03.01,tinta,9999999999999",
            ErrorCode.NUMBER_TOO_LARGE,
            'jumlah "9999999999999" terlalu besar (paling banyak 999.999.999.999)',
        ),
        (
            "51.03.01,tinta",
            ErrorCode.TOO_FEW_COLUMNS,
            "kolom kurang: harus 3 kolom (kode_wilayah,barang,jumlah), ada 2",
        ),
    ],
)
def test_bad_plan_line(line, code, message):
    result = plan(PLAN_HEAD + "51.03.02,tinta,5\n" + line + "\n51.03.03,tinta,5\n")
    assert codes(result) == [(3, code)]
    if message is not None:
        assert errors(result) == [f"baris 3: {message}"]


@pytest.mark.parametrize(
    ("line", "code"),
    [
        ("51.03,10", ErrorCode.NOT_KECAMATAN),
        ("51.03.09.2001,3", ErrorCode.UNKNOWN_REGION),  # a desa of a kecamatan the deployment does not know
        ("51.99.01,3", ErrorCode.UNKNOWN_REGION),
        ("52.01.01.2001,3", ErrorCode.UNKNOWN_REGION),  # a desa outside the deployment
        ("51.03.01,-1", ErrorCode.NEGATIVE_NUMBER),
        ("51.03.01,2,5", ErrorCode.TOO_MANY_COLUMNS),
        ("51.03.01,2.5", ErrorCode.INVALID_NUMBER),
    ],
)
def test_bad_tps_line(line, code):
    assert codes(tps(TPS_HEAD + line + "\n")) == [(2, code)]


def test_tps_desa_lines_are_summed_into_their_kecamatan():
    result = tps(TPS_HEAD + "51.03.01.2001,3\n5103012002,4\n51.03.02,10\n51.03.01.2003,1\n")
    assert result.ok
    # Kuta: 3 + 4 + 1 = 8 TPS from three desa lines (first on line 2); Mengwi as one line
    assert result.rows == (TpsRow("51.03.01", 8, 2, desa=3), TpsRow("51.03.02", 10, 4))


def test_tps_desa_and_kecamatan_lines_of_one_kecamatan_are_refused():
    assert errors(tps(TPS_HEAD + "51.03.01,10\n51.03.02,5\n51.03.01.2001,3\n")) == [
        "baris 4: 51.03.01.2001 adalah desa/kelurahan di kecamatan 51.03.01, yang sudah diisi sebagai satu "
        "kecamatan di baris 2; isi satu kecamatan per kecamatan atau per desa, jangan keduanya"
    ]
    assert errors(tps(TPS_HEAD + "51.03.01.2001,3\n51.03.01.2002,3\n51.03.01,10\n")) == [
        "baris 4: kecamatan 51.03.01 sudah diisi per desa/kelurahan di baris 2, 3; "
        "isi satu kecamatan per kecamatan atau per desa, jangan keduanya"
    ]
    many = "".join(f"51.03.01.200{i},1\n" for i in range(7))  # lines 2-8
    assert errors(tps(TPS_HEAD + many + "510301,7\n"))[0].startswith(
        "baris 9: kecamatan 51.03.01 sudah diisi per desa/kelurahan di baris 2, 3, 4, 5, 6 dan 2 lainnya;"
    )


def test_tps_desa_duplicates_and_scope():
    assert errors(tps(TPS_HEAD + "51.03.01.2001,3\n51.03.01.2001,4\n")) == [
        "baris 3: 51.03.01.2001 sudah ada di baris 2"
    ]
    assert errors(tps(TPS_HEAD + "51.71.01.1001,2\n", within="51.03")) == [
        "baris 2: kode wilayah 51.71.01.1001 di luar wilayah Anda (51.03)"
    ]
    assert tps(TPS_HEAD + "51.71.01.1001,2\n", within="51.71").ok


def test_tps_kabupaten_message():
    assert errors(tps(TPS_HEAD + "51.71,300\n")) == [
        "baris 2: kode wilayah 51.71 adalah kabupaten/kota, bukan kecamatan; jumlah TPS diisi per kecamatan"
    ]


def test_duplicate_plan_lines_across_spellings():
    result = plan(PLAN_HEAD + "51.03.01,kotak_suara,1\n51.03.01,tinta,2\n510301,Kotak,3\n")
    assert errors(result) == ["baris 4: 51.03.01 kotak_suara sudah ada di baris 2"]


def test_duplicate_tps_lines():
    result = tps(TPS_HEAD + "51.03.01,1\n51.03.02,2\n51-03-01,1\n")
    assert errors(result) == ["baris 4: 51.03.01 sudah ada di baris 2"]


def test_out_of_scope():
    result = tps(TPS_HEAD + "51.03.01,1\n51.71.01,2\n", within="51.03")
    assert errors(result) == ["baris 3: kode wilayah 51.71.01 di luar wilayah Anda (51.03)"]
    assert tps(TPS_HEAD + "51.71.01,2\n", within="ID").ok


def test_every_bad_line_is_reported_with_its_number():
    text = (
        PLAN_HEAD  # 1
        + "51.03.01,kotak,10\n"  # 2 ok
        + "51.99.01,kotak,10\n"  # 3 unknown region
        + "\n"  # 4 blank
        + "51.03.02,kursi,-1\n"  # 5 unknown item and negative
        + "51.03.02,tinta,7\n"  # 6 ok
        + "51.03,tinta,1,5\n"  # 7 too many columns
        + "51.03.02,tinta,8\n"  # 8 duplicate of 6
        + "51.03.03,segel,1.250\n"  # 9 ok
    )
    result = plan(text)
    assert codes(result) == [
        (3, ErrorCode.UNKNOWN_REGION),
        (5, ErrorCode.UNKNOWN_ITEM),
        (5, ErrorCode.NEGATIVE_NUMBER),
        (7, ErrorCode.TOO_MANY_COLUMNS),
        (8, ErrorCode.DUPLICATE_PLAN),
    ]
    assert errors(result)[0] == "baris 3: kode wilayah 51.99.01 tidak dikenal"


def test_long_tokens_are_cut_in_messages():
    result = plan(PLAN_HEAD + f"51.03.01,{'x' * 500},1\n")
    assert len(errors(result)[0]) < 250


def test_every_error_code_has_a_text():
    assert {code.value for code in ErrorCode} == set(texts.ERRORS)


def test_detect_kind():
    assert checks.detect_kind(b"\xef\xbb\xbfKODE_WILAYAH;JUMLAH_TPS\r\n") is BaselineKind.TPS
    assert checks.detect_kind(PLAN_HEAD.encode()) is BaselineKind.RENCANA
    assert checks.detect_kind(b"kode,jumlah\n") is None
    assert checks.detect_kind(b"") is None


# --- the service and storage ------------------------------------------------------------------------------


async def audit_rows(rt):
    return await audit_trail(rt.db, action="impor")


async def plan_rows(db) -> dict[tuple[str, str], int]:
    """The stored plan, (region, item) → quantity, read in SQL."""
    rows = await db.fetchall("SELECT region_code, item, quantity FROM logistics_plan")
    return {(row["region_code"], row["item"]): row["quantity"] for row in rows}


async def tps_rows(db) -> dict[str, int]:
    """The stored TPS baseline, region → TPS, read in SQL."""
    rows = await db.fetchall("SELECT region_code, tps_count FROM tps_baseline")
    return {row["region_code"]: row["tps_count"] for row in rows}


async def row_counts(db) -> dict[str, int]:
    plan_count = await db.fetchone("SELECT count(*) FROM logistics_plan")
    tps_count = await db.fetchone("SELECT count(*) FROM tps_baseline")
    return {"rencana": plan_count[0], "tps": tps_count[0]}


async def planned_in(rt, code: str) -> dict[str, int]:
    """The plan per item over a region, as its digest shows it."""
    return {row.item: row.planned for row in (await digest_now(rt, code)).logistics if row.planned}


async def tps_in(rt, code: str) -> int:
    """The TPS of a region, as its digest counts them."""
    return (await digest_now(rt, code)).counting_total.tps_total


async def test_import_plan_stores_rows_and_audits(rt):
    data = (PLAN_HEAD + "51.03.01,kotak,120\n51.03.01,tinta,1.250\n51.03.02,kotak,80\n").encode()
    result = await baselines.import_plan(rt, data, 1, source="rencana.csv")
    assert result.ok and result.errors == ()
    assert (result.rows, result.regions, result.items, result.total) == (3, 2, 2, 1450)
    assert (result.added, result.replaced) == (3, 0)
    assert result.per_item == {"kotak_suara": 200, "tinta": 1250}
    assert texts.summary(result) == (
        "kebutuhan logistik: 3 baris diimpor (2 kecamatan, 2 barang; 3 baru, 0 mengganti nilai lama)"
    )
    assert await plan_rows(rt.db) == {
        ("51.03.01", "kotak_suara"): 120,
        ("51.03.01", "tinta"): 1250,
        ("51.03.02", "kotak_suara"): 80,
    }
    assert await planned_in(rt, "51.03") == {"kotak_suara": 200, "tinta": 1250}
    assert await planned_in(rt, "51.71") == {}
    [row] = await audit_rows(rt)
    assert (row["actor_id"], row["action"], row["target"]) == (1, "impor", "rencana")
    assert row["at"] == rt.clock().isoformat(timespec="microseconds")
    assert row["detail"] == {
        "jenis": "rencana",
        "baris": 3,
        "baru": 3,
        "diganti": 0,
        "wilayah": 2,
        "barang": 2,
        "jumlah": 1450,
        "berkas": "rencana.csv",
    }
    imported_at = await rt.db.fetchall("SELECT DISTINCT imported_at FROM logistics_plan")
    assert [r[0] for r in imported_at] == [row["at"]]


async def test_reimport_replaces_per_region_and_item(rt, clock):
    first = PLAN_HEAD + "51.03.01,kotak,10\n51.03.01,tinta,5\n51.03.02,kotak,7\n"
    await baselines.import_plan(rt, first.encode(), 1)
    clock.advance(hours=1)
    result = await baselines.import_plan(rt, (PLAN_HEAD + "51.03.01,kotak,12\n51.03.03,segel,4\n").encode(), 1)
    assert (result.added, result.replaced) == (1, 1)
    assert await plan_rows(rt.db) == {
        ("51.03.01", "kotak_suara"): 12,  # replaced
        ("51.03.01", "tinta"): 5,  # not in the second file: kept
        ("51.03.02", "kotak_suara"): 7,  # kept
        ("51.03.03", "segel"): 4,  # new
    }
    stamp = await rt.db.fetchone(
        "SELECT imported_at FROM logistics_plan WHERE region_code = '51.03.01' AND item = 'kotak_suara'"
    )
    assert stamp[0] == clock().isoformat(timespec="microseconds")
    assert [r["detail"]["baris"] for r in await audit_rows(rt)] == [2, 3]


async def test_bad_line_17_of_20_leaves_everything_untouched(rt):
    await baselines.import_plan(rt, (PLAN_HEAD + "51.03.01,kotak,1\n").encode(), 1)
    before_plan, before_audit = await plan_rows(rt.db), await audit_rows(rt)
    kecamatan = [c for c, level in (await store.region_levels(rt.db)).items() if level == "kecamatan"][:19]
    lines = [f"{code},kotak,{n + 100}" for n, code in enumerate(kecamatan)]
    lines[15] = "51.99.01,kotak,5"  # file line 17 (header is line 1)
    assert len(lines) == 19  # 20 lines with the header
    result = await baselines.import_plan(rt, (PLAN_HEAD + "\n".join(lines) + "\n").encode(), 1)
    assert not result.ok and result.rows == 0
    assert texts.error_lines(result) == ["baris 17: kode wilayah 51.99.01 tidak dikenal"]
    assert texts.summary(result) == "kebutuhan logistik: 1 masalah, tidak ada yang diimpor"
    assert await plan_rows(rt.db) == before_plan
    assert await audit_rows(rt) == before_audit


async def test_import_tps_and_reimport(rt):
    result = await baselines.import_tps(rt, (b"kode_wilayah;jumlah_tps\n510301;205\n51.03.02;1.010\n"), 7)
    assert (result.rows, result.regions, result.total, result.added) == (2, 2, 1215, 2)
    assert texts.summary(result) == (
        "jumlah TPS: 2 baris diimpor (2 kecamatan, total 1.215 TPS; 2 baru, 0 mengganti nilai lama)"
    )
    result = await baselines.import_tps(rt, (TPS_HEAD + "51.03.01,210\n").encode(), 7)
    assert (result.added, result.replaced) == (0, 1)
    assert await tps_rows(rt.db) == {"51.03.01": 210, "51.03.02": 1010}
    assert await tps_in(rt, "51.03") == 1220
    assert await tps_in(rt, "51.71") == 0
    assert await row_counts(rt.db) == {"rencana": 0, "tps": 2}
    latest = (await audit_rows(rt))[0]
    assert (latest["actor_id"], latest["target"]) == (7, "tps")
    assert latest["detail"] == {"jenis": "tps", "baris": 1, "baru": 0, "diganti": 1, "wilayah": 1, "jumlah_tps": 210}


async def test_import_tps_per_desa(rt):
    data = TPS_HEAD + "51.03.01.2001,3\n51.03.01.2002,4\n51.03.02,10\n51.03.01.2003,1\n"
    result = await baselines.import_tps(rt, data.encode(), 7)
    assert (result.rows, result.regions, result.desa, result.total) == (4, 2, 3, 18)
    assert texts.summary(result) == (
        "jumlah TPS: 4 baris diimpor (2 kecamatan, 3 baris desa/kelurahan dijumlahkan per kecamatan; "
        "total 18 TPS; 2 baru, 0 mengganti nilai lama)"
    )
    assert await tps_rows(rt.db) == {"51.03.01": 8, "51.03.02": 10}


async def test_import_checks_against_the_loaded_regions(rt):
    # REGION_ROOT=51: a kecamatan of another province is unknown here
    result = await baselines.import_tps(rt, (TPS_HEAD + "52.01.01,3\n51.03.01,4\n").encode(), 1)
    assert texts.error_lines(result) == ["baris 2: kode wilayah 52.01.01 tidak dikenal"]
    assert await row_counts(rt.db) == {"rencana": 0, "tps": 0}


async def test_import_within_scope(rt):
    result = await baselines.import_tps(rt, (TPS_HEAD + "51.71.01,3\n").encode(), 1, within="51.03")
    assert [e.code for e in result.errors] == [ErrorCode.OUT_OF_SCOPE]


async def test_import_baseline_takes_the_kind_from_the_header(rt):
    result = await baselines.import_baseline(rt, (TPS_HEAD + "51.03.01,4\n").encode(), 1)
    assert result.ok and result.kind is BaselineKind.TPS
    result = await baselines.import_baseline(rt, (PLAN_HEAD + "51.03.01,tinta,4\n").encode(), 1)
    assert result.ok and result.kind is BaselineKind.RENCANA
    result = await baselines.import_baseline(rt, b"kode,jumlah\n51.03.01,4\n", 1)
    assert texts.error_lines(result) == [
        "baris 1: judul kolom harus kode_wilayah,barang,jumlah (kebutuhan logistik) atau "
        'kode_wilayah,jumlah_tps (jumlah TPS), tertulis "kode,jumlah"'
    ]
    assert result.kind is None and texts.summary(result) == "impor: 1 masalah, tidak ada yang diimpor"
    result = await baselines.import_baseline(rt, b"", 1)
    assert [e.code for e in result.errors] == [ErrorCode.EMPTY_FILE]


async def test_import_accepts_a_bare_database(rt):
    result = await baselines.import_tps(rt.db, (TPS_HEAD + "51.03.01,4\n").encode(), None)
    assert result.ok
    [row] = await audit_rows(rt)
    assert row["actor_id"] is None


async def test_validation_runs_off_the_event_loop(rt, monkeypatch):
    seen = []
    real = baselines.validate

    def spy(*args, **kwargs):
        seen.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(baselines, "validate", spy)
    assert (await baselines.import_tps(rt, (TPS_HEAD + "51.03.01,4\n").encode(), 1)).ok
    assert seen == [False]


async def test_storage_failure_rolls_back_the_whole_file(rt):
    import sqlite3

    rows = [TpsRow("51.03.01", 3), TpsRow("51.99.99", 4)]  # the second breaks the foreign key
    with pytest.raises(sqlite3.IntegrityError):
        await store.replace_tps(rt.db, rows, 1, rt.clock())
    assert await tps_rows(rt.db) == {}
    assert await audit_rows(rt) == []


# --- Excel workbooks -----------------------------------------------------------------------------


def workbook(rows: list[list[object]]) -> bytes:
    """An .xlsx whose first sheet holds `rows` (None: an empty cell), as Excel would save it."""
    book = openpyxl.Workbook()
    sheet = book.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(row=r, column=c, value=value)
    book.create_sheet("Catatan").cell(row=1, column=1, value="lembar lain tidak dibaca")
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def test_an_xlsx_plan_reads_the_same_as_its_csv():
    csv_text = PLAN_HEAD + "51.03.01,kotak suara,1.025\n51.03.01,tinta,410\n\n510302,Bilik Suara,820\n"
    xlsx = workbook(
        [
            ["kode_wilayah", "barang", "jumlah"],
            ["51.03.01", "kotak suara", 1025],
            ["51.03.01", "tinta", 410.0],  # Excel keeps every number as a float
            [],
            [510302, "Bilik Suara", 820],  # a code typed as a number
        ]
    )
    from_csv, from_xlsx = plan(csv_text), validate_plan(xlsx, REGIONS)
    assert from_csv.ok and from_xlsx.ok
    assert from_xlsx.rows == from_csv.rows  # the same rows, on the same line numbers
    assert checks.detect_kind(xlsx) is BaselineKind.RENCANA


def test_an_xlsx_tps_file_names_bad_rows_by_their_excel_row():
    xlsx = workbook(
        [
            ["kode_wilayah", "jumlah_tps"],
            ["51.03.01", 205],
            ["51.99.01", 3],
            ["51.03.02", 12.5],  # a fraction is no number of TPS
            ["51.03.03", "-4"],
        ]
    )
    result = validate_tps(xlsx, REGIONS)
    assert [line for line, _ in codes(result)] == [3, 4, 5]
    assert codes(result)[0][1] is ErrorCode.UNKNOWN_REGION


def test_a_broken_xlsx_is_refused_as_such():
    broken = workbook([["kode_wilayah", "jumlah_tps"]])[:200]
    assert codes(validate_tps(broken, REGIONS)) == [(None, ErrorCode.BAD_XLSX)]
    assert texts.error_line(validate_tps(broken, REGIONS).errors[0])
