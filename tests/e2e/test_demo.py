"""`python -m bot demo` runs the whole product against the emulator and writes its outputs."""

import io
import re
import struct

import bot.texts.common
import bot.texts.groups
import bot.texts.incidents
import bot.texts.reporting
from bot.devtools.demo import run_demo
from tests.e2e.conftest import shown


async def test_demo_tells_the_whole_story(tmp_path):
    stream = io.StringIO()
    assert await run_demo(out=tmp_path / "out", stream=stream) == 0
    transcript = stream.getvalue()
    out = tmp_path / "out"
    for needle in (
        "Selamat datang, Wayan Sudarsana",  # registration through an invite link
        "tautan undangan",  # a stranger is turned away
        "Laporan #",  # reports of every kind
        "Kebutuhan logistik: 741 baris diimpor",  # baselines by /impor: 57 kecamatan × 13 items
        "grup koordinasi",
        # a staged delivery is one incident, updated in place and closed when complete
        shown(bot.texts.incidents.RECEIPT_UPDATED.format(number=2, id=1)),
        shown(bot.texts.incidents.RECEIPT_CLOSED.format(id=1, number=3)),
        # damaged boxes are a problem at once, replaced, closed; the deadline raises what is still short
        "rusak 3",
        "kekurangan ini kini prioritas tinggi",
        # penghitungan and rekapitulasi, a 2 a.m. figure that went down is questioned and cancelled
        "Penghitungan suara:",
        shown(bot.texts.reporting.HELD.split("\n")[0]),
        shown(bot.texts.reporting.HELD_CANCELLED),
        "Rekapitulasi kecamatan PPWP",
        "lebih dari dua kali kebutuhan",  # the wrong report and its error
        "Made Wirawan menangani",
        "dieskalasi ke KPU Provinsi Bali",
        "telah diselesaikan oleh Nyoman Suarda",
        # a test message is rejected: its card says so, the reporter is told, the digest counts it nowhere
        shown(bot.texts.incidents.MOVE_DONE["tolak"]).split("#")[0],
        "ditolak oleh Made Wirawan",
        "Laporan Anda #",
        "ditolak 1 (tidak dihitung)",
        "Ringkasan Provinsi Bali",
        f"Keluaran demo ada di folder: {out.resolve()}",
    ):
        assert needle in transcript, needle
    # /insiden names each item by its label, with its figures ("Bilik suara diterima 710/788")
    assert re.search(r"^ {10}[A-Z][a-z]+( [a-z]+)*( [A-Z]+)* diterima [\d.]+/[\d.]+$", transcript, re.MULTILINE)
    assert "Traceback" not in transcript and shown(bot.texts.common.ERROR_APOLOGY) not in transcript
    _answers_follow_their_commands(transcript)
    assert (out / "transkrip.txt").read_text(encoding="utf-8").count("Laporan #") > 10
    digest = (out / "ringkasan.html").read_text(encoding="utf-8")
    assert "Kamis, 15 Februari 2024 · 17:00 WITA" in digest and "H+1" in digest
    # H+1: the rekapitulasi first, then penghitungan, incidents, logistics as readiness
    order = [digest.index(shown_title) for shown_title in ("Rekapitulasi kecamatan", "Penghitungan suara", "🚨", "📦")]
    assert order == sorted(order)
    assert "PPK lengkap semua barang:" in digest and "terlemah" in digest and "Total" not in digest
    # the urgent list: the open kritis first (Sirekap cannot upload), then the tinggi shortfalls
    urgent = digest.split("Perlu tindakan sekarang", 1)[1].split("\n")[1:]
    assert urgent[0].startswith("🔴") and "Sirekap gagal unggah di 60 TPS" in urgent[0]
    assert urgent[1].startswith("🟠")
    pngs = sorted(out.glob("grafik_*.png"))
    assert len(pngs) == 3  # penghitungan, incidents, readiness (the rekapitulasi has no chart)
    for png in pngs:
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">I", data[16:20])[0] >= 1000


def _answers_follow_their_commands(transcript: str) -> None:
    """In every group, the bot's welcome comes before anyone speaks there, and the first thing the
    bot says after `/grup CODE` in a chat is that chat's confirmation for CODE's region."""
    lines = transcript.splitlines()
    grup_commands = 0
    welcome = shown(bot.texts.groups.WELCOME_IN_GROUP)
    # the confirmation's first line, up to the region's name
    registered = shown(bot.texts.groups.grup_registered("", False, False, None)).splitlines()[0].rstrip(".")
    for i, line in enumerate(lines):
        said = re.match(r"^\[(?P<chat>[^\]]+)\] [^:]+: /grup (?P<code>\S+)$", line)
        if not said:
            continue
        grup_commands += 1
        chat = said["chat"]
        before = [ln for ln in lines[:i] if ln.startswith(f"   🤖 [{chat}] ")]
        assert before and before[-1] == f"   🤖 [{chat}] {welcome}", (line, before[-1:])
        answer = next(ln for ln in lines[i + 1 :] if ln.startswith("   🤖 "))
        assert answer.startswith(f"   🤖 [{chat}] {registered}"), (line, answer)
        name = chat.removeprefix("KPU ").removeprefix("Kabupaten ").removeprefix("Provinsi ")
        assert answer.rstrip(".").endswith(name), (line, answer)
    assert grup_commands == 10  # the province and its 9 kabupaten/kota
