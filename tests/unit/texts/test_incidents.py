"""Incident texts that go to groups and private chats: cards, notices, /status — always below
Telegram's 4,096 characters after HTML parsing, notes shortened without ever cutting a NIK."""

import re
from datetime import UTC, datetime, timedelta

from bot.domain.models import Incident, IncidentEvent, Level, Region, Status
from bot.domain.privacy import for_chat
from bot.emulator import parse_html
from bot.emulator.entities import utf16_len
from bot.services.reporting import report_of
from bot.texts import incidents as ti
from bot.texts.formatting import date_time

TZ = UTC
AT = datetime(2024, 2, 12, 1, 0, tzinfo=UTC)
NIK = "5103011234560001"
#: the longest name Telegram allows: first and last name, 64 characters each
LONG_NAME = "Ni Luh " + "&<" * 28 + "x" + " " + "Gusti Ayu Made " * 4 + "Sari"


def visible(html_text: str) -> int:
    """Length after Telegram's HTML parsing (the emulator's parser), in UTF-16 units."""
    return utf16_len(parse_html(html_text)[0])


def region(code, parent, level, kind, name):
    return Region(code, parent, level, kind, name)


LONG_PATH = (
    region("51", "ID", Level.PROVINSI, "Provinsi", "Bali " + "Dwipa " * 15),
    region("51.03", "51", Level.KABKOTA, "Kabupaten", "Badung (Badoeng, Badung Selatan) " * 3),
    region("51.03.01", "51.03", Level.KECAMATAN, "Kecamatan", "Kuta Selatan (Kuta Sel., Kutasel) " * 3),
)


def incident(description: str, **changes) -> Incident:
    values = dict(
        id=123456,
        kind="insiden",
        severity="kritis",
        status=Status.DITANGANI,
        region_code="51.03.01",
        reporter_id=100,
        item=None,
        received=None,
        planned=None,
        damaged=None,
        data_count=None,
        tps_done=None,
        tps_total=None,
        sirekap=None,
        description=description,
        payload={"kind": "insiden", "severity": "kritis", "description": description},
        source_chat_id=100,
        source_message_id=1,
        reported_at=AT,
        received_at=AT,
        handling_region="51",
        escalations=2,
        assignee_id=200,
        taken_at=AT,
        resolved_at=None,
        awaiting_since=None,
    )
    return Incident(**(values | changes))


def events(n: int, note: str) -> list[IncidentEvent]:
    out = [IncidentEvent(1, 123456, AT, 100, LONG_NAME, "lapor", None, "baru", "51.03.01", "")]
    regions = ["51.03", "51"]
    for i in range(n):
        action = "eskalasi" if i < 2 else "catatan"
        code = regions[i] if i < 2 else "51"
        out.append(
            IncidentEvent(
                i + 2, 123456, AT + timedelta(minutes=i), 200, LONG_NAME, action, "baru", "baru", code, f"{i} {note}"
            )
        )
    return out


def worst_note() -> str:
    return (f"NIK {NIK} & <b>tidak</b> cocok 🔥 " * 40)[:1000]


def test_shorten_keeps_short_text_and_never_cuts_a_nik():
    assert ti.shorten("pompa tiba") == "pompa tiba"
    assert ti.shorten("baris satu\n  baris dua") == "baris satu baris dua"
    for offset in range(170, 200):  # wherever the NIK falls around the cut
        text = "a" * offset + NIK + " sisa catatan " * 10
        short = ti.shorten(text)
        assert len(short) <= ti.NOTE_SHOWN + 1 and short.endswith("…")
        assert all(len(run) == 16 for run in re.findall(r"[0-9]+", short)), short
        assert NIK not in for_chat(short, chat_id=-100)


def test_a_card_with_every_field_at_its_longest_fits_one_message():
    description = "🔥" * 1000  # a /lapor text at its limit, two UTF-16 units per character
    inc = incident(description)
    text = ti.card(
        inc,
        report_of(inc),
        LONG_PATH,
        LONG_NAME,
        LONG_NAME,
        events(6, worst_note()),
        TZ,
        moved_to="Provinsi " + "Bali " * 20,
        region_names={"51.03": "Kabupaten " + "Badung " * 10, "51": "Provinsi " + "Bali " * 20},
    )
    assert visible(for_chat(text, -100)) < 4096
    assert "…" in text and "(+2 lainnya — /status 123456)" in text
    assert NIK not in for_chat(text, -100)
    assert "ke Provinsi Bali" in text  # where each escalation went


def test_a_card_keeps_the_whole_description_when_it_fits():
    inc = incident("gudang logistik tergenang banjir " * 20)
    text = ti.card(inc, report_of(inc), LONG_PATH[:1], "Wayan", "Made", events(2, "pompa"), TZ)
    assert inc.description.strip() in parse_html(text)[0]


def test_notices_shorten_the_note():
    for text in (ti.resolved_notice(7, LONG_NAME, worst_note()), ti.resolved_to_reporter(7, LONG_NAME, worst_note())):
        assert visible(text) < 600 and text.rstrip().endswith("…")


def test_status_splits_a_long_history_between_lines():
    inc = incident("banjir")
    notes = [f"catatan {n} " + "air naik dan pompa belum tiba di gudang " * 24 for n in range(6)]
    history = [IncidentEvent(1, 123456, AT, 100, "Wayan", "lapor", None, "baru", "51.03.01", "")] + [
        IncidentEvent(n + 2, 123456, AT, 200, LONG_NAME, "catatan", "baru", "baru", "51", note[:980])
        for n, note in enumerate(notes)
    ]
    parts = ti.status_messages(inc, report_of(inc), LONG_PATH, LONG_NAME, history, [], TZ)
    assert len(parts) >= 2
    assert all(visible(p) < 4096 and len(p) < 4096 for p in parts)
    assert any(p.startswith("<b>Riwayat</b> <i>(lanjutan)</i>") for p in parts[1:])
    whole = "\n".join(parse_html(p)[0] for p in parts)
    assert all(note[:980].strip() in whole for note in notes)  # nothing lost, nothing shortened


def test_status_says_where_an_escalation_went_and_when_it_stayed():
    inc = incident("banjir")
    history = [
        IncidentEvent(1, 1, AT, 100, "Wayan", "lapor", None, "baru", "51.03.01", ""),
        IncidentEvent(2, 1, AT, 200, "Made", "eskalasi", "baru", "baru", "51", "butuh pompa"),
        IncidentEvent(
            3,
            1,
            AT,
            None,
            None,
            "eskalasi_otomatis",
            "baru",
            "baru",
            "51",
            ti.AUTO_ESCALATION_AT_TOP_NOTE.format(minutes=30),
        ),
    ]
    [text] = ti.status_messages(inc, report_of(inc), LONG_PATH, "Wayan", history, [], TZ, {"51": "Provinsi Bali"})
    assert "Made mengeskalasi ke Provinsi Bali: butuh pompa" in text
    assert "sistem eskalasi otomatis: tidak ditangani" in text  # at the top: it went nowhere


def test_alerts_stay_within_200_characters():
    assert ti.alert("pendek") == "pendek"
    long = ti.alert("x" * 300)
    assert len(long) == 200 and long.endswith("…")


def test_insiden_lines_name_the_item_and_its_figures():
    shortfall = incident("dua kotak penyok", kind="logistik", item="kotak_suara", received=700, planned=1025, damaged=2)
    assert ti.list_summary(shortfall) == "Kotak suara diterima 700/1.025, rusak 2 — dua kotak penyok"
    assert ti.list_summary(incident("gudang tergenang")) == "gudang tergenang"
    assert len(ti.list_summary(incident("banjir " * 40))) <= ti.LIST_SUMMARY + 1


def test_a_rejected_card_says_so_and_a_stale_one_says_since_when():
    rejected = incident("angka salah", status=Status.DITOLAK, resolved_at=AT)
    events = [
        IncidentEvent(1, 1, AT, 100, "Wayan", "lapor", None, "baru", "51.03.01", ""),
        IncidentEvent(2, 1, AT, 200, "Made", "tolak", "baru", "ditolak", "51.03.01", "salah ketik"),
    ]
    text = ti.card(rejected, report_of(rejected), LONG_PATH[:1], "Wayan", None, events, TZ)
    assert "ditolak oleh Made" in text and ti.CARD_REJECTED.format(id=rejected.id) in text
    taken = incident("genset mati", status=Status.DITANGANI, taken_at=AT, assignee_id=200)
    events = [
        IncidentEvent(1, 1, AT, 100, "Wayan", "lapor", None, "baru", "51.03.01", ""),
        IncidentEvent(2, 1, AT, 200, "Made", "tangani", "baru", "ditangani", "51.03.01", ""),
        IncidentEvent(3, 1, AT + timedelta(hours=1), None, None, "pengingat", "ditangani", "ditangani", None, "60"),
        IncidentEvent(
            4, 1, AT + timedelta(hours=2), None, None, "belum_diperbarui", "ditangani", "ditangani", None, "120"
        ),
    ]
    text = ti.card(taken, report_of(taken), LONG_PATH[:1], "Wayan", "Made", events, TZ)
    assert ti.CARD_STALE.format(since=date_time(AT, TZ)) in text
    assert "sistem mengingatkan yang menangani (60 menit tanpa pembaruan)" in text


def part(one: Incident, nik_warnings: tuple[str, ...] = (), duplicate: bool = False, **more) -> ti.ReceiptPart:
    return ti.ReceiptPart(one, report_of(one), LONG_PATH, nik_warnings, duplicate, **more)


def test_a_coalesced_receipt_names_each_report_in_a_line_and_reads_back():
    """Receipts of one officer that waited together: one message naming every report (mark,
    number, kind, short summary), NIK warnings kept, within Telegram's limit at its largest, and
    the numbers read back from what Telegram shows (as the tests and the benchmark count them)."""
    long_words = "jembatan menuju TPS 12 putus diterjang banjir bandang, " * 20 + NIK
    items = [
        part(incident(long_words, id=10**12 + n, severity="rendah" if n % 2 else "kritis"), (NIK,) * (n == 3), n == 4)
        for n in range(ti.RECEIPTS_PER_MESSAGE)
    ]
    text = ti.receipts(items)
    assert visible(text) <= 4096
    assert ti.receipts_in_messages(items) == [ti.RECEIPTS_PER_MESSAGE]
    lines = parse_html(text)[0].split("\n")
    ids = ", ".join(f"#{10**12 + n}" for n in range(ti.RECEIPTS_PER_MESSAGE))
    assert lines[0] == f"✅ Laporan Anda diterima: {ids}"
    assert lines[1].startswith(f"🔴 #{10**12} Insiden: jembatan menuju TPS 12")
    assert lines[1].endswith(ti.ELLIPSIS) and NIK not in lines[1]  # shortened, never half a NIK
    assert lines[2].startswith(f"⚪ #{10**12 + 1} Insiden: ")
    assert any(line.startswith(f"⚠️ NIK {NIK} tidak berasal") for line in lines)
    assert any(line.endswith("(sudah tercatat sebelumnya)") for line in lines)
    shown = parse_html(for_chat(text, -1003))[0]  # in a group the NIK warning is masked
    assert ti.receipt_incident_ids(shown) == [10**12 + n for n in range(ti.RECEIPTS_PER_MESSAGE)]
    assert ti.receipt_incident_id(shown) is None  # attaching by reply needs the receipt of one
    single = parse_html(ti.receipt(incident("x", id=7), report_of(incident("x", id=7)), LONG_PATH, (), False))[0]
    assert ti.receipt_incident_ids(single) == [7]
    assert ti.receipt_incident_ids("Laporan Anda diterima: #1") == [] and ti.receipt_incident_ids(None) == []


def test_a_coalesced_receipt_says_what_each_report_did_and_long_ones_are_split_to_fit():
    """A repeat, an update in place, a closing at once: said under the report's line as its own
    receipt would; a report updating an incident named before is not named twice in the head; a
    backlog whose lines would outgrow a message goes as several messages, each within the limit."""
    first = incident("x", id=12)
    text = parse_html(
        ti.receipts([part(first), part(first, updated=2, closed=True), part(incident("y", id=13), repeat_minutes=3)])
    )[0]
    assert text.startswith("✅ Laporan Anda diterima: #12, #13\n")
    assert parse_html(ti.RECEIPT_UPDATED.format(number=2, id=12))[0] in text
    assert parse_html(ti.RECEIPT_CLOSED.format(id=12, number=2))[0] in text
    assert parse_html(ti.repeat_note(13, 3))[0] in text
    assert ti.receipt_incident_ids(text) == [12, 13]
    heavy = [
        part(incident("z " * 40, id=100 + n), (NIK, NIK), updated=n + 2, closed=True, repeat_minutes=n)
        for n in range(ti.RECEIPTS_PER_MESSAGE)
    ]
    sizes = ti.receipts_in_messages(heavy)
    assert len(sizes) > 1 and sum(sizes) == len(heavy)
    start = 0
    for size in sizes:
        assert visible(ti.receipts(heavy[start : start + size])) <= 4096
        start += size
