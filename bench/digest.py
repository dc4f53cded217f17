"""Digests at national scale: computing the digest data, and drawing the charts.

On the generated national database (`bench.dataset`: 38 / 514 / 7,277 regions, plan and TPS
baseline for every kecamatan, 1,000,000 incidents over 30 days, cached in the temp folder), opened
as the bot opens it (`storage.db.Database`): the median of 5 of `bot.services.digest.compute_digest` for
the whole country (`ID`), the largest province and the largest kabupaten/kota (most kecamatan:
the worst case), at the moment the data ends (H+1, 07:00 WITA); then the median of 5 of drawing
each chart of the national digest (`bot.charts`), and, for reference, of the digest text.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from bench import dataset
from bench.common import cli, finish, fmt, median, quiet_logs, table, verdict

INCIDENTS = 1_000_000
QUICK_INCIDENTS = 2_000
#: the larger database: this many times the incidents (`bench.dataset.grow`)
GROWN = 5
REPEATS = 5
TARGETS = {"national_s": 1.0, "province_s": None, "kabkota_s": 0.1}
CHART_TARGET_S = 0.15


async def largest(db, level: str) -> tuple[str, str, int]:
    """(code, name, kecamatan) of the region of `level` with the most kecamatan."""
    length = {"provinsi": 2, "kabkota": 5}[level]
    row = await db.fetchone(
        f"""SELECT r.code, r.name, (SELECT count(*) FROM regions k
                                      WHERE k.level = 'kecamatan' AND substr(k.code, 1, {length}) = r.code) AS n
              FROM regions r WHERE r.level = ? ORDER BY n DESC, r.code LIMIT 1""",
        (level,),
    )
    return row[0], row[1], row[2]


async def measure(path: Path, repeats: int) -> dict:
    from bot import charts
    from bot.services.digest import compute_digest
    from bot.texts.digest import render_digest
    from storage.db import Database

    db = await Database.open(path)
    try:
        province = await largest(db, "provinsi")
        kabkota = await largest(db, "kabkota")
        subjects = {"national_s": ("ID", "Indonesia", 7_277), "province_s": province, "kabkota_s": kabkota}
        digest_s: dict[str, list[float]] = {}
        digests = {}
        for key, (code, _, _) in subjects.items():
            samples = []
            for _ in range(repeats):
                started = time.perf_counter()
                digests[key] = await compute_digest(db, code, dataset.AT, dataset.ELECTION_DAY)
                samples.append(time.perf_counter() - started)
            digest_s[key] = samples
        counts = await db.fetchone("SELECT count(*) FROM incidents")
    finally:
        await db.close()

    national = digests["national_s"]
    chart_s: dict[str, list[float]] = {}
    sizes: dict[str, int] = {}
    for name, draw in (
        ("logistik", charts.logistics_chart),
        ("rekap", charts.counting_chart),
        ("insiden", charts.incidents_chart),
    ):
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            png = draw(national)
            samples.append(time.perf_counter() - started)
        chart_s[name] = samples
        sizes[name] = len(png)
    text_s = []
    for _ in range(repeats):
        started = time.perf_counter()
        parts = render_digest(national)
        text_s.append(time.perf_counter() - started)
    return {
        "subjects": {k: list(v) for k, v in subjects.items()},
        "digest_samples": digest_s,
        "chart_samples": chart_s,
        "chart_bytes": sizes,
        "text_samples": text_s,
        "text_parts": len(parts),
        "incidents": counts[0],
        "national_figures": {
            "kecamatan": national.kecamatan_count,
            "silent": national.silent_count,
            "new_24h": national.new.total,
            "open": national.open.total,
            "escalated_24h": national.escalated.total,
            "resolved_24h": national.resolved.total,
            "tps_done": national.counting_total.tps_done,
            "tps_total": national.counting_total.tps_total,
        },
    }


class _Traced:
    """A `storage.db.Database` stand-in that passes every call on and keeps each SELECT it ran
    with its parameters (for EXPLAIN QUERY PLAN) and its time."""

    def __init__(self, db) -> None:  # type: ignore[no-untyped-def]
        self._db = db
        self.queries: list[tuple[str, tuple, float]] = []

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        real = getattr(self._db, name)
        if name not in ("fetchall", "fetchone", "fetchvalue"):
            return real

        async def traced(sql, params=(), *args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                return await real(sql, params, *args, **kwargs)
            finally:
                self.queries.append((sql, tuple(params), time.perf_counter() - started))

        return traced


async def national_at_scale(path: Path, repeats: int) -> dict:
    """compute_digest for the whole country on the database at `path`: samples, and each query's
    time and plan (does it SCAN incidents or incident_events?) from one traced run."""
    from bot.services.digest import compute_digest
    from storage.db import Database

    db = await Database.open(path)
    try:
        samples = []
        for _ in range(repeats):
            started = time.perf_counter()
            await compute_digest(db, "ID", dataset.AT, dataset.ELECTION_DAY)
            samples.append(time.perf_counter() - started)
        traced = _Traced(db)
        await compute_digest(traced, "ID", dataset.AT, dataset.ELECTION_DAY)  # type: ignore[arg-type]
        plans = []
        for sql, params, seconds in traced.queries:
            rows = await db.fetchall("EXPLAIN QUERY PLAN " + sql, params)
            detail = [r[3] for r in rows]
            scans = [d for d in detail if d.startswith("SCAN ") and ("incident" in d)]
            plans.append({"sql": " ".join(sql.split())[:70], "seconds": seconds, "scans": scans})
        (count,) = await db.fetchone("SELECT count(*) FROM incidents")
    finally:
        await db.close()
    return {"samples": samples, "plans": plans, "incidents": count}


def run(quick: bool = False) -> dict:
    incidents = QUICK_INCIDENTS if quick else INCIDENTS
    repeats = 2 if quick else REPEATS
    with tempfile.TemporaryDirectory(prefix="kpu-bench-digest-") as tmp:
        path, generated_s = dataset.ensure(incidents, cache=not quick, folder=Path(tmp))
        m = asyncio.run(measure(path, repeats))
        at_1 = asyncio.run(national_at_scale(path, repeats))
        path_5, grown_s = dataset.ensure_grown(GROWN * incidents, incidents, cache=not quick, folder=Path(tmp))
        at_5 = asyncio.run(national_at_scale(path_5, repeats))
    digest = {key: round(median(samples), 4) for key, samples in m["digest_samples"].items()}
    digest["national_s_5m"] = round(median(at_5["samples"]), 4)
    print_growth(at_1, at_5, grown_s)
    charts = {name: round(median(samples), 4) for name, samples in m["chart_samples"].items()}
    chart_s = max(charts.values())

    where = f"generated now in {generated_s:.0f} s" if generated_s else "cached"
    print(f"\nDatabase: {m['incidents']:,} incidents ({where}: {path})")
    f = m["national_figures"]
    print(
        f"National digest at {dataset.AT:%Y-%m-%d %H:%M} WITA: {f['kecamatan']:,} kecamatan, {f['silent']:,} silent "
        f"24 h, {f['new_24h']:,} new / {f['escalated_24h']:,} escalated / {f['resolved_24h']:,} resolved in 24 h, "
        f"{f['open']:,} open, TPS counted {f['tps_done']:,} of {f['tps_total']:,}"
    )
    rows = []
    for key, label in (("national_s", "national (ID)"), ("province_s", "province"), ("kabkota_s", "kabupaten/kota")):
        code, name, kec = m["subjects"][key]
        samples = m["digest_samples"][key]
        target = TARGETS[key]
        rows.append(
            [
                f"{label}: {name} ({code}, {kec:,} kecamatan)",
                fmt(digest[key], "s"),
                fmt(min(samples), "s"),
                fmt(max(samples), "s"),
                f"≤ {target} s" if target else "—",
                verdict(digest[key] <= target if target else None),
            ]
        )
    print(table(f"compute_digest, median of {repeats}", ["digest data", "median", "min", "max", "target", ""], rows))
    rows = []
    for name, samples in m["chart_samples"].items():
        rows.append(
            [
                f"{name} chart ({m['chart_bytes'][name] // 1024} KB PNG)",
                fmt(charts[name], "s"),
                fmt(min(samples), "s"),
                fmt(max(samples), "s"),
                f"≤ {CHART_TARGET_S} s",
                verdict(charts[name] <= CHART_TARGET_S),
            ]
        )
    rows.append(
        [
            f"digest text ({m['text_parts']} message(s))",
            fmt(median(m["text_samples"]), "s"),
            fmt(min(m["text_samples"]), "s"),
            fmt(max(m["text_samples"]), "s"),
            "—",
            "—",
        ]
    )
    print(
        table(
            f"National digest drawn, median of {repeats} (the first draw also loads fonts)",
            ["chart", "median", "min", "max", "target", ""],
            rows,
        )
    )
    return {
        "digest": digest,
        "chart_s": round(chart_s, 4),
        "_digest_detail": {
            "subjects": m["subjects"],
            "charts_s": charts,
            "text_s": round(statistics.median(m["text_samples"]), 4),
            "incidents": m["incidents"],
            "generated_s": round(generated_s, 1),
            "national": f,
        },
    }


def print_growth(at_1: dict, at_5: dict, grown_s: float) -> None:
    """How the national digest's cost grows from the 1 M to the 5 M database, query by query."""
    n1, n5 = at_1["incidents"], at_5["incidents"]
    rows = []
    for q1, q5 in zip(at_1["plans"], at_5["plans"], strict=True):
        rows.append(
            [
                q1["sql"],
                fmt(q1["seconds"], "s"),
                fmt(q5["seconds"], "s"),
                f"{q5['seconds'] / q1['seconds']:.1f} ×" if q1["seconds"] else "—",
                "; ".join(q5["scans"])[:50] or "—",
            ]
        )
    m1, m5 = median(at_1["samples"]), median(at_5["samples"])
    rows.append(["compute_digest (median)", fmt(m1, "s"), fmt(m5, "s"), f"{m5 / m1:.2f} ×", ""])
    where = f"grown now in {grown_s:.0f} s" if grown_s else "cached"
    print(
        table(
            f"National digest data as the database grows: {n1:,} → {n5:,} incidents ({where}; the last 30 days "
            "are the same, the rest older history)",
            ["query", f"{n1 / 1e6:g} M", f"{n5 / 1e6:g} M", "growth", "full scans of incidents/events (5 M)"],
            rows,
        )
    )


def main() -> None:
    args = cli(__doc__.splitlines()[0])
    quiet_logs()
    finish(run(quick=args.quick), args.part_out)


if __name__ == "__main__":
    main()
