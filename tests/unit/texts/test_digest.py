"""The digest text (`bot.texts.digest`) and the presentation helpers (`bot.texts.formatting`).

Digests are built by hand; expected lines are written out as reviewed text, not recomputed.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest

from bot.domain.digest import (
    ChildCounting,
    ChildLogistics,
    Digest,
    IncidentCounts,
    ItemProgress,
    OpenIncident,
    SilentRegion,
    lagging_children,
)
from bot.texts.digest import MESSAGE_LIMIT, child_level, render_digest, render_section, split_messages
from bot.texts.formatting import duration, h_label, local_time, long_date, number, percent_whole, share

WITA = ZoneInfo("Asia/Makassar")
ELECTION_DAY = date(2024, 2, 14)
NIK = "5103011234560001"
MASKED = "5103**********01"

#: Bali's kabupaten/kota: code, name, TPS, kecamatan.
BALI = [
    ("51.01", "Jembrana", 800, 5),
    ("51.02", "Tabanan", 1400, 10),
    ("51.03", "Badung", 1500, 6),
    ("51.04", "Gianyar", 1350, 7),
    ("51.05", "Klungkung", 600, 4),
    ("51.06", "Bangli", 700, 4),
    ("51.07", "Karangasem", 1300, 8),
    ("51.08", "Buleleng", 2000, 9),
    ("51.71", "Kota Denpasar", 1550, 4),
]
#: Plan per TPS of each item.
PER_TPS = {
    "kotak_suara": 5,
    "bilik_suara": 4,
    "surat_suara": 300,
    "tinta": 2,
    "segel": 40,
    "formulir": 60,
    "sampul": 20,
    "alat_bantu_tunanetra": 1,
}
#: Share of the plan received, per kabupaten (index in BALI) and item; default 1.0.
RECEIVED = {
    6: {"surat_suara": 0.62, "segel": 0.80, "tinta": 0.5},  # Karangasem lags most
    7: {"surat_suara": 0.85, "formulir": 0.9},  # Buleleng
    1: {"sampul": 0.75},  # Tabanan
    5: {"bilik_suara": 0.95},  # Bangli
}
DAMAGED = {(2, "kotak_suara"): 12, (7, "bilik_suara"): 3}
#: kecamatan not ready, per kabupaten (index in BALI): those with a shortfall or damage above
NOT_READY = {6: 8, 7: 6, 1: 3, 5: 1, 2: 1}


def _items(index: int, tps: int) -> tuple[ItemProgress, ...]:
    out = []
    for item, per in PER_TPS.items():
        planned = per * tps
        received = int(planned * RECEIVED.get(index, {}).get(item, 1.0))
        out.append(ItemProgress(item, received, planned, DAMAGED.get((index, item), 0)))
    return tuple(out)


def _sum_items(children: list[ChildLogistics]) -> tuple[ItemProgress, ...]:
    return tuple(
        ItemProgress(
            item,
            sum(c.items[k].received for c in children),
            sum(c.items[k].planned for c in children),
            sum(c.items[k].damaged for c in children),
        )
        for k, item in enumerate(PER_TPS)
    )


def _lagging(children: list[ChildLogistics]) -> tuple[ChildLogistics, ...]:
    return lagging_children(tuple(children))


def counts(**by: int) -> IncidentCounts:
    """counts(logistik__tinggi=2) → IncidentCounts({("logistik", "tinggi"): 2})."""
    return IncidentCounts({tuple(key.split("__")): n for key, n in by.items()})  # type: ignore[misc]


def empty_counting(code: str = "51", name: str = "Bali") -> ChildCounting:
    return ChildCounting(code, name, 0, 0, 0, 0, 0)


def bali_digest(at: datetime | None = None) -> Digest:
    """Provinsi Bali on H+1 morning: logistics almost complete, counting under way, incidents."""
    at = at or datetime(2024, 2, 15, 7, 0, tzinfo=WITA)
    logistics_children = [
        ChildLogistics(code, name, _items(i, tps), kecamatan_ready=kec - NOT_READY.get(i, 0), kecamatan_planned=kec)
        for i, (code, name, tps, kec) in enumerate(BALI)
    ]
    done = [800, 1190, 1500, 1215, 600, 560, 650, 1400, 1550]
    sirekap = [760, 1000, 1420, 1100, 540, 420, 390, 1100, 1500]
    reporting = [5, 9, 6, 7, 4, 3, 5, 7, 4]
    counting = [
        ChildCounting(code, name, done[i], tps, sirekap[i], reporting[i], kec, reporting[i])
        for i, (code, name, tps, kec) in enumerate(BALI)
    ]
    total = ChildCounting(
        "51", "Bali", sum(done), sum(t for _, _, t, _ in BALI), sum(sirekap), sum(reporting), 57, sum(reporting)
    )
    return Digest(
        region_code="51",
        region_name="Bali",
        region_title="Provinsi Bali",
        region_path=("Bali",),
        at=at,
        election_day=ELECTION_DAY,
        logistics=_sum_items(logistics_children),
        logistics_children=tuple(logistics_children),
        lagging=_lagging(logistics_children),
        counting=tuple(counting),
        counting_total=total,
        silent=(
            SilentRegion("51.07.08", "Kubu", "Karangasem", None),
            SilentRegion("51.07.05", "Abang", "Karangasem", datetime(2024, 2, 13, 13, 15, tzinfo=UTC)),
            SilentRegion("51.02.09", "Pupuan", "Tabanan", datetime(2024, 2, 14, 5, 40, tzinfo=WITA)),
        ),
        silent_count=3,
        kecamatan_count=57,
        new=counts(logistik__tinggi=3, logistik__sedang=2, insiden__kritis=1, insiden__tinggi=1, data__sedang=1),
        open=counts(logistik__tinggi=2, insiden__kritis=1, insiden__tinggi=1, data__sedang=3),
        escalated=counts(logistik__tinggi=1, insiden__kritis=1),
        resolved=counts(logistik__tinggi=1, logistik__sedang=2, data__sedang=2),
        oldest_open=(
            OpenIncident(
                87,
                "insiden",
                "kritis",
                "ditangani",
                "51.03.01",
                "Kuta",
                datetime(2024, 2, 14, 4, 12, tzinfo=WITA),
                "Gudang logistik PPK Kuta tergenang banjir setinggi 40 cm, 12 kotak suara basah",
            ),
            OpenIncident(
                91,
                "logistik",
                "tinggi",
                "baru",
                "51.07.01",
                "Rendang",
                datetime(2024, 2, 14, 18, 30, tzinfo=WITA),
                "Surat suara DPRD kurang 1.250 lembar",
            ),
        ),
        median_time_to_take=timedelta(minutes=25),
        median_time_to_resolve=timedelta(hours=3, minutes=10),
        status_by_kind={
            "logistik": {"baru": 1, "ditangani": 1, "selesai": 18},
            "insiden": {"baru": 0, "ditangani": 2, "selesai": 5},
            "data": {"baru": 2, "ditangani": 1, "selesai": 9},
        },
        progress_new=counts(hitung__rendah=4, logistik__rendah=2),  # status updates, named apart
        kecamatan_ready=57 - sum(NOT_READY.values()),
        kecamatan_planned=57,
    )


BADUNG_KECAMATAN = [
    ("51.03.01", "Kuta"),
    ("51.03.02", "Mengwi"),
    ("51.03.03", "Abiansemal"),
    ("51.03.04", "Petang"),
    ("51.03.05", "Kuta Selatan"),
    ("51.03.06", "Kuta Utara"),
]


def badung_digest() -> Digest:
    """Kabupaten Badung on H-2 morning: logistics arriving, no counting yet, nothing open."""
    planned = {"kotak_suara": 500, "bilik_suara": 400, "tinta": 200}
    received = {
        "51.03.01": {"kotak_suara": 500, "bilik_suara": 400, "tinta": 200},
        "51.03.04": {"kotak_suara": 250, "bilik_suara": 100, "tinta": 0},
        "51.03.05": {"kotak_suara": 430, "bilik_suara": 400},
    }
    children = []
    for code, name in BADUNG_KECAMATAN:
        got = received.get(code, {})
        items = tuple(ItemProgress(item, got.get(item, 0), plan, 0) for item, plan in planned.items())
        ready = all(i.received >= i.planned for i in items)
        children.append(ChildLogistics(code, name, items, kecamatan_ready=int(ready), kecamatan_planned=1))
    logistics = (
        ItemProgress("kotak_suara", 1180, 3000, 2),
        ItemProgress("bilik_suara", 900, 2400, 0),
        ItemProgress("tinta", 200, 1200, 0),
        ItemProgress("segel", 1234, 0, 0),
    )
    return Digest(
        region_code="51.03",
        region_name="Badung",
        region_title="Kabupaten Badung",
        region_path=("Bali", "Badung"),
        at=datetime(2024, 2, 12, 7, 0, tzinfo=WITA),
        election_day=ELECTION_DAY,
        logistics=logistics,
        logistics_children=tuple(children),
        lagging=tuple(sorted((c for c in children if c.share is not None and c.share < 1), key=lambda c: c.share)[:5]),
        counting=tuple(ChildCounting(code, name, 0, 0, 0, 0, 1) for code, name in BADUNG_KECAMATAN),
        counting_total=ChildCounting("51.03", "Badung", 0, 0, 0, 0, 6),
        silent=(SilentRegion("51.03.04", "Petang", "Badung", None),),
        silent_count=1,
        kecamatan_count=6,
        new=counts(logistik__tinggi=1),
        open=IncidentCounts(),
        escalated=IncidentCounts(),
        resolved=counts(logistik__tinggi=1),
        oldest_open=(),
        median_time_to_take=None,
        median_time_to_resolve=timedelta(hours=5, minutes=59, seconds=40),
    )


def empty_digest() -> Digest:
    return Digest(
        region_code="51.05",
        region_name="Klungkung",
        region_title="Kabupaten Klungkung",
        region_path=("Bali", "Klungkung"),
        at=datetime(2024, 2, 14, 21, 30, tzinfo=WITA),
        election_day=ELECTION_DAY,
        logistics=(),
        logistics_children=(),
        lagging=(),
        counting=(),
        counting_total=empty_counting("51.05", "Klungkung"),
        silent=(),
        silent_count=0,
        kecamatan_count=0,
        new=IncidentCounts(),
        open=IncidentCounts(),
        escalated=IncidentCounts(),
        resolved=IncidentCounts(),
        oldest_open=(),
        median_time_to_take=None,
        median_time_to_resolve=None,
    )


def nik_digest() -> Digest:
    """Data from users carrying NIKs and HTML-special characters in names and descriptions."""
    base = bali_digest()
    children = (ChildLogistics("51.05", f"Nusa <Penida> & {NIK}", (ItemProgress("kotak_suara", 1, 4, 0),)),)
    return Digest(
        **{
            **{name: getattr(base, name) for name in Digest.__dataclass_fields__},
            "region_title": "Provinsi Bali <uji> & coba",
            "lagging": children,
            "logistics_children": children,
            "counting": (ChildCounting("51.05", f"Nusa <Penida> & {NIK}", 1, 4, 0, 1, 3),),
            "silent": (SilentRegion("51.05.01", f"Desa {NIK}", "Klungkung & <Nusa>", None),),
            "silent_count": 1,
            "oldest_open": (
                OpenIncident(
                    5,
                    "data",
                    "kritis",
                    "baru",
                    "51.05.01",
                    "Nusa Penida",
                    datetime(2024, 2, 15, 6, 15, tzinfo=WITA),
                    f"Pemilih   NIK {NIK}\nditolak di <TPS 05> & dimarahi",
                ),
                OpenIncident(
                    6,
                    "data",
                    "tinggi",
                    "baru",
                    "51.05.01",
                    "Nusa Penida",
                    datetime(2024, 2, 15, 6, 20, tzinfo=WITA),
                    "x" * 70 + NIK + " sisa teks yang panjang sekali",
                ),
            ),
        }
    )


def huge_digest(children: int = 300, silent: int = 600) -> Digest:
    """A region with hundreds of children and hundreds of silent kecamatan."""
    at = datetime(2024, 2, 15, 7, 0, tzinfo=ZoneInfo("Asia/Jakarta"))
    counting = tuple(
        ChildCounting(f"99.{i:02d}", f"Kabupaten Dengan Nama Yang Cukup Panjang Nomor {i}", i, 500, i // 2, 1, 5)
        for i in range(children)
    )
    silents = tuple(
        SilentRegion(
            f"99.01.{i:03d}", f"Kecamatan <{i}>", "Kabupaten & Kota", None if i % 2 else at - timedelta(days=2)
        )
        for i in range(silent)
    )
    base = bali_digest(at)
    return Digest(
        **{
            **{name: getattr(base, name) for name in Digest.__dataclass_fields__},
            "region_code": "99",
            "region_title": "Provinsi Uji",
            "counting": counting,
            "silent": silents,
            "silent_count": silent + 5,
            "kecamatan_count": silent * 2,
        }
    )


# --- HTML checks ---------------------------------------------------------------------------------


class _TagChecker(HTMLParser):
    """Accepts only <b>, <i>, <code> without attributes, properly nested and closed."""

    ALLOWED = frozenset({"b", "i", "code"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.ALLOWED or attrs:
            self.errors.append(f"tag <{tag}> {attrs}")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> with open {self.stack}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def assert_valid_html(part: str) -> str:
    """`part` is balanced Telegram HTML; returns its plain text."""
    checker = _TagChecker()
    checker.feed(part)
    checker.close()
    assert not checker.errors, checker.errors
    assert not checker.stack, f"unclosed {checker.stack}"
    assert not re.search(r"&(?!(?:amp|lt|gt|quot);)", part), "bare ampersand"
    assert not re.search(r"<(?!/?(?:b|i|code)>)", part), "bare <"
    return "".join(checker.text)


def assert_parts_ok(parts: list[str]) -> None:
    assert parts
    for part in parts:
        assert 0 < len(part) < MESSAGE_LIMIT
        assert len(part.encode("utf-16-le")) // 2 < MESSAGE_LIMIT
        assert_valid_html(part)
        assert not re.search(r"(?<![0-9])[0-9]{16}(?![0-9])", part), "unmasked NIK"


# --- formatting ----------------------------------------------------------------------------------


def test_number_and_share() -> None:
    assert number(1234) == "1.234"
    assert number(0) == "0"
    assert number(12_500_000) == "12.500.000"
    assert share(0.875) == "87,5%"
    assert share(1) == "100,0%"
    assert share(0) == "0,0%"
    assert share(1.0417) == "104,2%"
    assert share(None) == "—"
    assert share(0.99954) == "99,9%"
    assert share(0.99949) == "99,9%"
    assert percent_whole(0.999) == "99%"
    assert percent_whole(1.0) == "100%"
    assert percent_whole(None) == "—"


def test_dates_and_times() -> None:
    assert long_date(date(2024, 2, 12)) == "Senin, 12 Februari 2024"
    assert long_date(datetime(2024, 2, 14, 23, 0, tzinfo=WITA)) == "Rabu, 14 Februari 2024"
    assert local_time(datetime(2024, 2, 12, 7, 0, tzinfo=WITA)) == "07:00 WITA"
    assert local_time(datetime(2024, 2, 12, 7, 0, tzinfo=ZoneInfo("Asia/Jakarta"))) == "07:00 WIB"
    assert local_time(datetime(2024, 2, 12, 7, 0, tzinfo=ZoneInfo("Asia/Pontianak"))) == "07:00 WIB"
    assert local_time(datetime(2024, 2, 12, 9, 5, tzinfo=ZoneInfo("Asia/Jayapura"))) == "09:05 WIT"
    assert local_time(datetime(2024, 2, 12, 0, 0, tzinfo=UTC)) == "00:00 UTC"
    assert local_time(datetime(2024, 2, 12, 7, 0, tzinfo=timezone(timedelta(hours=8)))) == "07:00 UTC+8"
    assert local_time(datetime(2024, 2, 12, 7, 0, tzinfo=ZoneInfo("Asia/Kolkata"))) == "07:00 IST"


@pytest.mark.parametrize(("offset", "label"), [(-2, "H-2"), (0, "H"), (1, "H+1"), (-30, "H-30")])
def test_h_label(offset: int, label: str) -> None:
    assert h_label(offset) == label


@pytest.mark.parametrize(
    ("td", "text"),
    [
        (timedelta(minutes=45), "45 menit"),
        (timedelta(hours=1, minutes=25), "1 jam 25 menit"),
        (timedelta(hours=1, minutes=24, seconds=40), "1 jam 25 menit"),
        (timedelta(hours=3), "3 jam"),
        (timedelta(days=2, hours=3, minutes=10), "2 hari 3 jam"),
        (timedelta(days=1, hours=2, minutes=48), "1 hari 3 jam"),
        (timedelta(days=2), "2 hari"),
        (timedelta(seconds=20), "0 menit"),
        (timedelta(minutes=-5), "0 menit"),
        (None, "—"),
    ],
)
def test_duration(td: timedelta | None, text: str) -> None:
    assert duration(td) == text


def test_child_level() -> None:
    assert child_level("ID") == "provinsi"
    assert child_level("51") == "kabupaten/kota"
    assert child_level("51.03") == "kecamatan"
    assert child_level("51.03.01") == "desa/kelurahan"


# --- the digest ----------------------------------------------------------------------------------


def test_bali_digest_full_text() -> None:
    parts = render_digest(bali_digest())
    assert len(parts) == 1
    assert_parts_ok(parts)
    assert parts[0] == BALI_TEXT


BALI_TEXT = """\
📊 <b>Ringkasan Provinsi Bali</b>
Kamis, 15 Februari 2024 · 07:00 WITA · <b>H+1</b>

🧮 <b>Rekapitulasi kecamatan</b>
<i>Belum ada laporan rekapitulasi kecamatan.</i>

🗳 <b>Penghitungan suara</b>
TPS selesai dihitung: <b>9.465</b> dari 11.200 (84,5%)
C.Hasil diunggah ke Sirekap: 8.230 (73,5%)
Kecamatan melapor: 50 dari 57
<i>Per kabupaten/kota:</i>
• Jembrana: 800/800 (100,0%) · Sirekap 95,0%
• Tabanan: 1.190/1.400 (85,0%) · Sirekap 71,4%
• Badung: 1.500/1.500 (100,0%) · Sirekap 94,7%
• Gianyar: 1.215/1.350 (90,0%) · Sirekap 81,5%
• Klungkung: 600/600 (100,0%) · Sirekap 90,0%
• Bangli: 560/700 (80,0%) · Sirekap 60,0%
• Karangasem: 650/1.300 (50,0%) · Sirekap 30,0%
• Buleleng: 1.400/2.000 (70,0%) · Sirekap 55,0%
• Kota Denpasar: 1.550/1.550 (100,0%) · Sirekap 96,8%
🔕 <b>Tanpa laporan 24 jam: 3 dari 57 kecamatan</b>
• Kubu (Karangasem) — belum pernah melapor
• Abang (Karangasem) — terakhir 13 Feb 21:15
• Pupuan (Tabanan) — terakhir 14 Feb 05:40

🚨 <b>Insiden</b>
Terbuka sekarang: <b>7</b>
24 jam terakhir: baru 8 · dieskalasi 2 · selesai 5
<i>Dihitung: laporan yang perlu ditangani; laporan progres tidak termasuk.</i>
📈 Laporan progres 24 jam: 6 (penghitungan 4 · logistik tanpa kekurangan 2) — pembaruan angka, bukan masalah
<i>Per jenis:</i>
Logistik: 2 terbuka · 5 baru · 1 dieskalasi · 3 selesai
Data pemilih: 3 terbuka · 1 baru · 2 selesai
Insiden: 2 terbuka · 2 baru · 1 dieskalasi
<i>Per prioritas:</i>
🔴 kritis: 1 terbuka · 1 baru · 1 dieskalasi
🟠 tinggi: 3 terbuka · 4 baru · 1 dieskalasi · 1 selesai
🟡 sedang: 3 terbuka · 3 baru · 4 selesai
⏳ <b>Perlu tindakan sekarang</b> (kritis dulu, lalu tinggi; terlama dulu):
🔴 <code>#87</code> kritis · Kuta · 1 hari 3 jam — Gudang logistik PPK Kuta tergenang banjir setinggi 40 cm, 12 kotak suara basah
🟠 <code>#91</code> tinggi · Rendang · 12 jam 30 menit — Surat suara DPRD kurang 1.250 lembar
⏱ Median waktu ditangani: 25 menit · diselesaikan: 3 jam 10 menit

📦 <b>Logistik</b>
PPK lengkap semua barang: <b>38 dari 57</b>
Batas logistik lengkap di PPK: H-2 (lewat 3 hari)
<i>Per kabupaten/kota: PPK lengkap · barang terlemah</i>
• Jembrana: 5 dari 5 PPK lengkap ✅
• Tabanan: 7 dari 10 PPK lengkap · terlemah Sampul 75,0%
• Badung: 5 dari 6 PPK lengkap · terlemah Kotak suara 99,8%
• Gianyar: 7 dari 7 PPK lengkap ✅
• Klungkung: 4 dari 4 PPK lengkap ✅
• Bangli: 3 dari 4 PPK lengkap · terlemah Bilik suara 95,0%
• Karangasem: 0 dari 8 PPK lengkap · terlemah Tinta 50,0%
• Buleleng: 3 dari 9 PPK lengkap · terlemah Surat suara 85,0%
• Kota Denpasar: 4 dari 4 PPK lengkap ✅
<i>Per barang (diterima/kebutuhan):</i>
Kotak suara: 56.000/56.000 (100,0%) · rusak 12
Bilik suara: 44.660/44.800 (99,7%) · rusak 3
Surat suara: 3.121.800/3.360.000 (92,9%)
Tinta: 21.100/22.400 (94,2%)
Segel: 437.600/448.000 (97,7%)
Formulir: 660.000/672.000 (98,2%)
Sampul: 217.000/224.000 (96,9%)
Alat bantu tunanetra: 11.200/11.200 (100,0%)
<i>Paling tertinggal (PPK lengkap, lalu barang terlemah):</i>
1. Karangasem — 0 dari 8 PPK lengkap · terlemah Tinta 50,0%
2. Buleleng — 3 dari 9 PPK lengkap · terlemah Surat suara 85,0%
3. Tabanan — 7 dari 10 PPK lengkap · terlemah Sampul 75,0%
4. Bangli — 3 dari 4 PPK lengkap · terlemah Bilik suara 95,0%
5. Badung — 5 dari 6 PPK lengkap · terlemah Kotak suara 99,8%"""


def test_kabupaten_digest_h_minus_2() -> None:
    parts = render_digest(badung_digest())
    assert_parts_ok(parts)
    text = parts[0]
    assert text.startswith(
        "📊 <b>Ringkasan Kabupaten Badung</b>\nSenin, 12 Februari 2024 · 07:00 WITA · <b>H-2</b>\n\n📦 <b>Logistik</b>\n"
    )
    lines = text.split("\n")
    assert "Kotak suara: 1.180/3.000 (39,3%) · rusak 2" in lines
    assert "Segel: 1.234 diterima (kebutuhan belum diimpor)" in lines
    assert "Batas logistik lengkap di PPK: H-2 (hari ini)" in lines
    # per kecamatan: ready, or its weakest item; no total that adds units of different items
    assert "• Kuta: lengkap ✅" in lines
    assert "• Kuta Selatan: belum lengkap · terlemah Tinta 0,0%" in lines
    assert "1. Mengwi — terlemah Kotak suara 0,0%" in lines
    assert "4. Kuta Selatan — terlemah Tinta 0,0%" in lines
    assert "Total" not in text
    # before H: no counting section at all
    assert "Penghitungan" not in text and "Rekapitulasi" not in text
    assert "Terbuka sekarang: <b>0</b>" in lines
    assert "24 jam terakhir: baru 1 · dieskalasi 0 · selesai 1" in lines
    assert "⏱ Median waktu ditangani: — · diselesaikan: 6 jam" in lines
    assert "Perlu tindakan" not in text


def test_empty_digest_says_no_data_in_every_section() -> None:
    parts = render_digest(empty_digest())
    assert_parts_ok(parts)
    assert parts == [
        "📊 <b>Ringkasan Kabupaten Klungkung</b>\n"
        "Rabu, 14 Februari 2024 · 21:30 WITA · <b>H</b>\n\n"
        "🗳 <b>Penghitungan suara</b>\n<i>Belum ada laporan penghitungan suara.</i>\n\n"
        "🚨 <b>Insiden</b>\n"
        "<i>Belum ada data insiden: tidak ada insiden baru dan tidak ada yang masih terbuka.</i>\n\n"
        "📦 <b>Logistik</b>\n<i>Belum ada data logistik.</i>"
    ]


def test_niks_masked_and_user_text_escaped() -> None:
    parts = render_digest(nik_digest())
    assert_parts_ok(parts)
    text = "\n\n".join(parts)
    assert NIK not in text
    assert "📊 <b>Ringkasan Provinsi Bali &lt;uji&gt; &amp; coba</b>" in text
    assert f"1. Nusa &lt;Penida&gt; &amp; {MASKED} — terlemah Kotak suara 25,0%" in text
    assert f"• Nusa &lt;Penida&gt; &amp; {MASKED}: 1/4 (25,0%) · Sirekap belum dilaporkan" in text
    assert f"• Desa {MASKED} (Klungkung &amp; &lt;Nusa&gt;) — belum pernah melapor" in text
    # whitespace collapsed, NIK masked, markup escaped
    assert (
        f"🔴 <code>#5</code> kritis · Nusa Penida · 45 menit — Pemilih NIK {MASKED} ditolak di &lt;TPS 05&gt; &amp; dimarahi"
        in text
    )
    # shortened after masking: no digits of the NIK survive beyond the mask
    line = next(x for x in text.split("\n") if "<code>#6</code>" in x)
    assert line.endswith("x" * 70 + "5103*****…")
    assert "01234" not in line


def test_huge_digest_is_split_below_the_limit() -> None:
    d = huge_digest()
    parts = render_digest(d)
    assert len(parts) >= 5
    assert_parts_ok(parts)
    # the header once, at the start
    assert parts[0].startswith("📊 <b>Ringkasan Provinsi Uji</b>\nKamis, 15 Februari 2024 · 07:00 WIB · <b>H+1</b>")
    assert sum(p.count("Ringkasan") for p in parts) == 1
    # every child line once, none cut; continuations are titled
    joined = "\n".join(parts)
    for i in (0, 150, 299):
        assert joined.count(f"• Kabupaten Dengan Nama Yang Cukup Panjang Nomor {i}: ") == 1
    assert any(p.startswith("🗳 <b>Penghitungan suara</b> <i>(lanjutan)</i>\n") for p in parts)
    # silent kecamatan: 20 named, the rest counted
    assert "🔕 <b>Tanpa laporan 24 jam: 605 dari 1.200 kecamatan</b>" in joined
    assert joined.count("• Kecamatan &lt;") == 20
    assert "… dan 585 kecamatan lainnya" in joined
    assert "• Kecamatan &lt;0&gt; (Kabupaten &amp; Kota) — terakhir 13 Feb 07:00" in joined
    assert "• Kecamatan &lt;1&gt; (Kabupaten &amp; Kota) — belum pernah melapor" in joined
    # sections start at part boundaries or after a blank line, never mid-part without one
    assert any(p.startswith("🚨 <b>Insiden</b>") or "\n\n🚨 <b>Insiden</b>" in p for p in parts)


def test_split_at_section_boundaries_when_sections_fit() -> None:
    d = huge_digest(children=25, silent=30)
    parts = render_digest(d)
    assert_parts_ok(parts)
    assert len(parts) > 1
    assert len("\n\n".join(parts)) > MESSAGE_LIMIT
    assert "(lanjutan)" not in "".join(parts)
    # a section is never spread over two parts when it fits in one
    for title in ("📦 <b>Logistik</b>", "🗳 <b>Penghitungan suara</b>", "🚨 <b>Insiden</b>"):
        assert sum(title in p for p in parts) == 1


def test_split_messages_handles_long_lines_and_markup() -> None:
    long_line = "<b>" + "a&amp;" * 2000 + "</b>"
    parts = split_messages(["<b>Judul</b>\n" + long_line + "\nakhir"], limit=500)
    assert_parts_ok(parts)
    assert parts[-1].endswith("akhir")
    assert all(len(p) < 500 for p in parts)


def test_render_section_for_commands() -> None:
    d = bali_digest()
    (progres,) = render_section(d, "hitung")
    assert progres.startswith(
        "📊 <b>Ringkasan Provinsi Bali</b>\nKamis, 15 Februari 2024 · 07:00 WITA · <b>H+1</b>\n\n"
        "🗳 <b>Penghitungan suara</b>\n"
    )
    assert "Logistik" not in progres and "Insiden</b>" not in progres
    (logistik,) = render_section(d, "logistik")
    assert "📦 <b>Logistik</b>\nPPK lengkap semua barang: <b>38 dari 57</b>" in logistik
    assert "Penghitungan" not in logistik
    with pytest.raises(ValueError):
        render_section(d, "cuaca")


def test_digest_order_of_sections_follows_argument() -> None:
    (text,) = render_digest(bali_digest(), sections=("logistik", "insiden"))
    assert text.index("📦 <b>Logistik</b>") < text.index("🚨 <b>Insiden</b>")
    assert "Rekapitulasi kecamatan</b>" not in text


@pytest.mark.parametrize(
    ("day", "sections"),
    [
        (-7, ("logistik", "insiden")),
        (-1, ("logistik", "insiden")),
        (0, ("hitung", "insiden", "logistik")),
        (1, ("rekap", "hitung", "insiden", "logistik")),
        (14, ("rekap", "hitung", "insiden", "logistik")),
    ],
)
def test_the_digest_follows_the_phase(day: int, sections: tuple[str, ...]) -> None:
    """Before H logistics first and no counting; from H penghitungan first; from H+1 the
    rekapitulasi kecamatan."""
    d = replace(bali_digest(), at=datetime(2024, 2, 14, 7, 0, tzinfo=WITA) + timedelta(days=day))
    assert d.sections == sections
    titles = {
        "logistik": "📦 <b>Logistik</b>",
        "hitung": "🗳 <b>Penghitungan suara</b>",
        "rekap": "🧮 <b>Rekapitulasi kecamatan</b>",
        "insiden": "🚨 <b>Insiden</b>",
    }
    text = "\n\n".join(render_digest(d))
    shown = sorted((text.index(t), name) for name, t in titles.items() if t in text)
    assert tuple(name for _, name in shown) == sections


def test_counting_never_passes_100_and_unknown_sirekap_is_not_zero() -> None:
    child = ChildCounting("51.03", "Badung", 208, 205, 0, 1, 6, 0)
    assert child.share_done == 1.0 and child.share_sirekap is None
    d = replace(bali_digest(), counting=(child,), counting_total=child)
    (text,) = render_section(d, "hitung")
    assert "(100,0%)" in text and "101" not in text
    assert "C.Hasil diunggah ke Sirekap: belum dilaporkan" in text
    assert "• Badung: 208/205 (100,0%) · Sirekap belum dilaporkan" in text
