"""`python -m bot demo` runs the whole product against the emulator and writes its outputs."""

import io
import re
import struct

import bot.texts.common
import bot.texts.groups
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
    assert "Traceback" not in transcript and shown(bot.texts.common.ERROR_APOLOGY) not in transcript
    _answers_follow_their_commands(transcript)
    assert (out / "transkrip.txt").read_text(encoding="utf-8").count("Laporan #") > 10
    digest = (out / "ringkasan.html").read_text(encoding="utf-8")
    assert "Kamis, 15 Februari 2024 · 07:00 WITA" in digest and "H+1" in digest
    pngs = sorted(out.glob("grafik_*.png"))
    assert len(pngs) == 3
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
