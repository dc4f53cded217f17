"""Excel both ways: /ekspor sends a workbook beside the CSV, /impor and the import verbs take one."""

from __future__ import annotations

import csv
import io

import openpyxl

import bot.texts.baselines
import bot.texts.export
from tests.e2e.conftest import shown

PLAN_ROWS = [["kode_wilayah", "barang", "jumlah"], ["51.03.01", "kotak suara", 120], ["51.03.02", "tinta", 80.0]]
PLAN_CSV = b"kode_wilayah,barang,jumlah\n51.03.01,kotak suara,120\n51.03.02,tinta,80\n"


def workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def sheet_rows(sheet) -> list[list[str]]:
    """A sheet's cells as the CSV writes them (numbers as text, empty cells as "")."""
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


async def test_export_workbook_holds_what_the_csv_holds(kpu, people):
    wayan, made, komang = people["wayan"], people["made"], people["komang"]
    plan = await komang.send_document(kpu.bot, PLAN_CSV, "rencana.csv", "text/csv")
    await kpu.say(komang, "/impor", reply_to=plan)
    await kpu.say(wayan, "/lapor data nik_invalid 1 NIK 5103011234560001 salah ketik")
    await kpu.say(wayan, "/lapor logistik kotak suara 100/120 rusak 2")
    await kpu.say(wayan, "/lapor hitung 10/20 sirekap 4")
    incident = (await kpu.rt.db.fetchone("SELECT min(id) AS id FROM incidents"))["id"]
    await kpu.say(made, f"/catatan {incident} pemilik NIK 5103011234560001 dihubungi")

    answer = await kpu.say(made, "/ekspor 7")
    assert answer.document_name.endswith(".csv")
    sent = await kpu.next(made)
    assert sent.document_name == answer.document_name.removesuffix(".csv") + ".xlsx"
    assert sent.caption == shown(bot.texts.export.xlsx_caption(3, 2))
    assert b"5103011234560001" not in sent.document_bytes

    book = openpyxl.load_workbook(io.BytesIO(sent.document_bytes))
    export = bot.texts.export
    assert book.sheetnames == [export.SHEET_INCIDENTS, export.SHEET_HISTORY, export.SHEET_STATE]
    incidents = book[export.SHEET_INCIDENTS]
    from_csv = list(csv.reader(io.StringIO(answer.document_bytes.decode("utf-8-sig"))))
    assert sheet_rows(incidents) == from_csv  # the same header, rows and cells
    assert incidents.freeze_panes == "A2" and incidents["A1"].font.bold
    widths = {c: incidents.column_dimensions[c].width for c in ("A", "U")}
    assert widths["A"] >= export.MIN_WIDTH and widths["U"] > widths["A"]  # uraian is wider than id

    history = sheet_rows(book[export.SHEET_HISTORY])
    assert history[0] == list(export.HISTORY_COLUMNS)
    notes = [row for row in history[1:] if row[0] == str(incident)]
    assert [row[2] for row in notes] == ["melapor", "mencatat"]
    assert notes[1][7] == "pemilik NIK 5103**********01 dihubungi" and notes[1][3] == "Made"

    state = sheet_rows(book[export.SHEET_STATE])
    assert state[0] == list(export.STATE_COLUMNS)
    by_key = {(row[0], row[1], row[4]): row for row in state[1:]}
    kotak = by_key[("Logistik", "51.03.01", "Kotak suara")]
    assert kotak[5:9] == ["100", "120", "2", "20"]  # diterima, kebutuhan, rusak, kurang
    never = by_key[("Logistik", "51.03.02", "Tinta")]
    assert never[5] == "" and never[6] == "80" and never[12] == ""  # planned, never reported
    counting = by_key[("Penghitungan suara", "51.03.01", "")]
    assert counting[9:12] == ["10", "20", "4"]


async def test_impor_takes_an_xlsx_like_its_csv(kpu, people):
    komang = people["komang"]
    doc = await komang.send_document(
        kpu.bot,
        workbook(PLAN_ROWS),
        "rencana.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    done = bot.texts.baselines.PLAN_DONE.format(rows=2, regions=2, items=2, added=2, replaced=0)
    assert (await kpu.say(komang, "/impor", reply_to=doc)).text == bot.texts.baselines.sentence(done)
    from_xlsx = [tuple(r) for r in await kpu.rt.db.fetchall("SELECT * FROM logistics_plan ORDER BY 1, 2")]
    csv_doc = await komang.send_document(kpu.bot, PLAN_CSV, "rencana.csv", "text/csv")
    again = bot.texts.baselines.PLAN_DONE.format(rows=2, regions=2, items=2, added=0, replaced=2)
    assert (await kpu.say(komang, "/impor", reply_to=csv_doc)).text == bot.texts.baselines.sentence(again)
    from_csv = [tuple(r) for r in await kpu.rt.db.fetchall("SELECT * FROM logistics_plan ORDER BY 1, 2")]
    assert (
        [r[:3] for r in from_xlsx]
        == [r[:3] for r in from_csv]
        == [
            ("51.03.01", "kotak_suara", 120),
            ("51.03.02", "tinta", 80),
        ]
    )
    bad = workbook([["kode_wilayah", "jumlah_tps"], ["51.71.01", 3]])
    doc = await komang.send_document(kpu.bot, bad, "tps.xlsx", "application/octet-stream")
    answer = await kpu.say(komang, "/impor", reply_to=doc)
    outside = bot.texts.baselines.ERRORS["out_of_scope"].format(code="51.71.01", scope="51.03")
    assert bot.texts.baselines.LINE_PREFIX.format(line=2, message=outside) in answer.text
