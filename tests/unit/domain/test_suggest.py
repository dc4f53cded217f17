"""Near misses (`bot.domain.suggest`): a suggestion is offered only when it parses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.parsing import parse_message
from bot.domain.suggest import closest_command, correct_line, report_in_plain_text


@pytest.mark.parametrize(
    ("line", "corrected"),
    [
        ("logistik ktak suara 1000", "logistik kotak suara 1000"),
        ("logistic kotak 1025", "logistik kotak 1025"),
        ("logistic ktak suara 1000", "logistik kotak suara 1000"),
        ("data gnda 14", "data ganda 14"),
        ("insiden kritsi gudang banjir", "insiden kritis gudang banjir"),
        ("logistik kotak 1025\n/lapor logistik bilk 820", "logistik kotak 1025\n/lapor logistik bilik 820"),
        ("logistik kotak 1025", None),  # nothing to correct
        ("logistik ktak 293 150", None),  # corrected, it still does not parse: no suggestion
        ("laporan kotak 5", None),  # not close to any kind
        ("logistik zzz 5", None),
    ],
)
def test_correct_line(line: str, corrected: str | None) -> None:
    assert correct_line(line) == corrected


@pytest.mark.parametrize(
    ("text", "args"),
    [
        ("kotak suara sudah tiba 1025", "logistik kotak suara 1025"),
        ("Kotak suara 1.025 sudah diterima", "logistik Kotak suara 1.025"),
        ("logistik kotak 1025", "logistik kotak 1025"),
        ("rekap 180/205", "rekap 180/205"),
        ("ganda 14 orang", "data ganda 14 orang"),
        ("selamat pagi", None),
        ("ini foto C.Hasil TPS 12", None),
        ("banjir di gudang 2 meter", None),  # an incident is never guessed from plain words
    ],
)
def test_report_in_plain_text(text: str, args: str | None) -> None:
    assert report_in_plain_text(text) == args


def test_closest_command() -> None:
    names = ["lapor", "status", "ringkasan", "logistik"]
    assert closest_command("laporan", names) == "lapor"
    assert closest_command("LAPOR", names) == "lapor"
    assert closest_command("ringkas", names) == "ringkasan"
    assert closest_command("xyz", names) is None


@given(st.text(max_size=60))
def test_a_suggestion_always_parses(text: str) -> None:
    for found in (correct_line(text), report_in_plain_text(text)):
        if found is not None:
            assert not hasattr(parse_message(found), "code"), (text, found)
