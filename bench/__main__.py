"""`python -m bench [--quick] [--out bench/results.json]`: every benchmark, then results.json.

Each benchmark runs in its own process (`python -m bench.<name> --part-out …`), one after the
other, so one's memory and warm caches do not flatter or burden the next, and its peak RSS is its
own. results.json gets the keys of issues 6 and 16 and `siaran` (issue 13); `peak_rss_mb` is the largest peak of the bot in
the benchmarks (for ingest with the emulator serving it; for the fan-out the bot's process plus its
drawing workers, summed); the dataset generator and the fan-out's emulator process are helpers,
reported in their benchmark's table, not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import fmt, machine, table, verdict

BENCHMARKS = ("ingest", "digest", "fanout", "siaran", "flood")
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "bench" / "results.json"
RSS_TARGET_MB = 400
FANOUT_TARGET = 1.25


def run_one(name: str, quick: bool, folder: Path) -> tuple[dict, float]:
    part_out = folder / f"{name}.json"
    command = [sys.executable, "-m", f"bench.{name}", "--part-out", str(part_out)] + (["--quick"] if quick else [])
    print(f"\n=== bench.{name}{' (quick)' if quick else ''} ===", flush=True)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"bench.{name} failed (exit code {done.returncode})")
    return json.loads(part_out.read_text(encoding="utf-8")), seconds


def summary(results: dict, parts: dict[str, dict], walls: dict[str, float]) -> str:
    i, d, f, fl = results["ingest"], results["digest"], results["fanout"], results["flood"]
    bound_ratio = f["end_to_end_seconds"] / f["bound_seconds"] if f["bound_seconds"] else float("nan")  # quick: none
    rows = [
        ["ingest: full bot / bare PTB echo", f"{fmt(i['reports_per_s'])} / {fmt(i['echo_per_s'])} reports/s", "", ""],
        ["ingest: ratio", f"{i['ratio']:.2f}", "≥ 0.8", verdict(i["ratio"] >= 0.8)],
        ["ingest: reports/s", fmt(i["reports_per_s"]), "≥ 300", verdict(i["reports_per_s"] >= 300)],
        [
            "ingest: latency p50 / p95 / p99 (saturated)",
            f"{fmt(i['p50_ms'])} / {fmt(i['p95_ms'])} / {fmt(i['p99_ms'])} ms",
            "",
            "",
        ],
        [
            "ingest: p95 at 50 reports/s",
            fmt(i["p95_ms_at_50_per_s"], "ms"),
            "≤ 100 ms",
            verdict(i["p95_ms_at_50_per_s"] <= 100),
        ],
        [
            "ingest by officers at once: " + " / ".join(i["by_officers"]),
            " / ".join(fmt(v["reports_per_s"]) for v in i["by_officers"].values()) + " reports/s",
            "",
            "",
        ],
        [
            "ingest: lost / duplicated",
            f"{i['lost']} / {i['duplicated']}",
            "0 / 0",
            verdict(i["lost"] == 0 and i["duplicated"] == 0),
        ],
        ["digest data: national", fmt(d["national_s"], "s"), "≤ 1 s", verdict(d["national_s"] <= 1)],
        [
            "digest data: national, 5 × the incidents (5 M)",
            fmt(d["national_s_5m"], "s"),
            "≤ 1 s, ≤ 1.5 × 1 M",
            verdict(d["national_s_5m"] <= 1 and d["national_s_5m"] <= 1.5 * d["national_s"]),
        ],
        ["digest data: province", fmt(d["province_s"], "s"), "", ""],
        ["digest data: kabupaten/kota", fmt(d["kabkota_s"], "s"), "≤ 0.1 s", verdict(d["kabkota_s"] <= 0.1)],
        [
            "slowest chart (each drawing worker)",
            fmt(results["chart_s"], "s"),
            "≤ 0.15 s",
            verdict(results["chart_s"] <= 0.15),
        ],
        [
            f"fan-out 07:00 → last chart: {f['groups']} groups, bound {fmt(f['bound_seconds'], 's')}",
            fmt(f["end_to_end_seconds"], "s"),
            f"≤ {FANOUT_TARGET} × bound",
            f"{bound_ratio:.2f} × {verdict(bound_ratio <= FANOUT_TARGET)}",
        ],
        [
            "on demand: repeated /ringkasan within the minute, p95",
            fmt(results["ondemand"]["repeat_ms"], "ms"),
            "≤ 200 ms",
            verdict(results["ondemand"]["repeat_ms"] <= 200),
        ],
        [
            f"/siaran: {results['siaran']['users']} users, bound {fmt(results['siaran']['bound_seconds'], 's')}",
            fmt(results["siaran"]["seconds"], "s"),
            "≤ 1.1 × bound, 0 lost, 0 429",
            verdict(
                results["siaran"]["seconds"] <= 1.1 * results["siaran"]["bound_seconds"]
                and results["siaran"]["lost"] == 0
                and results["siaran"]["refused_429"] == 0
            ),
        ],
        [
            "flood: /bantuan answered, p95",
            fmt(fl["command_p95_s"], "s"),
            "≤ 2 s",
            verdict(fl["command_p95_s"] <= 2),
        ],
        [
            "flood: kritis posted in its group, p95",
            fmt(fl["kritis_p95_s"], "s"),
            "≤ 5 s",
            verdict(fl["kritis_p95_s"] <= 5),
        ],
        ["flood: receipt messages/s (the budget left)", fmt(fl["receipts_per_s"]), "", ""],
        ["flood: lost", fl["lost"], "0", verdict(fl["lost"] == 0)],
        [
            "peak RSS",
            fmt(results["peak_rss_mb"], "MB"),
            f"≤ {RSS_TARGET_MB} MB",
            verdict(results["peak_rss_mb"] <= RSS_TARGET_MB),
        ],
    ]
    per = ", ".join(f"{name} {parts[name]['_peak_rss_mb']:.0f} MB / {walls[name]:.0f} s" for name in parts)
    return (
        table(f"Summary — {results['machine']}", ["figure", "measured", "target", ""], rows)
        + f"\nper benchmark (peak RSS / wall time): {per}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: the smoke test (well under 30 s)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"results file (default {DEFAULT_OUT})")
    args = parser.parse_args()
    started = time.perf_counter()
    parts: dict[str, dict] = {}
    walls: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="kpu-bench-") as tmp:
        for name in BENCHMARKS:
            parts[name], walls[name] = run_one(name, args.quick, Path(tmp))
    results = {
        "ingest": parts["ingest"]["ingest"],
        "digest": parts["digest"]["digest"],
        "chart_s": parts["fanout"]["chart_s"],  # slowest chart of the bot's drawing workers at 07:00
        "fanout": parts["fanout"]["fanout"],
        "siaran": parts["siaran"]["siaran"],
        "flood": parts["flood"]["flood"],
        "ondemand": parts["fanout"]["ondemand"],
        # the bot's processes: for the fan-out its own and its drawing workers', summed
        "peak_rss_mb": max(
            parts["ingest"]["_peak_rss_mb"],
            parts["digest"]["_peak_rss_mb"],
            parts["fanout"]["_bot_peak_rss_mb"],
            parts["siaran"]["_peak_rss_mb"],
            parts["flood"]["_peak_rss_mb"],
        ),
        "machine": machine(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    partial = args.out.with_name(args.out.name + ".tmp")
    partial.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(partial, args.out)
    print(summary(results, parts, walls))
    print(f"\nwrote {args.out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
