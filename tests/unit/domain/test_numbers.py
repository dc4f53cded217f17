"""The one grammar for numbers (`bot.domain.numbers`) and what `/lapor` lines read with it.

The property at the end is the issue's promise: a figure the parser returns is a whole number of
the text (as written, or scaled by `ribu`/`rb`/`juta`), never a fragment of a longer one.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.domain.numbers import NumberProblem, TokenKind, Unread, lex, read_figure, value_of
from bot.domain.parsing import MAX_REPORTS, parse_lapor, parse_message, split_message
from bot.domain.reporting import (
    DataReport,
    ErrorCode,
    HitungReport,
    InsidenReport,
    LaporError,
    LogistikReport,
    ParsedLapor,
    RekapReport,
    Severity,
)
from bot.texts.reporting import render_error


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1025", 1025),
        ("1.025", 1025),
        ("293 ribu", 293_000),
        ("293rb", 293_000),
        ("1,2 rb", 1_200),
        ("1,25 ribu", 1_250),
        ("1,5 juta", 1_500_000),
        ("2 jt", 2_000_000),
        ("0", 0),
    ],
)
def test_figures_read_whole(text: str, value: int) -> None:
    tokens = lex(text)
    figure = read_figure(text, tokens, 0)
    assert not isinstance(figure, Unread), figure
    assert (figure.value, figure.end, figure.text) == (value, len(tokens), text)


@pytest.mark.parametrize(
    ("text", "problem", "named", "hint"),
    [
        ("293 150", NumberProblem.SPLIT, "293 150", "293.150"),
        ("1.025 300", NumberProblem.SPLIT, "1.025 300", "1.025.300"),
        ("14 15", NumberProblem.SPLIT, "14 15", None),
        ("293,150", NumberProblem.INVALID, "293,150", "293.150"),
        ("1,5", NumberProblem.INVALID, "1,5", None),
        ("1.25", NumberProblem.INVALID, "1.25", None),
        ("1,2345 rb", NumberProblem.INVALID, "1,2345 rb", None),
        ("1025abc", NumberProblem.INVALID, "1025abc", None),
        ("TPS12", NumberProblem.INVALID, "TPS12", None),
        ("-3", NumberProblem.NEGATIVE, "-3", None),
        ("", NumberProblem.MISSING, "", None),
    ],
)
def test_figures_refused(text: str, problem: NumberProblem, named: str, hint: str | None) -> None:
    figure = read_figure(text, lex(text), 0)
    assert figure == Unread(problem, named, hint)


def test_lex_keeps_glued_words_whole_and_splits_what_takes_a_number() -> None:
    assert [(t.kind, t.text) for t in lex("rusak2 (5 rusak) C1.Hasil suara: 1.025,")] == [
        (TokenKind.WORD, "rusak"),
        (TokenKind.NUMBER, "2"),
        (TokenKind.OPEN, "("),
        (TokenKind.NUMBER, "5"),
        (TokenKind.WORD, "rusak"),
        (TokenKind.CLOSE, ")"),
        (TokenKind.WORD, "C1.Hasil"),
        (TokenKind.WORD, "suara"),
        (TokenKind.SEP, ":"),
        (TokenKind.NUMBER, "1.025"),
        (TokenKind.COMMA, ","),
    ]


def test_value_of_scales_only_whole_results() -> None:
    assert value_of("1,2", 1000) == 1200
    assert value_of("1,2") is NumberProblem.INVALID
    assert value_of("1,0001", 1000) is NumberProblem.INVALID
    assert value_of("9" * 16) is NumberProblem.TOO_LARGE


# --- what officers type (issue 12), read exactly or refused --------------------------------------

K, B, S, T = "kotak_suara", "bilik_suara", "surat_suara", "tinta"

READ = [
    ("logistik kotak suara 118 dari 120", (LogistikReport(K, 118, 120),)),
    ("logistik surat suara 293 ribu", (LogistikReport(S, 293_000),)),
    ("logistik surat suara 1,2 rb", (LogistikReport(S, 1_200),)),
    ("logistik kotak suara 1025 rusak2", (LogistikReport(K, 1025, None, 2),)),
    ("logistik kotak suara 1025 (5 rusak)", (LogistikReport(K, 1025, None, 5),)),
    ("logistik kotak suara 1.020 dari 1.025, 3 rusak", (LogistikReport(K, 1020, 1025, 3),)),
    (
        "logistik kotak 1025 bilik 820 tinta 410",
        (LogistikReport(K, 1025), LogistikReport(B, 820), LogistikReport(T, 410)),
    ),
    ("logistik kotak suara: 1025", (LogistikReport(K, 1025),)),
    ("logistik kotak suara = 1025", (LogistikReport(K, 1025),)),
    ("logistik kotak 118/120", (LogistikReport(K, 118, 120),)),
    ("logistik kotak 118 / 120 rusak: 2 penyok", (LogistikReport(K, 118, 120, 2, "penyok"),)),
    (
        "logistik kotak 1025, bilik 820 tiba pagi",
        (LogistikReport(K, 1025, note="tiba pagi"), LogistikReport(B, 820, note="tiba pagi")),
    ),
    ("logistik kotak 1025 sampai di TPS 12", (LogistikReport(K, 1025, note="sampai di TPS 12"),)),
    ("rekap 180 dari 205 TPS", (HitungReport(180, 205),)),
    ("rekap 180 / 205", (HitungReport(180, 205),)),
    ("rekap 180/205 sirekap: 150", (HitungReport(180, 205, 150),)),
    ("rekap 180/205 upload 150", (HitungReport(180, 205, 150),)),
    ("rekap 180/205, sirekap150", (HitungReport(180, 205, 150),)),
    ("rekapitulasi 180/205", (HitungReport(180, 205),)),
    ("penghitungan 180/205", (HitungReport(180, 205),)),
    ("hitung 180/205 sirekap 150", (HitungReport(180, 205, 150),)),
    ("rekap 180", (HitungReport(180),)),  # the imported number of TPS is the total
    ("rekapitulasi dpr 12 dari 18 desa", (RekapReport("dpr", 12, 18),)),
    ("rekap DPRD kab kota: 4 / 18", (RekapReport("dprd_kabkota", 4, 18),)),
    (
        "logistik surat suara dprd provinsi 2 rb hologram 410",
        (LogistikReport("surat_suara_dprd_prov", 2000), LogistikReport("hologram", 410)),
    ),
    ("data pemilih ganda 14", (DataReport("ganda", 14),)),
    ("data DPT ganda 14", (DataReport("ganda", 14),)),
    ("data dptb 3", (DataReport("dptb", 3),)),
    ("data pindah memilih 3", (DataReport("dptb", 3),)),
    ("data dpk 2", (DataReport("dpk", 2),)),
    ("data pemilih 4 orang", None),  # `pemilih` is not a jenis: refused below
    ("insiden darurat gudang banjir", (InsidenReport(Severity.KRITIS, "gudang banjir"),)),
    ("insiden mendesak kotak hilang", (InsidenReport(Severity.TINGGI, "kotak hilang"),)),
    ("insiden KPPS pingsan di TPS 12", (InsidenReport(Severity.SEDANG, "KPPS pingsan di TPS 12"),)),
    ("kejadian kritis jalan putus", (InsidenReport(Severity.KRITIS, "jalan putus"),)),
]


@pytest.mark.parametrize(("line", "reports"), [r for r in READ if r[1] is not None])
def test_what_officers_type_is_read_exactly(line: str, reports: tuple) -> None:
    assert parse_lapor(line) == ParsedLapor(None, reports)


REFUSED = [
    ("logistik surat suara 293 150", ErrorCode.SPLIT_NUMBER, "293 150", "293.150"),
    ("logistik surat suara 293,150", ErrorCode.INVALID_NUMBER, "293,150", "293.150"),
    ("logistik kotak suara 1025 tiba 3 rusak", ErrorCode.LEFTOVER_FIGURE, "3 rusak", None),
    ("logistik kotak 1025 dari 120", ErrorCode.RECEIVED_OVER_PLAN, "1025", None),
    ("logistik kotak 1025abc", ErrorCode.INVALID_NUMBER, "1025abc", None),
    ("logistik ktak suara 1000", ErrorCode.UNKNOWN_ITEM, "ktak", None),
    ("logistic kotak 1000", ErrorCode.UNKNOWN_KIND, "logistic", None),
    ("data pemilih 4 orang", ErrorCode.UNKNOWN_PROBLEM, "pemilih", None),
    ("rekap dpr 12", ErrorCode.INVALID_FRACTION, "12", None),
    ("rekap 180/205 sirekap 150 150", ErrorCode.SPLIT_NUMBER, "150 150", "150.150"),
    ("data ganda 14rusak", ErrorCode.INVALID_NUMBER, "14rusak", None),
]


@pytest.mark.parametrize(("line", "code", "named", "hint"), REFUSED)
def test_what_cannot_be_read_is_refused_naming_it(line: str, code: ErrorCode, named: str, hint: str | None) -> None:
    error = parse_lapor(line)
    assert isinstance(error, LaporError), error
    assert (error.code, error.token, error.hint) == (code, named, hint)
    rendered = render_error(error)
    assert f"«{named}»" in rendered
    if hint is not None:
        assert f"<code>{hint}</code>" in rendered


def test_a_message_of_several_lines() -> None:
    text = "logistik kotak 1025\n/lapor logistik bilik 820\n/lapor@kpu_bot insiden banjir\ndi gudang"
    assert split_message(text) == ["logistik kotak 1025", "logistik bilik 820", "insiden banjir\ndi gudang"]
    parsed = parse_message(text)
    assert isinstance(parsed, list)
    assert [p.reports for p in parsed] == [
        (LogistikReport(K, 1025),),
        (LogistikReport(B, 820),),
        (InsidenReport(Severity.SEDANG, "banjir\ndi gudang"),),
    ]


def test_a_bad_line_refuses_the_whole_message_naming_it() -> None:
    error = parse_message("logistik kotak 1025\n/lapor logistik bilik 8 20\n/lapor data ganda 3")
    assert isinstance(error, LaporError)
    assert (error.code, error.token, error.line) == (ErrorCode.SPLIT_NUMBER, "8 20", 2)
    assert render_error(error).startswith("Baris 2: «8 20»")
    single = parse_message("logistik bilik 8 20")
    assert isinstance(single, LaporError) and single.line is None


def test_too_many_reports_in_one_message() -> None:
    error = parse_message("\n".join(["data ganda 1"] + ["/lapor data ganda 1"] * MAX_REPORTS))
    assert isinstance(error, LaporError)
    assert (error.code, error.bound) == (ErrorCode.TOO_MANY_REPORTS, MAX_REPORTS)
    assert isinstance(parse_message("\n".join(["data ganda 1"] + ["/lapor data ganda 1"] * (MAX_REPORTS - 1))), list)


# --- the property: figures are whole numbers of the text -----------------------------------------

#: A maximal run of digits with `.`/`,` between them, not glued to other digits.
_RUN = re.compile(r"(?<![0-9])[0-9](?:[0-9.,]*[0-9])?(?![0-9])")
_SCALED = {"ribu": 1000, "rb": 1000, "rb.": 1000, "juta": 1_000_000, "jt": 1_000_000}
_TAKES_NUMBER = ("rusak", "sirekap", "upload", "unggah")


def _values_in(text: str) -> set[int]:
    """Every value a whole number of `text` may stand for: as written (`1.025` → 1025) or scaled by
    the word after it. A run glued to letters (`TPS12`, `12abc`) stands for nothing, unless the
    letters are a keyword taking a number or a scale. Written independently of the parser."""
    values: set[int] = set()
    for run in _RUN.finditer(text):
        before = re.search(r"[^\W\d_]+\Z", text[: run.start()])
        after = re.match(r"[^\W\d_]+\.?", text[run.end() :])
        if before and before.group().casefold() not in _TAKES_NUMBER:
            continue
        if after and after.group().casefold() not in _SCALED:
            continue
        written = run.group()
        if re.fullmatch(r"[0-9]+|[0-9]{1,3}(?:\.[0-9]{3})+", written):
            values.add(int(written.replace(".", "")))
        word = re.match(r"\s*([^\W\d_]+\.?)", text[run.end() :])
        scale = _SCALED.get(word.group(1).casefold()) if word else None
        if scale is not None:
            number = written.replace(".", "").replace(",", ".")
            if written.count(",") <= 1:
                scaled = Decimal(number) * scale
                if scaled == scaled.to_integral_value():
                    values.add(int(scaled))
    return values


def _figures(parsed: ParsedLapor) -> list[int]:
    found: list[int] = []
    for report in parsed.reports:
        match report:
            case LogistikReport():
                found += [report.received] + ([report.planned] if report.planned is not None else [])
                found += [report.damaged] if report.damaged else []
            case DataReport():
                found.append(report.count)
            case HitungReport():
                found += [report.tps_done] + ([report.tps_total] if report.tps_total is not None else [])
                found += [report.sirekap] if report.sirekap is not None else []
            case RekapReport():
                found += [report.desa_done, report.desa_total]
    return found


_NUMBER_TEXT = st.one_of(
    st.integers(0, 10**7).map(str),
    st.integers(1000, 10**9).map(lambda n: f"{n:,}".replace(",", ".")),
    st.tuples(st.integers(0, 99), st.integers(0, 999)).map(lambda p: f"{p[0]},{p[1]}"),
    st.from_regex(r"[0-9]{1,4}[.,][0-9]{1,4}", fullmatch=True),
    st.sampled_from(["0", "00", "1.", ".5", "-3", "1/", "/2"]),
)
_PIECES = st.one_of(
    _NUMBER_TEXT,
    st.sampled_from(
        [
            "kotak",
            "suara",
            "bilik",
            "tinta",
            "surat",
            "rusak",
            "dari",
            "/",
            "ribu",
            "rb",
            "juta",
            "sirekap",
            "upload",
            ":",
            "=",
            "(",
            ")",
            ",",
            "TPS",
            "tps",
            "dan",
            "tiba",
            "pemilih",
            "ganda",
            "DPT",
            "desa",
            "dpr",
            "kritis",
            "darurat",
            "x",
            "abc",
            "C1.Hasil",
        ]
    ),  # fmt: skip
)
_GLUE = st.sampled_from([" ", " ", " ", "", "\n"])


@st.composite
def _report_lines(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(["logistik", "data", "rekap", "hitung", "insiden", "logistik kotak", "data ganda", "rekap dpr"])
    )
    pieces = draw(st.lists(st.tuples(_GLUE, _PIECES), max_size=12))
    return kind + " " + "".join(glue + piece for glue, piece in pieces)


@settings(max_examples=600)
@given(_report_lines())
@example("logistik kotak 1025abc")
@example("logistik kotak 293 150")
@example("logistik kotak 1,2 rb bilik 1.02")
@example("logistik kotak 12rb")
@example("rekap 10 dari 20TPS")
@example("rekap dpr 12 dari 18 desa")
@example("data ganda 14rusak")
@example("logistik  kotak\n0")
def test_figures_are_never_fragments(line: str) -> None:
    result = parse_lapor(line)
    if isinstance(result, LaporError):
        return
    allowed = _values_in(line)
    for figure in _figures(result):
        assert figure in allowed, (line, result, allowed)
