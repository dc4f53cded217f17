"""`/lapor` one-line parsing, report models, severity, and error rendering (pure, no Telegram)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.domain.parsing import incident_number, parse_lapor, parse_number
from bot.domain.reporting import (
    DATA_PROBLEMS,
    ITEMS,
    MAX_NUMBER,
    MAX_TEXT,
    DataReport,
    ErrorCode,
    HitungReport,
    InsidenReport,
    Kind,
    LaporError,
    LogistikReport,
    ParsedLapor,
    RekapReport,
    Severity,
    check_against_plan,
    derive_severity,
    format_number,
    is_complete,
    logistics_due,
    resolve_item,
    resolve_problem,
    went_down,
)
from bot.texts import reporting as texts
from bot.texts.reporting import describe_report, render_error

# --- helpers -----------------------------------------------------------------------------------

ALLOWED_TAGS = {"b", "i", "code"}
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#x27|#\d+);")


class _TagChecker(HTMLParser):
    """Records tags so a test can check they are allowed and balanced."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS or attrs:
            self.problems.append(f"tag <{tag}> {attrs}")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")


def assert_telegram_html(text: str) -> None:
    """Only <b>, <i>, <code>, balanced; no other `<`, `>`; every `&` starts an entity."""
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    assert not checker.problems, checker.problems
    assert not checker.stack, f"unclosed {checker.stack}"
    bare = re.sub(r"</?(?:b|i|code)>", "", text)
    assert "<" not in bare and ">" not in bare, text
    assert all(_ENTITY.match(bare, m.start()) for m in re.finditer("&", bare)), text


def ok(args: str) -> ParsedLapor:
    result = parse_lapor(args)
    assert isinstance(result, ParsedLapor), result
    return result


# --- valid lines -------------------------------------------------------------------------------

VALID = [
    # logistik
    (
        "logistik kotak_suara 118/120 rusak 2 dua kotak penyok",
        LogistikReport("kotak_suara", 118, 120, 2, "dua kotak penyok"),
    ),
    ("logistik kotak_suara 118", LogistikReport("kotak_suara", 118, None, 0, "")),
    ("logistik tinta 40/40", LogistikReport("tinta", 40, 40, 0, "")),
    ("logistik segel 10 rusak 0", LogistikReport("segel", 10, None, 0, "")),
    ("logistik sampul 5 datang sore", LogistikReport("sampul", 5, None, 0, "datang sore")),
    ("logistik surat 1.250/1.300 rusak 12 basah", LogistikReport("surat_suara", 1250, 1300, 12, "basah")),
    ("logistik surat_suara 12.500.000", LogistikReport("surat_suara", 12_500_000, None, 0, "")),
    ("logistik kotak suara 3/4", LogistikReport("kotak_suara", 3, 4, 0, "")),
    ("logistik alat bantu tunanetra 0/0", LogistikReport("alat_bantu_tunanetra", 0, 0, 0, "")),
    ("LOGISTIK Bilik 7 RUSAK 1 Engsel Lepas", LogistikReport("bilik_suara", 7, None, 1, "Engsel Lepas")),
    ("logistik kotak 0/0", LogistikReport("kotak_suara", 0, 0, 0, "")),
    ("logistik kotak 240/120", LogistikReport("kotak_suara", 240, 120, 0, "")),
    ("logistik kotak 5 rusak 5", LogistikReport("kotak_suara", 5, None, 5, "")),
    (
        "logistik formulir 9 catatan  dengan   spasi \n baris dua  ",
        LogistikReport("formulir", 9, None, 0, "catatan  dengan   spasi \n baris dua"),
    ),
    ("logistik kotak 007", LogistikReport("kotak_suara", 7, None, 0, "")),
    # data
    ("data ganda 14 pemilih ganda di Desa Kuta", DataReport("ganda", 14, "pemilih ganda di Desa Kuta")),
    ("data meninggal 3", DataReport("meninggal", 3, "")),
    ("data tms 1.204 anggota TNI/Polri", DataReport("tms", 1204, "anggota TNI/Polri")),
    ("Data NIK 2 warga binaan lapas", DataReport("nik_invalid", 2, "warga binaan lapas")),
    ("data belum terdaftar 4", DataReport("belum_terdaftar", 4, "")),
    ("data tidak memenuhi syarat 6 di bawah umur", DataReport("tms", 6, "di bawah umur")),
    ("data lainnya 0", DataReport("lainnya", 0, "")),
    # hitung (penghitungan); `rekap` followed by numbers means the same
    ("hitung 180/205 sirekap 150", HitungReport(180, 205, 150)),
    ("hitung 180", HitungReport(180, None, None)),
    ("rekap 180/205 sirekap 150", HitungReport(180, 205, 150)),
    ("rekap 180/205", HitungReport(180, 205, None)),
    ("REKAP 0/1 SIREKAP 0", HitungReport(0, 1, 0)),
    ("rekap 1.205/1.205 Sirekap 1.205", HitungReport(1205, 1205, 1205)),
    # rekap (rekapitulasi kecamatan)
    ("rekap dpr 12/18", RekapReport("dpr", 12, 18)),
    ("rekap DPRD provinsi 3/18", RekapReport("dprd_prov", 3, 18)),
    ("rekap presiden 18/18", RekapReport("ppwp", 18, 18)),
    ("rekapitulasi DPD 12 dari 18 desa", RekapReport("dpd", 12, 18)),
    ("rekap dprd kab kota: 4 / 18", RekapReport("dprd_kabkota", 4, 18)),
    # the field's words: penghitungan is hitung, rekap followed by figures too
    ("penghitungan 180 dari 205 TPS upload 150", HitungReport(180, 205, 150)),
    ("rekap 180 dari 205 TPS", HitungReport(180, 205, None)),
    ("hitung 180 sirekap: 150", HitungReport(180, None, 150)),
    # items per jenis pemilihan, and hologram
    ("logistik surat suara dpd 100/200", LogistikReport("surat_suara_dpd", 100, 200)),
    ("logistik kotak dprd kab kota 5", LogistikReport("kotak_suara_dprd_kabkota", 5)),
    ("logistik hologram 40", LogistikReport("hologram", 40)),
    # insiden
    (
        "insiden kritis gudang logistik PPK Kuta tergenang banjir",
        InsidenReport(Severity.KRITIS, "gudang logistik PPK Kuta tergenang banjir"),
    ),
    ("insiden rendah x", InsidenReport(Severity.RENDAH, "x")),
    ("Insiden SEDANG listrik padam 2 jam", InsidenReport(Severity.SEDANG, "listrik padam 2 jam")),
    ("insiden tinggi <b>kotak</b> & segel rusak", InsidenReport(Severity.TINGGI, "<b>kotak</b> & segel rusak")),
    # no severity: sedang, and a word that only looks like one is the uraian's (not a typo)
    ("insiden krisis air bersih", InsidenReport(Severity.SEDANG, "krisis air bersih")),
    ("kejadian sedangkan genset mati", InsidenReport(Severity.SEDANG, "sedangkan genset mati")),
    ("insiden Darurat banjir", InsidenReport(Severity.KRITIS, "banjir")),
]


@pytest.mark.parametrize(("args", "report"), VALID)
def test_valid_lines(args: str, report: object) -> None:
    assert parse_lapor(args) == ParsedLapor(None, (report,))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "target"),
    [
        ("@51.03.01 rekap 1/2", "51.03.01"),
        ("@510301 rekap 1/2", "510301"),
        ("@kuta rekap 1/2", "kuta"),
        ("@Kuta_Selatan rekap 1/2", "Kuta_Selatan"),
        ("@51 rekap 1/2", "51"),
        ("  @51.03   rekap 1/2  ", "51.03"),
        ("rekap 1/2", None),
    ],
)
def test_target(args: str, target: str | None) -> None:
    assert ok(args) == ParsedLapor(target, (HitungReport(1, 2, None),))


def test_models_carry_their_kind() -> None:
    assert LogistikReport("tinta", 1).kind is Kind.LOGISTIK
    assert DataReport("ganda", 1).kind is Kind.DATA
    assert HitungReport(1, 2).kind is Kind.HITUNG
    assert RekapReport("dpr", 1, 2).kind is Kind.REKAP
    assert InsidenReport(Severity.RENDAH, "x").kind is Kind.INSIDEN
    assert not hasattr(LogistikReport("tinta", 1), "__dict__")  # slots
    with pytest.raises(AttributeError):
        LogistikReport("tinta", 1).received = 2  # type: ignore[misc]


# --- vocabularies ------------------------------------------------------------------------------

ITEM_SPELLINGS = [
    ("kotak_suara", "kotak_suara"),
    ("kotak", "kotak_suara"),
    ("kotak-suara", "kotak_suara"),
    ("kotaksuara", "kotak_suara"),
    ("Kotak_Suara", "kotak_suara"),
    ("KOTAK", "kotak_suara"),
    ("bilik_suara", "bilik_suara"),
    ("bilik", "bilik_suara"),
    ("bilik-suara", "bilik_suara"),
    ("biliksuara", "bilik_suara"),
    ("surat_suara", "surat_suara"),
    ("surat", "surat_suara"),
    ("suratsuara", "surat_suara"),
    ("surat-suara", "surat_suara"),
    ("tinta", "tinta"),
    ("Tinta", "tinta"),
    ("segel", "segel"),
    ("formulir", "formulir"),
    ("form", "formulir"),
    ("FORM", "formulir"),
    ("sampul", "sampul"),
    ("alat_bantu_tunanetra", "alat_bantu_tunanetra"),
    ("alat-bantu-tunanetra", "alat_bantu_tunanetra"),
    ("alatbantutunanetra", "alat_bantu_tunanetra"),
    ("braille", "alat_bantu_tunanetra"),
    ("tunanetra", "alat_bantu_tunanetra"),
    ("abt", "alat_bantu_tunanetra"),
    ("alat_bantu", "alat_bantu_tunanetra"),
]


@pytest.mark.parametrize(("spelling", "item"), ITEM_SPELLINGS)
def test_item_spellings(spelling: str, item: str) -> None:
    assert resolve_item(spelling) == item
    assert ok(f"logistik {spelling} 5").reports == (LogistikReport(item, 5),)


def test_every_item_has_label_and_is_reachable() -> None:
    per_jenis = ["ppwp", "dpr", "dpd", "dprd_prov", "dprd_kabkota"]
    assert list(ITEMS) == [
        "kotak_suara",
        *(f"kotak_suara_{j}" for j in per_jenis),
        "bilik_suara",
        "surat_suara",
        *(f"surat_suara_{j}" for j in per_jenis),
        "tinta",
        "segel",
        "hologram",
        "formulir",
        "sampul",
        "alat_bantu_tunanetra",
    ]
    assert ITEMS["surat_suara_dprd_prov"].label == "Surat suara DPRD Provinsi"
    assert ITEMS["kotak_suara"].label == "Kotak suara"
    assert ITEMS["alat_bantu_tunanetra"].label == "Alat bantu tunanetra"
    for name, term in ITEMS.items():
        assert term.label and resolve_item(name) == name
        assert all(resolve_item(alias) == name for alias in term.aliases)


PROBLEM_SPELLINGS = [
    ("ganda", "ganda"),
    ("dobel", "ganda"),
    ("duplikat", "ganda"),
    ("GANDA", "ganda"),
    ("meninggal", "meninggal"),
    ("meninggal_dunia", "meninggal"),
    ("wafat", "meninggal"),
    ("pindah", "pindah"),
    ("pindah-domisili", "pindah"),
    ("tms", "tms"),
    ("TMS", "tms"),
    ("tidak_memenuhi_syarat", "tms"),
    ("nik_invalid", "nik_invalid"),
    ("nik", "nik_invalid"),
    ("nik-tidak-valid", "nik_invalid"),
    ("nikinvalid", "nik_invalid"),
    ("belum_terdaftar", "belum_terdaftar"),
    ("belum", "belum_terdaftar"),
    ("belumterdaftar", "belum_terdaftar"),
    ("lainnya", "lainnya"),
    ("lain", "lainnya"),
    ("dptb", "dptb"),
    ("DPTb", "dptb"),
    ("pindah_memilih", "dptb"),
    ("pindah memilih", "dptb"),
    ("dpk", "dpk"),
]


@pytest.mark.parametrize(("spelling", "problem"), PROBLEM_SPELLINGS)
def test_problem_spellings(spelling: str, problem: str) -> None:
    assert resolve_problem(spelling) == problem
    assert ok(f"data {spelling} 2").reports == (DataReport(problem, 2),)


def test_problem_labels() -> None:
    assert {name: term.label for name, term in DATA_PROBLEMS.items()} == {
        "ganda": "Ganda",
        "meninggal": "Meninggal dunia",
        "pindah": "Pindah domisili",
        "tms": "Tidak memenuhi syarat (TMS)",
        "nik_invalid": "NIK tidak valid",
        "belum_terdaftar": "Belum terdaftar",
        "dptb": "Pindah memilih (DPTb)",
        "dpk": "Pemilih khusus (DPK)",
        "lainnya": "Lainnya",
    }


@pytest.mark.parametrize("token", ["", " ", "_", "-", "kotakk", "suara", "kotak_suara_x", "mati"])
def test_unknown_spellings(token: str) -> None:
    assert resolve_item(token) is None
    assert resolve_problem(token) is None


# --- numbers -----------------------------------------------------------------------------------

NUMBERS = [
    ("0", 0),
    ("7", 7),
    ("120", 120),
    ("1250", 1250),
    ("1.250", 1250),
    ("12.500", 12500),
    ("12.500.000", 12_500_000),
    ("999.999.999.999", MAX_NUMBER),
    ("0007", 7),
    ("1,5", ErrorCode.INVALID_NUMBER),
    ("1.25", ErrorCode.INVALID_NUMBER),
    ("1.2500", ErrorCode.INVALID_NUMBER),
    ("1250.000.0", ErrorCode.INVALID_NUMBER),
    (".250", ErrorCode.INVALID_NUMBER),
    ("1.", ErrorCode.INVALID_NUMBER),
    ("abc", ErrorCode.INVALID_NUMBER),
    ("12a", ErrorCode.INVALID_NUMBER),
    ("+3", ErrorCode.INVALID_NUMBER),
    ("", ErrorCode.INVALID_NUMBER),
    ("١٢", ErrorCode.INVALID_NUMBER),  # non-ASCII digits
    ("-3", ErrorCode.NEGATIVE_NUMBER),
    ("-1.250", ErrorCode.NEGATIVE_NUMBER),
    ("1.000.000.000.000", ErrorCode.NUMBER_TOO_LARGE),
    ("9" * 5000, ErrorCode.NUMBER_TOO_LARGE),
]


@pytest.mark.parametrize(("token", "expected"), NUMBERS)
def test_parse_number(token: str, expected: int | ErrorCode) -> None:
    assert parse_number(token) == expected


def test_format_number() -> None:
    assert [format_number(n) for n in (0, 999, 1000, 12_500_000)] == ["0", "999", "1.000", "12.500.000"]


# --- errors ------------------------------------------------------------------------------------

LOG, DAT, HIT, REK, INS = Kind.LOGISTIK, Kind.DATA, Kind.HITUNG, Kind.REKAP, Kind.INSIDEN
ERRORS = [
    # (args, code, token named in the message, kind)
    ("", ErrorCode.MISSING_KIND, None, None),
    ("   ", ErrorCode.MISSING_KIND, None, None),
    ("@kuta", ErrorCode.MISSING_KIND, None, None),
    ("laporan 5", ErrorCode.UNKNOWN_KIND, "laporan", None),
    ("@kuta logistic kotak 5", ErrorCode.UNKNOWN_KIND, "logistic", None),
    ("@Kuta Selatan rekap 90/120", ErrorCode.KIND_AFTER_TARGET, "@Kuta_Selatan", None),
    ("@ rekap 1/2", ErrorCode.EMPTY_TARGET, "@", None),
    ("logistik", ErrorCode.MISSING_ITEM, None, LOG),
    ("logistik kotakk 5", ErrorCode.UNKNOWN_ITEM, "kotakk", LOG),
    ("logistik 5 kotak", ErrorCode.UNKNOWN_ITEM, "5", LOG),
    ("data", ErrorCode.MISSING_PROBLEM, None, DAT),
    ("data mati 3", ErrorCode.UNKNOWN_PROBLEM, "mati", DAT),
    ("insiden", ErrorCode.MISSING_DESCRIPTION, "insiden", INS),
    ("insiden kritsi banjir", ErrorCode.UNKNOWN_SEVERITY, "kritsi", INS),
    ("kejadian Darurrat banjir", ErrorCode.UNKNOWN_SEVERITY, "Darurrat", INS),
    ("insiden tingi banjir", ErrorCode.UNKNOWN_SEVERITY, "tingi", INS),
    ("insiden mendsak banjir", ErrorCode.UNKNOWN_SEVERITY, "mendsak", INS),
    ("logistik kotak", ErrorCode.MISSING_NUMBER, "kotak", LOG),
    ("logistik kotak suara", ErrorCode.MISSING_NUMBER, "kotak suara", LOG),
    ("logistik kotak 5 rusak", ErrorCode.MISSING_NUMBER, "rusak", LOG),
    ("data ganda", ErrorCode.MISSING_NUMBER, "ganda", DAT),
    ("hitung", ErrorCode.MISSING_NUMBER, "hitung", HIT),
    ("rekap", ErrorCode.MISSING_JENIS, None, REK),
    ("rekap pilkada 1/2", ErrorCode.UNKNOWN_JENIS, "pilkada", REK),
    ("rekap dpr 12", ErrorCode.INVALID_FRACTION, "12", REK),
    ("rekap dpr 0/0", ErrorCode.DESA_TOTAL_ZERO, "0/0", REK),
    ("rekap dpr 19/18", ErrorCode.DESA_DONE_OVER_TOTAL, "19", REK),
    ("rekap 1/2 sirekap", ErrorCode.MISSING_NUMBER, "sirekap", HIT),
    ("logistik kotak abc", ErrorCode.INVALID_NUMBER, "abc", LOG),
    ("logistik kotak 118x/120", ErrorCode.INVALID_NUMBER, "118x/120", LOG),
    ("logistik kotak 118/120x", ErrorCode.INVALID_NUMBER, "118/120x", LOG),
    ("logistik kotak 5 rusak dua", ErrorCode.INVALID_NUMBER, "dua", LOG),
    ("logistik kotak 1.25", ErrorCode.INVALID_NUMBER, "1.25", LOG),
    ("data ganda 1,5", ErrorCode.INVALID_NUMBER, "1,5", DAT),
    ("data ganda empat", ErrorCode.INVALID_NUMBER, "empat", DAT),
    ("hitung abc", ErrorCode.INVALID_NUMBER, "abc", HIT),
    ("rekap 1/2 sirekap satu", ErrorCode.INVALID_NUMBER, "satu", HIT),
    ("data ganda -3", ErrorCode.NEGATIVE_NUMBER, "-3", DAT),
    ("logistik kotak -3/120", ErrorCode.NEGATIVE_NUMBER, "-3/120", LOG),
    ("hitung -1", ErrorCode.NEGATIVE_NUMBER, "-1", HIT),
    ("rekap -1", ErrorCode.NEGATIVE_NUMBER, "-1", HIT),
    ("data ganda 1.000.000.000.000", ErrorCode.NUMBER_TOO_LARGE, "1.000.000.000.000", DAT),
    ("rekap 1/2/3", ErrorCode.INVALID_FRACTION, "1/2/3", HIT),
    ("logistik kotak 118/", ErrorCode.INVALID_FRACTION, "118/", LOG),
    ("logistik kotak /120", ErrorCode.INVALID_FRACTION, "/120", LOG),
    ("logistik kotak 241/120", ErrorCode.RECEIVED_OVER_PLAN, "241", LOG),
    ("logistik kotak 1/0", ErrorCode.RECEIVED_OVER_PLAN, "1", LOG),
    ("logistik kotak 5 rusak 6", ErrorCode.DAMAGED_OVER_RECEIVED, "6", LOG),
    ("logistik kotak 118/120 rusak 119", ErrorCode.DAMAGED_OVER_RECEIVED, "119", LOG),
    ("rekap 0/0", ErrorCode.TPS_TOTAL_ZERO, "0/0", HIT),
    ("rekap 206/205", ErrorCode.TPS_DONE_OVER_TOTAL, "206", HIT),
    ("rekap 180/205 sirekap 181", ErrorCode.SIREKAP_OVER_DONE, "181", HIT),
    ("insiden kritis", ErrorCode.MISSING_DESCRIPTION, "kritis", INS),
    ("insiden tinggi   ", ErrorCode.MISSING_DESCRIPTION, "tinggi", INS),
    ("insiden kritis " + "x" * (MAX_TEXT + 1), ErrorCode.TEXT_TOO_LONG, "1.001", INS),
    ("logistik kotak 5 " + "y" * 2000, ErrorCode.TEXT_TOO_LONG, "2.000", LOG),
    ("data ganda 5 " + "z" * 1001, ErrorCode.TEXT_TOO_LONG, "1.001", DAT),
    ("rekap 180/205 hujan", ErrorCode.UNEXPECTED_TOKEN, "hujan", HIT),
    ("rekap 180/205 sirekap 150 150", ErrorCode.SPLIT_NUMBER, "150 150", HIT),
    ("rekap 180/205 lalu 150", ErrorCode.UNEXPECTED_TOKEN, "lalu", HIT),
    ("rekap 180/205 (150)", ErrorCode.UNEXPECTED_TOKEN, "(", HIT),
    ("rekap dpr 12/18 desa 3", ErrorCode.LEFTOVER_FIGURE, "3", REK),
    ("logistik surat suara 293 150", ErrorCode.SPLIT_NUMBER, "293 150", LOG),
    ("data ganda 14 15 orang", ErrorCode.SPLIT_NUMBER, "14 15", DAT),
    ("logistik kotak 1025 dari 1.025 (5rusak", ErrorCode.LEFTOVER_FIGURE, "(5rusak", LOG),
    ("logistik kotak 1025 (5 rusak", ErrorCode.UNEXPECTED_TOKEN, "(5 rusak", LOG),
    ("logistik kotak 1025 tiba 3 rusak", ErrorCode.LEFTOVER_FIGURE, "3 rusak", LOG),
    ("logistik kotak 1025 tiba pagi, bilik 820", ErrorCode.LEFTOVER_FIGURE, "bilik 820", LOG),
    ("logistik kotak 1025 tiba, rusak: 2", ErrorCode.LEFTOVER_FIGURE, "rusak: 2", LOG),
    ("data ganda 14 dari 20", ErrorCode.LEFTOVER_FIGURE, "dari 20", DAT),
    ("logistik kotak 4.025 / 2 rb lagi", ErrorCode.RECEIVED_OVER_PLAN, "4.025", LOG),
    ("logistik tinta 10 12/20", ErrorCode.SPLIT_NUMBER, "10 12", LOG),
    ("logistik tinta 10 rusak 1 kotak 5 Kotak suara 6", ErrorCode.DUPLICATE_ITEM, "Kotak suara", LOG),
    ("logistik <b>kotak</b> 5", ErrorCode.UNKNOWN_ITEM, "<b>kotak</b>", LOG),
    ("data a&b 5", ErrorCode.UNKNOWN_PROBLEM, "a&b", DAT),
]


@pytest.mark.parametrize(("args", "code", "token", "kind"), ERRORS)
def test_errors(args: str, code: ErrorCode, token: str | None, kind: Kind | None) -> None:
    error = parse_lapor(args)
    assert isinstance(error, LaporError), error
    assert (error.code, error.token, error.kind) == (code, token, kind)
    rendered = render_error(error)
    assert_telegram_html(rendered)
    if code is ErrorCode.TEXT_TOO_LONG:  # the token is the length, not user text
        assert f"({token} karakter, paling banyak 1.000)" in rendered
    elif token is not None:
        assert f"«{html.escape(token)}»" in rendered
    if kind is None:
        assert texts.USAGE in rendered
    else:
        assert html.escape(texts.EXAMPLES[kind]) in rendered
        assert html.escape(texts.FORMS[kind]) in rendered


#: refused by the reporting service against the imported number of TPS, not by the parser
#: (tests/e2e/test_state.py checks them)
AGAINST_BASELINE = {ErrorCode.TPS_OVER_BASELINE, ErrorCode.MISSING_TPS_TOTAL}


def test_every_error_code_is_tested_and_worded() -> None:
    # a message of too many lines is `parse_message`'s (tests/unit/domain/test_numbers.py)
    assert {code for _, code, _, _ in ERRORS} == set(ErrorCode) - AGAINST_BASELINE - {ErrorCode.TOO_MANY_REPORTS}
    assert set(texts.ERRORS) == {code.value for code in ErrorCode}


@pytest.mark.parametrize(
    ("args", "choices"),
    [
        ("logistik kotakk 5", list(ITEMS)),
        ("logistik", list(ITEMS)),
        ("data mati 3", list(DATA_PROBLEMS)),
        ("insiden tingi x", ["rendah", "sedang", "tinggi", "kritis"]),
        ("laporan", ["logistik", "data", "hitung", "rekap", "insiden"]),
    ],
)
def test_unknown_term_lists_the_valid_ones(args: str, choices: list[str]) -> None:
    error = parse_lapor(args)
    assert isinstance(error, LaporError)
    assert ", ".join(choices) in render_error(error)


def test_rendered_examples() -> None:
    error = parse_lapor("logistik kotakk 5")
    assert isinstance(error, LaporError)
    assert render_error(error).splitlines()[0] == "Barang «kotakk» tidak dikenal."
    error = parse_lapor("logistik kotak 300/120")
    assert isinstance(error, LaporError)
    assert render_error(error).splitlines()[0] == (
        "Diterima «300» lebih dari dua kali kebutuhan (120). Periksa angkanya."
    )


def test_long_token_is_shortened_in_the_message() -> None:
    error = parse_lapor("logistik " + "k" * 300 + " 5")
    assert isinstance(error, LaporError)
    first = render_error(error).splitlines()[0]
    assert "k" * 40 + "…" in first and "k" * 41 not in first


def test_text_at_the_limit_is_accepted() -> None:
    text = "x" * MAX_TEXT
    assert ok(f"insiden sedang {text}").reports == (InsidenReport(Severity.SEDANG, text),)


def test_usage_menu() -> None:
    assert_telegram_html(texts.USAGE)
    for kind in Kind:
        assert html.escape(texts.EXAMPLES[kind]) in texts.USAGE
        example = texts.EXAMPLES[kind].removeprefix("/lapor ")
        assert isinstance(parse_lapor(example), ParsedLapor), example


# --- severity and plan -------------------------------------------------------------------------

SEVERITY = [
    # (report, kebutuhan in force, past the logistics deadline, severity)
    (HitungReport(0, 205, 0), None, False, Severity.RENDAH),
    (RekapReport("dpr", 0, 18), None, True, Severity.RENDAH),
    (DataReport("ganda", 14), None, False, Severity.SEDANG),
    (DataReport("lainnya", 0), 100, False, Severity.SEDANG),
    (InsidenReport(Severity.RENDAH, "x"), None, False, Severity.RENDAH),
    (InsidenReport(Severity.KRITIS, "x"), None, False, Severity.KRITIS),
    # a shortfall before the deadline is tracked (sedang), from it a problem (tinggi)
    (LogistikReport("kotak_suara", 700), 1025, False, Severity.SEDANG),
    (LogistikReport("kotak_suara", 700), 1025, True, Severity.TINGGI),
    (LogistikReport("kotak_suara", 1024), 1025, True, Severity.TINGGI),
    (LogistikReport("kotak_suara", 1025), 1025, True, Severity.RENDAH),
    (LogistikReport("kotak_suara", 1300), 1025, True, Severity.RENDAH),
    # damage is a problem at once
    (LogistikReport("kotak_suara", 1025, damaged=1), 1025, False, Severity.TINGGI),
    # the imported kebutuhan wins over the typed one
    (LogistikReport("kotak_suara", 118, 120), 118, True, Severity.RENDAH),
    (LogistikReport("kotak_suara", 120, 120), 200, False, Severity.SEDANG),
    # the typed one when nothing was imported; no kebutuhan known: nothing is short
    (LogistikReport("kotak_suara", 119, 120), None, True, Severity.TINGGI),
    (LogistikReport("kotak_suara", 5), None, True, Severity.RENDAH),
]


@pytest.mark.parametrize(("report", "plan", "past", "severity"), SEVERITY)
def test_derive_severity(report: object, plan: int | None, past: bool, severity: Severity) -> None:
    assert derive_severity(report, plan, past_deadline=past) is severity  # type: ignore[arg-type]


def test_logistics_deadline() -> None:
    h = date(2024, 2, 14)
    assert not logistics_due(date(2024, 2, 11), h, 2)
    assert logistics_due(date(2024, 2, 12), h, 2) and logistics_due(date(2024, 2, 13), h, 2)
    assert logistics_due(date(2024, 2, 14), h, 0) and not logistics_due(date(2024, 2, 13), h, 0)


@pytest.mark.parametrize(
    ("report", "plan", "complete"),
    [
        (LogistikReport("kotak_suara", 1025), 1025, True),
        (LogistikReport("kotak_suara", 1025, damaged=2), 1025, False),  # damaged not yet replaced
        (LogistikReport("kotak_suara", 900), 1025, False),
        (LogistikReport("kotak_suara", 5), None, False),  # no kebutuhan: never "complete"
        (HitungReport(205, None, 205), 205, True),
        (HitungReport(205, None, None), 205, False),  # Sirekap not reported
        (HitungReport(205, 205, 200), None, False),
        (RekapReport("dpr", 18, 18), None, True),
        (RekapReport("dpr", 17, 18), None, False),
        (DataReport("ganda", 1), None, False),
    ],
)
def test_is_complete(report: object, plan: int | None, complete: bool) -> None:
    assert is_complete(report, plan) is complete  # type: ignore[arg-type]


def test_went_down() -> None:
    assert went_down(HitungReport(18), HitungReport(180, 205, 150))
    assert went_down(HitungReport(180, None, 10), HitungReport(180, 205, 150))
    assert not went_down(HitungReport(180, None, None), HitungReport(180, 205, 150))  # Sirekap left out
    assert went_down(LogistikReport("tinta", 10), LogistikReport("tinta", 11))
    assert not went_down(LogistikReport("tinta", 11, damaged=0), LogistikReport("tinta", 11, damaged=3))
    assert went_down(RekapReport("dpr", 3, 18), RekapReport("dpr", 4, 18))
    assert not went_down(LogistikReport("tinta", 1), None)


@pytest.mark.parametrize(
    ("report", "plan", "code"),
    [
        (LogistikReport("kotak_suara", 200), 100, None),
        (LogistikReport("kotak_suara", 201), 100, ErrorCode.RECEIVED_OVER_PLAN),
        (LogistikReport("kotak_suara", 1), 0, ErrorCode.RECEIVED_OVER_PLAN),
        (LogistikReport("kotak_suara", 201, 150), 100, ErrorCode.RECEIVED_OVER_PLAN),  # the imported one wins
        (LogistikReport("kotak_suara", 201, 50), 150, None),
        (LogistikReport("kotak_suara", 301, 150), None, ErrorCode.RECEIVED_OVER_PLAN),
        (LogistikReport("kotak_suara", 10**6), None, None),  # no plan: no limit
        (LogistikReport("kotak_suara", 5, damaged=6), None, ErrorCode.DAMAGED_OVER_RECEIVED),
        (LogistikReport("kotak_suara", 5, damaged=5), 5, None),
        (HitungReport(1, 2), 0, None),
        (DataReport("ganda", 10**6), 1, None),
    ],
)
def test_check_against_plan(report: object, plan: int | None, code: ErrorCode | None) -> None:
    error = check_against_plan(report, plan)  # type: ignore[arg-type]
    assert (error.code if error else None) == code
    if error is not None:
        assert error.kind is Kind.LOGISTIK
        assert_telegram_html(render_error(error))


def test_check_against_imported_plan_names_numbers() -> None:
    error = check_against_plan(LogistikReport("surat_suara", 25_000), 12_000)
    assert error is not None
    assert render_error(error).splitlines()[0] == (
        "Diterima «25.000» lebih dari dua kali kebutuhan (12.000). Periksa angkanya."
    )


def test_severity_order() -> None:
    assert Severity.RENDAH < Severity.SEDANG < Severity.TINGGI < Severity.KRITIS
    assert [s.rank for s in Severity] == [0, 1, 2, 3]
    assert sorted([Severity.KRITIS, Severity.RENDAH, Severity.TINGGI]) == [
        Severity.RENDAH,
        Severity.TINGGI,
        Severity.KRITIS,
    ]
    assert max(Severity) is Severity.KRITIS
    assert Severity.TINGGI >= "sedang"
    assert Severity.SEDANG > "rendah"
    assert "rendah" < Severity.SEDANG  # noqa: SIM300 - the reflected comparison is under test
    assert Severity.SEDANG == "sedang" and {"sedang": 1}[Severity.SEDANG] == 1
    with pytest.raises(TypeError):
        _ = Severity.RENDAH < "parah"
    with pytest.raises(TypeError):
        _ = Severity.RENDAH < 1  # type: ignore[operator]


def test_kind_values_and_labels() -> None:
    assert [k.value for k in Kind] == ["logistik", "data", "hitung", "rekap", "insiden"]
    assert texts.kind_label(Kind.DATA) == "Data pemilih"


# --- restating a report ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("report", "severity", "expected"),
    [
        (
            LogistikReport("kotak_suara", 118, 120, 2, "dua <penyok>"),
            Severity.SEDANG,
            "<b>Logistik</b> Kotak suara: diterima 118 dari kebutuhan 120, rusak 2\n"
            "<i>dua &lt;penyok&gt;</i>\nPrioritas: <b>sedang</b>",
        ),
        (LogistikReport("surat_suara", 12_500), None, "<b>Logistik</b> Surat suara: diterima 12.500"),
        (DataReport("ganda", 14, "Desa Kuta"), None, "<b>Data pemilih</b>, Ganda: 14 orang\n<i>Desa Kuta</i>"),
        (
            HitungReport(180, 205, 150),
            None,
            "<b>Penghitungan suara</b>: 180 dari 205 TPS selesai (87,8%), C.Hasil diunggah ke Sirekap: 150",
        ),
        (
            HitungReport(180, 205),
            None,
            "<b>Penghitungan suara</b>: 180 dari 205 TPS selesai (87,8%), Sirekap: belum dilaporkan",
        ),
        (
            RekapReport("dpr", 12, 18),
            None,
            "<b>Rekapitulasi kecamatan</b> DPR: 12 dari 18 desa selesai (66,7%)",
        ),
        (
            InsidenReport(Severity.KRITIS, "banjir & longsor"),
            None,
            "<b>Insiden</b> prioritas kritis\n<i>banjir &amp; longsor</i>",
        ),
    ],
)
def test_describe_report(report: object, severity: Severity | None, expected: str) -> None:
    text = describe_report(report, severity)  # type: ignore[arg-type]
    assert text == expected
    assert_telegram_html(text)


# --- properties --------------------------------------------------------------------------------

_WORDS = st.sampled_from(
    [
        "logistik",
        "data",
        "rekap",
        "insiden",
        "kotak",
        "suara",
        "rusak",
        "sirekap",
        "kritis",
        "ganda",
        "@kuta",
        "@",
        "1.250",
        "118/120",
        "/",
        "0",
        "-3",
        "1,5",
        "<b>",
        "&",
        "\n",
        "abc",
        "99999999999999",
        "alat",
        "bantu",
        "tunanetra",
        "belum",
        "terdaftar",
    ]
)
_GRAMMARISH = st.lists(st.one_of(_WORDS, st.text(max_size=8)), max_size=8).map(" ".join)


@given(st.one_of(st.text(), _GRAMMARISH))
@example("logistik kotak 1" + "0" * 5000)
@example("rekap 1/" + "9" * 5000)
@example("\x00\u2028@\u00a0rekap\u30001/2")
def test_never_raises(args: str) -> None:
    result = parse_lapor(args)
    assert isinstance(result, ParsedLapor | LaporError)
    if isinstance(result, LaporError):
        assert_telegram_html(render_error(result))


def _dotted(n: int) -> str:
    return format_number(n)


_NUMERAL: st.SearchStrategy[Callable[[int], str]] = st.sampled_from([str, _dotted])
_ITEM_SPELLING = st.sampled_from([s for s, _ in ITEM_SPELLINGS])


_NOTE_KEYWORDS = ("rusak", "dari", "ribu", "rb", "juta", "jt", "/")


def _not_keyword_first(note: str) -> bool:
    """A note starting with a word of the figures (`rusak`, `dari`, a scale) would be read as
    part of them (by design); a note with digits is checked for leftover figures elsewhere."""
    return not note.casefold().startswith(_NOTE_KEYWORDS)


@st.composite
def _logistik_line(draw: st.DrawFn) -> tuple[str, LogistikReport]:
    spelling = draw(_ITEM_SPELLING)
    planned = draw(st.none() | st.integers(0, 10**7))
    upper = 10**7 if planned is None else planned * 2
    received = draw(st.integers(0, upper))
    damaged = draw(st.integers(0, received))
    note = draw(
        st.text(st.characters(blacklist_categories=("Nd", "No", "Cs")), max_size=50)
        .map(str.strip)
        .filter(_not_keyword_first)
    )
    show = draw(_NUMERAL)
    line = f"logistik {spelling} {show(received)}"
    if planned is not None:
        line += f"/{show(planned)}"
    if damaged or draw(st.booleans()):
        line += f" {draw(st.sampled_from(['rusak', 'RUSAK', 'Rusak']))} {show(damaged)}"
    if note:
        line += f" {note}"
    return line, LogistikReport(dict(ITEM_SPELLINGS)[spelling], received, planned, damaged, note)


@given(_logistik_line())
def test_logistik_round_trip(case: tuple[str, LogistikReport]) -> None:
    line, report = case
    result = parse_lapor(line)
    assert isinstance(result, ParsedLapor), (line, result)
    assert result.reports == (report,)


@given(
    total=st.integers(1, 10**6),
    data=st.data(),
    show=_NUMERAL,
    target=st.none() | st.sampled_from(["51.03.01", "kuta_selatan", "510301"]),
)
def test_rekap_round_trip(total: int, data: st.DataObject, show: Callable[[int], str], target: str | None) -> None:
    done = data.draw(st.integers(0, total))
    sirekap = data.draw(st.none() | st.integers(0, done))
    line = f"rekap {show(done)}/{show(total)}"
    if sirekap is not None:
        line += f" sirekap {show(sirekap)}"
    if target is not None:
        line = f"@{target} {line}"
    assert parse_lapor(line) == ParsedLapor(target, (HitungReport(done, total, sirekap),))


@given(st.text(alphabet=st.sampled_from("<>&\"'ab /1"), min_size=1, max_size=30))
def test_rendered_errors_escape_user_input(junk: str) -> None:
    for line in (
        f"logistik {junk} 5",
        f"data {junk} 5",
        f"insiden {junk} x",
        f"rekap 1/2 {junk}",
        f"{junk}",
        f"logistik kotak {junk}",
    ):
        result = parse_lapor(line)
        if isinstance(result, LaporError):
            rendered = render_error(result)
            assert_telegram_html(rendered)
            if result.token:
                assert html.escape(result.token[:40]) in rendered


def test_the_report_number_a_caption_starts_with():
    assert incident_number("#102") == 102
    assert incident_number("  102 foto gudang") == 102
    assert incident_number("#7, atap bocor") == 7
    assert incident_number("foto #102") is None  # only a caption that starts with it
    assert incident_number("#1234567890123456789") is None  # more digits than a report number has
    assert incident_number("") is None and incident_number(None) is None
