"""NIK detection, masking and region checks (`bot.domain.privacy`)."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.domain.privacy import find_niks, for_chat, mask_nik, mask_niks, nik_region_mismatches

NIK = "5103011234560001"
NIK2 = "5171029876540012"
_SIXTEEN = re.compile(r"(?<![0-9])[0-9]{16}(?![0-9])")


def test_mask_nik() -> None:
    assert mask_nik(NIK) == "5103**********01"
    assert len(mask_nik(NIK)) == 16


@pytest.mark.parametrize("bad", ["", "123", NIK + "1", NIK[:-1], "5103a11234560001", "５" * 16])
def test_mask_nik_refuses_non_nik(bad: str) -> None:
    with pytest.raises(ValueError):
        mask_nik(bad)


@pytest.mark.parametrize(
    ("text", "niks", "masked"),
    [
        (NIK, [NIK], "5103**********01"),
        (f"NIK {NIK} ganda", [NIK], "NIK 5103**********01 ganda"),
        (f"NIK:{NIK}.", [NIK], "NIK:5103**********01."),
        (f"a{NIK}b", [NIK], "a5103**********01b"),
        (f"{NIK},{NIK2}", [NIK, NIK2], "5103**********01,5171**********12"),
        (f"{NIK} dan {NIK2} dan {NIK}", [NIK, NIK2, NIK], "5103**********01 dan 5171**********12 dan 5103**********01"),
        (f"baris1\n{NIK}\nbaris3", [NIK], "baris1\n5103**********01\nbaris3"),
        # written in groups, with invisible characters, in other digits: still NIKs
        ("5103 0112 3456 0001", [NIK], "5103 **** **** **01"),
        ("NIK: 5103-0112-3456-0001.", [NIK], "NIK: 5103-****-****-**01."),
        ("5103.0112.3456.0001", [NIK], "5103.****.****.**01"),
        ("51.03.01.123456.0001", [NIK], "51.03.**.******.**01"),
        ("510301 123456 0001", [NIK], "5103** ****** **01"),
        ("5103\u200b0112\u200c3456\u20600001", [NIK], "5103\u200b****\u200c****\u2060**01"),
        ("5\u200b1\u200b0\u200b3011234560001", [NIK], "5\u200b1\u200b0\u200b3**********01"),
        ("5103 \u200b0112 3456 0001", [NIK], "5103 \u200b**** **** **01"),
        ("５１０３０１１２３４５６０００１", [NIK], "５１０３**********０１"),
        ("٥١٠٣٠١١٢٣٤٥٦٠٠٠١", [NIK], "٥١٠٣**********٠١"),
        ("۵۱۰۳ ۰۱۱۲ ۳۴۵۶ ۰۰۰۱", [NIK], "۵۱۰۳ **** **** **۰۱"),
        # not NIKs: 15 and 17 digits, in groups too, lists of small figures, phone numbers
        ("510301123456000", [], "510301123456000"),
        ("51030112345600011", [], "51030112345600011"),
        ("5103 0112 3456 00011", [], "5103 0112 3456 00011"),
        ("10 20 30 40 50 60 70 80", [], "10 20 30 40 50 60 70 80"),
        ("1.250 kotak, 081234567890", [], "1.250 kotak, 081234567890"),
        ("rekap 120/300 sirekap 100", [], "rekap 120/300 sirekap 100"),
        (f"{NIK}0 {NIK}", [NIK], f"{NIK}0 5103**********01"),
        ("", [], ""),
    ],
)
def test_find_and_mask(text: str, niks: list[str], masked: str) -> None:
    assert find_niks(text) == niks
    assert mask_niks(text) == masked


def test_masking_keeps_everything_else() -> None:
    text = f"<b>Laporan</b> & NIK {NIK} — ok"
    assert mask_niks(text) == "<b>Laporan</b> & NIK 5103**********01 — ok"


@pytest.mark.parametrize(
    ("region", "text", "mismatches"),
    [
        ("51.03.01", NIK, []),
        ("51.03.01", NIK2, [NIK2]),
        ("51.03.02", NIK, [NIK]),
        ("51.03", NIK, []),
        ("51.03", "5103991234560001", []),  # other kecamatan, same kabupaten
        ("51.03", NIK2, [NIK2]),
        ("51", NIK, []),
        ("51", NIK2, []),
        ("51", "3201011234560001", ["3201011234560001"]),
        ("ID", f"{NIK} {NIK2} 3201011234560001", []),
        ("id", NIK2, []),
        ("51.03.01.2001", NIK, []),  # desa: compared on its kecamatan
        ("51.03.01.2001", NIK2, [NIK2]),
        ("51.03.01", f"{NIK2} {NIK} {NIK2}", [NIK2]),  # each listed once
        ("51.03.01", f"{NIK2} 3201011234560001", [NIK2, "3201011234560001"]),
        ("51.03.01", "tanpa nik 510399", []),
        ("51.03.01", "51039912345600011", []),  # 17 digits: not a NIK
    ],
)
def test_region_mismatches(region: str, text: str, mismatches: list[str]) -> None:
    assert nik_region_mismatches(text, region) == mismatches


@pytest.mark.parametrize("bad", ["", "5", "510301", "51.3", "51.03.01.20", "Bali", "51..03"])
def test_region_mismatches_refuses_bad_codes(bad: str) -> None:
    with pytest.raises(ValueError):
        nik_region_mismatches(NIK, bad)


_DIGITISH = st.text(alphabet=st.sampled_from("0123456789 x*\n.-\u200b５٥"), max_size=80)


@given(st.one_of(st.text(), _DIGITISH))
@example("1" * 16)
@example("1" * 32)
@example("1" * 16 + "*" + "2" * 16)
def test_masked_text_has_no_nik(text: str) -> None:
    masked = mask_niks(text)
    assert not _SIXTEEN.search(masked)
    assert find_niks(masked) == []
    assert len(masked) == len(text)
    assert mask_niks(masked) == masked  # idempotent


@given(
    st.lists(st.from_regex(r"[0-9]{16}", fullmatch=True), max_size=4),
    st.sampled_from([" ", "-", ".", "\u200b", " \u200b", "\u2060"]),
)
def test_separated_niks_are_found(niks: list[str], sep: str) -> None:
    grouped = [f"{n[:4]}{sep}{n[4:8]}{sep}{n[8:12]}{sep}{n[12:]}" for n in niks]
    text = " , ".join(grouped)
    assert find_niks(text) == niks
    assert find_niks(mask_niks(text)) == []


@given(st.lists(st.from_regex(r"[0-9]{16}", fullmatch=True), max_size=5), st.sampled_from([" ", ", ", "\n"]))
def test_every_nik_is_found_and_masked(niks: list[str], sep: str) -> None:
    text = sep.join(niks)
    assert find_niks(text) == niks
    assert mask_niks(text) == sep.join(mask_nik(n) for n in niks)


def test_niks_kept_are_left_readable_and_the_others_masked():
    """`keep`: NIKs the reader wrote themselves (a coordinator's note quoting the reporter's)."""
    mine, other = "5103011234560001", "5171022345670002"
    text = f"NIK {mine[:4]} {mine[4:8]} {mine[8:12]} {mine[12:]} dan {other}"
    masked = mask_niks(text, keep=[mine])
    assert find_niks(masked) == [mine] and len(masked) == len(text)
    assert for_chat(text, 100, 200, theirs=[mine]) == masked
    assert for_chat(text, 200, 200) == text and for_chat(text, 100, 200) == mask_niks(text)
