"""The benchmarks at tiny sizes (`python -m bench --quick`), so the scripts cannot rot: every key
of results.json (issues 6 and 16) is there with a sane value, and no report was lost or stored twice."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_benchmarks_write_every_key(tmp_path):
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(out.read_text(encoding="utf-8"))

    assert set(results) == {
        "ingest",
        "digest",
        "chart_s",
        "fanout",
        "ondemand",
        "siaran",
        "flood",
        "peak_rss_mb",
        "machine",
    }
    ingest = results["ingest"]
    assert set(ingest) == {
        "reports_per_s",
        "echo_per_s",
        "ratio",
        "p50_ms",
        "p95_ms",
        "p99_ms",
        "p95_ms_at_50_per_s",
        "lost",
        "duplicated",
        "by_officers",
    }
    assert set(ingest["by_officers"]) == {"10"}  # quick: 100 and 1,000 officers only in `make bench`
    for by in ingest["by_officers"].values():
        assert by["reports_per_s"] > 0 and by["p95_ms"] > 0
    assert ingest["lost"] == 0 and ingest["duplicated"] == 0
    for key in ("reports_per_s", "echo_per_s", "ratio", "p50_ms", "p95_ms", "p99_ms", "p95_ms_at_50_per_s"):
        assert isinstance(ingest[key], (int, float)) and math.isfinite(ingest[key]) and ingest[key] > 0, key
    assert abs(ingest["ratio"] - ingest["reports_per_s"] / ingest["echo_per_s"]) < 0.01
    assert ingest["p50_ms"] <= ingest["p95_ms"] <= ingest["p99_ms"]

    assert set(results["digest"]) == {"national_s", "province_s", "kabkota_s", "national_s_5m"}
    assert all(0 < v < 30 for v in results["digest"].values())
    assert 0 < results["chart_s"] < 30

    fanout = results["fanout"]
    assert set(fanout) == {"groups", "seconds", "end_to_end_seconds", "bound_seconds"}
    assert fanout["groups"] == 5 and fanout["seconds"] > 0 and fanout["bound_seconds"] >= 0
    assert fanout["end_to_end_seconds"] > 0
    assert set(results["ondemand"]) == {"repeat_ms", "repeat_all_ms", "first_ms", "first_all_ms"}
    assert 0 < results["ondemand"]["repeat_ms"] < 30_000

    siaran = results["siaran"]
    assert set(siaran) == {"users", "seconds", "bound_seconds", "lost", "duplicated", "refused_429"}
    assert siaran["users"] == 40 and siaran["lost"] == siaran["duplicated"] == siaran["refused_429"] == 0
    assert siaran["seconds"] >= (siaran["users"] - 30) / 30  # Telegram's pace, never faster

    flood = results["flood"]  # its targets are asserted at a real size by tests/e2e/test_flood.py
    assert set(flood) == {"command_p95_s", "kritis_p95_s", "receipts_per_s", "lost"}
    assert flood["lost"] == 0 and 0 < flood["command_p95_s"] < 30 and 0 < flood["kritis_p95_s"] < 30
    assert flood["receipts_per_s"] > 0

    assert 20 < results["peak_rss_mb"] < 4096
    assert "cores" in results["machine"] and "Python" in results["machine"]
