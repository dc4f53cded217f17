"""What every benchmark shares: percentiles, tables, the machine, peak memory, quiet logs, and
the protocol between `python -m bench` and the benchmark processes it starts."""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (`p` in 0..100) of a non-empty sample."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def machine() -> str:
    """ "2 cores (Intel(R) Xeon(R) Processor), Python 3.11.7, Linux 6.1": what the figures were taken on."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{cores} cores ({model}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release().split('-')[0]}"
    )


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    """Peak resident memory, MB, of this process (`RUSAGE_SELF`) or of the largest of its finished
    children (`RUSAGE_CHILDREN`); ru_maxrss is KB on Linux, bytes on macOS."""
    scale = 1 if sys.platform == "darwin" else 1024
    return round(resource.getrusage(who).ru_maxrss * scale / 2**20, 1)


def quiet_logs() -> None:
    """Only warnings: the bot logs every start, httpx every request."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", force=True)
    for name in ("httpx", "httpcore", "telegram", "apscheduler", "aiohttp", "matplotlib", "PIL"):
        logging.getLogger(name).setLevel(logging.WARNING)


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{text} {unit}".rstrip()


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table, first column left-aligned, the others right-aligned."""
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))

    rule = "-" * len(line(cells[0]))
    return "\n".join([f"\n{title}", rule, line(cells[0]), rule, *(line(r) for r in cells[1:]), rule])


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("ok" if ok else "MISSED")


# --- the protocol between `python -m bench` and one benchmark process ---------------------------


def cli(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument(
        "--part-out", type=Path, default=None, help="write this benchmark's results (JSON) here, for python -m bench"
    )
    return parser.parse_args()


def finish(part: dict, part_out: Path | None) -> None:
    """Write the benchmark's part of results.json with its own peak RSS (this process: the bot and,
    for ingest, the emulator; not the helpers it started, the dataset generator or the fan-out's
    emulator process), and say what it was."""
    part = dict(part)
    part["_peak_rss_mb"] = peak_rss_mb(resource.RUSAGE_SELF)
    text = json.dumps(part, indent=2, ensure_ascii=False)
    if part_out is not None:
        part_out.write_text(text, encoding="utf-8")
    print(f"\npeak RSS of this benchmark process: {part['_peak_rss_mb']} MB")
