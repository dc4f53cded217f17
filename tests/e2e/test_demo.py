"""`python -m bot demo` runs the whole product against the emulator and writes its outputs."""

import io
import struct

from bot.demo import run_demo


async def test_demo_tells_the_whole_story(tmp_path):
    stream = io.StringIO()
    assert await run_demo(out=tmp_path / "out", stream=stream) == 0
    transcript = stream.getvalue()
    out = tmp_path / "out"
    for needle in (
        "Selamat datang, Wayan Sudarsana",  # registration through an invite link
        "tautan undangan",  # a stranger is turned away
        "Laporan #",  # reports of every kind
        "Rekapitulasi",
        "lebih dari dua kali rencana",  # the wrong report and its error
        "rencana logistik: 456 baris diimpor",  # baselines by /impor
        "grup koordinasi",
        "Made Wirawan menangani",
        "dieskalasi ke Provinsi Bali",
        "telah diselesaikan oleh Nyoman Suarda",
        "Ringkasan Provinsi Bali",
        f"Keluaran demo ada di folder: {out.resolve()}",
    ):
        assert needle in transcript, needle
    assert "Traceback" not in transcript and "Maaf, terjadi gangguan" not in transcript
    assert (out / "transkrip.txt").read_text(encoding="utf-8").count("Laporan #") > 10
    digest = (out / "ringkasan.html").read_text(encoding="utf-8")
    assert "Kamis, 15 Februari 2024 · 07:00 WITA" in digest and "H+1" in digest
    pngs = sorted(out.glob("grafik_*.png"))
    assert len(pngs) == 3
    for png in pngs:
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">I", data[16:20])[0] >= 1000
