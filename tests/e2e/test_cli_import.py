"""`python -m bot import-plan` / `import-tps` as an operator runs them: a real process, a real file."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

import bot.texts.baselines

PLAN_HEAD = "kode_wilayah,barang,jumlah\n"


@pytest.fixture
def run(tmp_path):
    """Run `python -m bot <args>` in tmp_path with only the environment it needs."""
    db_path = tmp_path / "data" / "bot.sqlite3"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),  # the code under test, not an installed copy
        "HOME": str(tmp_path),
        "DATABASE_PATH": str(db_path),
        "REGION_ROOT": "51",
    }
    if os.environ.get("PYTHONPATH"):  # the code under test, not whatever the venv has installed
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]

    def go(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=120,
        )

    go.db_path = db_path  # type: ignore[attr-defined]
    return go


def query(db_path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_good_plan_file(run, tmp_path):
    (tmp_path / "rencana.csv").write_text(
        PLAN_HEAD + "51.03.01,kotak_suara,120\n510302,surat,1.250\n51.03.02,tinta,30\n", encoding="utf-8"
    )
    done = run("import-plan", "rencana.csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "rencana.csv: kebutuhan logistik: 3 baris diimpor (2 kecamatan, 3 barang; 3 baru, 0 mengganti nilai lama)"
    )
    assert sorted(query(run.db_path, "SELECT region_code, item, quantity FROM logistics_plan")) == [
        ("51.03.01", "kotak_suara", 120),
        ("51.03.02", "surat_suara", 1250),
        ("51.03.02", "tinta", 30),
    ]
    assert query(run.db_path, "SELECT actor_id, action, target FROM audit_log WHERE action = 'impor'") == [
        (None, "impor", "rencana")
    ]


def test_good_tps_file_from_excel_and_reimport(run, tmp_path):
    path = tmp_path / "tps.csv"
    path.write_bytes(b"\xef\xbb\xbfKode_Wilayah;Jumlah_TPS\r\n51.03.01;205\r\n51.03.02;1.010\r\n")
    done = run("import-tps", str(path))
    assert done.returncode == 0, done.stderr
    assert bot.texts.baselines.TPS_DONE.format(rows=2, regions=2, total="1.215", added=2, replaced=0) in done.stdout
    path.write_bytes(b"kode_wilayah,jumlah_tps\n51.03.01,210\n")
    done = run("import-tps", str(path))
    assert done.returncode == 0, done.stderr
    assert bot.texts.baselines.TPS_DONE.format(rows=1, regions=1, total="210", added=0, replaced=1) in done.stdout
    assert sorted(query(run.db_path, "SELECT region_code, tps_count FROM tps_baseline")) == [
        ("51.03.01", 210),
        ("51.03.02", 1010),
    ]


def test_bad_plan_file_names_file_and_lines_and_imports_nothing(run, tmp_path):
    lines = [
        f"51.03.0{1 + n % 6},{item},{n + 1}"
        for n, item in enumerate(["kotak", "bilik", "surat", "tinta", "segel", "formulir", "sampul", "braille"] * 3)
    ][:19]
    # keys must be unique: 6 kecamatan x 8 items cycle, 19 lines never repeat a pair
    lines[15] = "51.99.01,kotak,5"  # file line 17
    lines[3] = "51.03.04,tinta,1,5"  # file line 5
    (tmp_path / "rencana.csv").write_text(PLAN_HEAD + "\n".join(lines) + "\n", encoding="utf-8")
    done = run("import-plan", "rencana.csv")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    err = done.stderr.splitlines()
    texts = bot.texts.baselines
    assert err[0] == "error: rencana.csv: " + texts.FAILED.format(label=texts.KIND_LABELS["rencana"], count=2)
    too_many = texts.ERRORS["too_many_columns"].partition(":")[0]  # "kolom berlebih", before its figures
    assert err[1].startswith("rencana.csv: " + texts.LINE_PREFIX.format(line=5, message=too_many))
    unknown = texts.ERRORS["unknown_region"].format(code="51.99.01")
    assert err[2] == "rencana.csv: " + texts.LINE_PREFIX.format(line=17, message=unknown)
    assert done.stdout == ""
    assert query(run.db_path, "SELECT count(*) FROM logistics_plan") == [(0,)]
    assert query(run.db_path, "SELECT count(*) FROM audit_log WHERE action = 'impor'") == [(0,)]


def test_bad_tps_file(run, tmp_path):
    (tmp_path / "tps.csv").write_text(
        "kode_wilayah,jumlah_tps\n51.03.01,10\n51.03,300\n51.03.01.2001,4\n51.03.02,-1\n", encoding="utf-8"
    )
    done = run("import-tps", "tps.csv")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert [line.split(":")[1].strip() for line in done.stderr.splitlines()[1:]] == ["baris 3", "baris 4", "baris 5"]
    assert query(run.db_path, "SELECT count(*) FROM tps_baseline") == [(0,)]


@pytest.mark.parametrize(
    ("verb", "content", "expected"),
    [
        ("import-tps", None, "error: hilang.csv: berkas tidak ada"),
        ("import-tps", b"", "error: hilang.csv: jumlah TPS: 1 masalah, tidak ada yang diimpor"),
        ("import-plan", b"kode_wilayah,jumlah_tps\n51.03.01,4\n", "hilang.csv: baris 1: ini judul berkas jumlah TPS"),
        ("import-tps", b"kode;tps\n51.03.01;4\n", "hilang.csv: baris 1: judul kolom harus kode_wilayah,jumlah_tps"),
        ("import-tps", b"kode_wilayah,jumlah_tps\n51.03.01,\xe9\n", "hilang.csv: baris 2: bukan teks UTF-8"),
    ],
)
def test_unusable_file(run, tmp_path, verb, content, expected):
    if content is not None:
        (tmp_path / "hilang.csv").write_bytes(content)
    done = run(verb, "hilang.csv")
    assert done.returncode == 2
    assert expected in done.stderr
    assert "Traceback" not in done.stderr
    if run.db_path.exists():
        assert query(run.db_path, "SELECT count(*) FROM logistics_plan") == [(0,)]
        assert query(run.db_path, "SELECT count(*) FROM tps_baseline") == [(0,)]


def test_a_busy_database_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    """The bot holds the write lock (another connection here) longer than the busy timeout: the
    import says so in one line, exits 2, and stores nothing — no traceback."""
    from bot.__main__ import main
    from storage import db as storage_db

    db_path = tmp_path / "bot.sqlite3"
    monkeypatch.setenv("DATABASE_PATH", str(db_path))
    monkeypatch.setenv("REGION_ROOT", "51")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rencana.csv").write_text(PLAN_HEAD + "51.03.01,kotak_suara,120\n", encoding="utf-8")
    assert main(["import-plan", "rencana.csv"]) == 0  # the database exists, regions loaded
    capsys.readouterr()
    monkeypatch.setattr(storage_db, "BUSY_TIMEOUT_MS", 50)
    (tmp_path / "rencana.csv").write_text(PLAN_HEAD + "51.03.01,kotak_suara,150\n", encoding="utf-8")
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # a writer that does not let go
        assert main(["import-plan", "rencana.csv"]) == 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith(
        "error: " + bot.texts.baselines.DATABASE_FAILED.format(path=db_path, reason="database is locked")
    )
    assert query(db_path, "SELECT quantity FROM logistics_plan") == [(120,)]


def test_import_verbs_take_an_xlsx_like_its_csv(run, tmp_path):
    def workbook(rows: list[list[object]]) -> bytes:
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        buf = io.BytesIO()
        book.save(buf)
        return buf.getvalue()

    (tmp_path / "rencana.xlsx").write_bytes(
        workbook([["kode_wilayah", "barang", "jumlah"], ["51.03.01", "kotak_suara", 120], [510302, "surat", 1250.0]])
    )
    (tmp_path / "rencana.csv").write_text(
        PLAN_HEAD + "51.03.01,kotak_suara,120\n510302,surat,1.250\n", encoding="utf-8"
    )
    from_xlsx = run("import-plan", "rencana.xlsx")
    assert from_xlsx.returncode == 0, from_xlsx.stderr
    stored = sorted(query(run.db_path, "SELECT region_code, item, quantity FROM logistics_plan"))
    from_csv = run("import-plan", "rencana.csv")
    assert from_csv.returncode == 0, from_csv.stderr
    assert (
        sorted(query(run.db_path, "SELECT region_code, item, quantity FROM logistics_plan"))
        == stored
        == [
            ("51.03.01", "kotak_suara", 120),
            ("51.03.02", "surat_suara", 1250),
        ]
    )
    texts = bot.texts.baselines
    assert texts.PLAN_DONE.format(rows=2, regions=2, items=2, added=2, replaced=0) in from_xlsx.stdout
    assert texts.PLAN_DONE.format(rows=2, regions=2, items=2, added=0, replaced=2) in from_csv.stdout
    (tmp_path / "tps.xlsx").write_bytes(workbook([["kode_wilayah", "jumlah_tps"], ["51.03.01", 205], ["51.99.01", 1]]))
    bad = run("import-tps", "tps.xlsx")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    unknown = texts.ERRORS["unknown_region"].format(code="51.99.01")
    assert "tps.xlsx: " + texts.LINE_PREFIX.format(line=3, message=unknown) in bad.stderr
    assert query(run.db_path, "SELECT count(*) FROM tps_baseline") == [(0,)]
