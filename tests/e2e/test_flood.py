"""Under a flood of reports (100/s offered for 20 s against the emulator enforcing Telegram's
limits), an unrelated /bantuan is answered within 2 s (p95) and a kritis report's card is posted
in its group within 5 s (p95), while receipts take what is left of the budget; every report is
stored once and confirmed to its officer in the end. `make bench` runs the same case for 3 minutes
(`bench/flood.py`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_answers_and_kritis_posts_go_before_a_flood_of_receipts(tmp_path):
    out = tmp_path / "flood.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.flood", "--size", "test", "--part-out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    flood, detail = result["flood"], result["_flood"]
    report = done.stdout[-2500:]
    assert detail["offered_per_s"] >= 90, report  # the flood really was offered
    assert detail["commands"] >= 5 and detail["kritis"] >= 2, report
    assert flood["command_p95_s"] <= 2, report
    assert flood["kritis_p95_s"] <= 5, report
    assert flood["lost"] == 0 and detail["drained"], report
    # receipts got the rest of the budget, and waiting receipts were coalesced
    assert flood["receipts_per_s"] >= 15, report
    assert detail["reports_confirmed_per_s"] > flood["receipts_per_s"], report
