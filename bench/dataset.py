"""A national-scale database for the digest and fan-out benchmarks, generated fast and cached.

`REGION_ROOT=ID` (38 provinces, 514 kabupaten/kota, 7,277 kecamatan, loaded by
`storage.regions.ensure_loaded`), a logistics plan (8 items) and a TPS baseline for every
kecamatan, one petugas per kecamatan and one koordinator per kabupaten/kota and province, and
`n` incidents over the 30 days up to the digest moment `AT` (H+1, 07:00 WITA), inserted with
`executemany` in big transactions straight into the bot's schema (migrations applied by
`storage.db.Database.open`), so the triggers of migration 0003 keep `logistics_state`,
`counting_state` and `region_activity` current as they would in production:

* logistik (45 %): kecamatan, the days before voting, more of them closer to H; cumulative
  "received so far" against the imported plan (sometimes the plan written in the report), some
  damage; severity by the bot's own rule (`bot.domain.reporting.derive_severity`).
* data (15 %): voter-data problems, sedang; mostly kecamatan, some kabupaten/kota or province.
* hitung (15 %): penghitungan, kecamatan, from 13:00 on voting day; TPS counted rising to the
  baseline, Sirekap uploads behind; rendah.

Logistics and penghitungan are state (migration 0007): at most one open incident per kecamatan ×
item (kecamatan for hitung). The generator writes every report as its own incident, as a database
upgraded from before 0007 holds them, and closes all but the latest of each key as the migration
does ('selesai_otomatis' naming the one that carries the figures), so the partial UNIQUE index
holds and the digest reads the same state tables.
* insiden (25 %): half spread over the 30 days, half on voting day and the night after;
  rendah 35 % / sedang 35 % / tinggi 22 % / kritis 8 %.

Lifecycle: taken after an exponential delay (kritis ~30 min … rendah ~12 h), resolved some hours
later, ~12 % never taken. Tinggi/kritis reports (incidents, and logistics short by more than 10 %)
are escalated as the bot's own job would have done with the default settings: one level up every
120 / 30 minutes they wait untaken, up to the national level, where the job notes "at the top"
and stops measuring (`awaiting_since` NULL) — so at the digest moment nothing is overdue and the
running bot has nothing to escalate. Every change has its `incident_events` row (eskalasi_otomatis,
tangani, selesai; the 'lapor' event and the `processed_updates` row of every report are written by
the schema's triggers, migration 0006, as in production). Not generated:
receipts (`incident_messages`), the outbox (the receipt the schema queues with each report,
migration 0011, is removed: long delivered, and a running bot would otherwise try to send a
million of them during the fan-out), attachments.

The file is cached in the temp folder under a name carrying the schema (a hash of the
migrations), this generator's version, the size and the seed; `python -m bench.dataset` builds it.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

GENERATOR_VERSION = 4  # 3 on two branches: issue 16 (no outbox rows) and issue 11 (state), merged
TZ = ZoneInfo("Asia/Makassar")
ELECTION_DAY = date(2024, 2, 14)
AT = datetime(2024, 2, 15, 7, 0, tzinfo=TZ)  # the digest moment: H+1, 07:00 WITA
DAYS = 30
ITEMS = ("kotak_suara", "bilik_suara", "surat_suara", "tinta", "segel", "formulir", "sampul", "alat_bantu_tunanetra")
#: plan per TPS of each item
PER_TPS = (1.0, 4.0, 1_500.0, 2.0, 20.0, 30.0, 25.0, 1.0)
KINDS = ("logistik", "data", "hitung", "insiden")
KIND_P = (0.45, 0.15, 0.15, 0.25)
SEVERITIES = ("rendah", "sedang", "tinggi", "kritis")
INSIDEN_P = (0.35, 0.35, 0.22, 0.08)
PROBLEMS = ("ganda", "meninggal", "pindah", "tms", "nik_invalid", "belum_terdaftar", "lainnya")
INSIDEN_TEXTS = (
    "antrean panjang di TPS",
    "listrik padam di TPS",
    "saksi menolak menandatangani form C",
    "kotak suara rusak",
    "banjir di sekitar TPS",
    "surat suara tertukar dapil",
    "keributan kecil di TPS",
    "jalan menuju TPS longsor",
)
CHUNK = 50_000
#: minutes untaken before the automatic escalation, by severity index (settings' defaults)
AUTO_ESCALATE_MIN = {2: 120, 3: 30}
ADMIN_ID = 1
PETUGAS_BASE = 1_000_000  # + kecamatan index
KOORD_KAB_BASE = 2_000_000  # + kabupaten/kota index
KOORD_PROV_BASE = 3_000_000  # + province index


def schema_key() -> str:
    """A short hash of the packaged migrations (the schema this file was generated for)."""
    from storage.db import migrations

    digest = hashlib.sha256()
    for number, name, sql in migrations():
        digest.update(f"{number}:{name}:".encode() + sql.encode())
    return f"s{len(migrations())}-{digest.hexdigest()[:10]}"


def cache_path(incidents: int, seed: int) -> Path:
    folder = Path(tempfile.gettempdir()) / "kpu-bench-cache"
    return folder / f"national-{schema_key()}-g{GENERATOR_VERSION}-n{incidents}-seed{seed}.sqlite3"


def ensure(incidents: int, seed: int = 6, *, cache: bool = True, folder: Path | None = None) -> tuple[Path, float]:
    """The path of the generated database (generated in a child process unless cached) and the
    seconds generation took (0 when cached)."""
    path = (
        cache_path(incidents, seed)
        if cache
        else (folder or Path(tempfile.mkdtemp())) / f"national-n{incidents}.sqlite3"
    )
    if path.exists():
        return path, 0.0
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    # a child process, so the generator's memory does not count as the benchmark's peak RSS
    subprocess.run(
        [sys.executable, "-m", "bench.dataset", "--incidents", str(incidents), "--seed", str(seed), "--out", str(path)],
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    return path, time.perf_counter() - started


# --- generation ----------------------------------------------------------------------------------


async def _prepare(path: Path) -> None:
    """Schema (the bot's migrations) and the national region table (the bot's loader)."""
    from storage import regions as region_store
    from storage.db import Database

    db = await Database.open(path)
    try:
        await region_store.ensure_loaded(db, "ID")
    finally:
        await db.close()


def _stamps(seconds: np.ndarray) -> list[str]:
    """UTC epoch seconds → the bot's stored text ("2024-02-14T00:00:00.000000+00:00")."""
    micros = np.round(seconds * 1e6).astype("int64").astype("datetime64[us]")
    return [s + "+00:00" for s in np.datetime_as_string(micros, unit="us").tolist()]


def _maybe(values: list[str], present: np.ndarray) -> list[str | None]:
    return [v if p else None for v, p in zip(values, present.tolist(), strict=True)]


def generate(path: Path, incidents: int, seed: int) -> dict:
    from bot.texts.incidents import auto_escalation_note

    started = time.perf_counter()
    tmp = path.with_name(path.name + ".part")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    asyncio.run(_prepare(tmp))
    rng = np.random.default_rng(seed)
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = OFF")  # generation only; the benchmarks open it as the bot does
    conn.execute("PRAGMA cache_size = -262144")
    regions = conn.execute("SELECT code, parent_code, level FROM regions ORDER BY code").fetchall()
    kec = [r[0] for r in regions if r[2] == "kecamatan"]
    kab = [r[0] for r in regions if r[2] == "kabkota"]
    prov = [r[0] for r in regions if r[2] == "provinsi"]
    parent = {r[0]: r[1] for r in regions}
    kab_index = {code: i for i, code in enumerate(kab)}
    prov_index = {code: i for i, code in enumerate(prov)}
    at = AT.astimezone(UTC).timestamp()
    start = at - DAYS * 86_400
    voting_opens = datetime(2024, 2, 14, 7, 0, tzinfo=TZ).timestamp()
    counting_starts = datetime(2024, 2, 14, 13, 0, tzinfo=TZ).timestamp()
    imported = datetime.fromtimestamp(start - 86_400, UTC).isoformat(timespec="microseconds")

    # baselines and people
    tps = rng.integers(20, 260, len(kec))
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO tps_baseline (region_code, tps_count, imported_at) VALUES (?, ?, ?)",
        [(code, int(n), imported) for code, n in zip(kec, tps.tolist(), strict=True)],
    )
    plan = np.rint(tps[:, None] * np.array(PER_TPS)[None, :] * rng.uniform(0.95, 1.1, (len(kec), len(ITEMS))))
    plan = plan.astype("int64")
    conn.executemany(
        "INSERT INTO logistics_plan (region_code, item, quantity, imported_at) VALUES (?, ?, ?, ?)",
        [(code, item, int(plan[i, j]), imported) for i, code in enumerate(kec) for j, item in enumerate(ITEMS)],
    )
    conn.execute(
        "INSERT OR IGNORE INTO users (telegram_id, role, region_code, full_name, registered_at)"
        " VALUES (?, 'admin', 'ID', 'Admin', ?)",
        (ADMIN_ID, imported),
    )
    people = (
        [(PETUGAS_BASE + i, "petugas", code, f"Petugas {code}") for i, code in enumerate(kec)]
        + [(KOORD_KAB_BASE + i, "koordinator", code, f"Koordinator {code}") for i, code in enumerate(kab)]
        + [(KOORD_PROV_BASE + i, "koordinator", code, f"Koordinator {code}") for i, code in enumerate(prov)]
    )
    conn.executemany(
        "INSERT INTO users (telegram_id, role, region_code, full_name, invited_by, registered_at)"
        " VALUES (?, ?, ?, ?, 1, ?)",
        [(*p, imported) for p in people],
    )
    conn.execute("COMMIT")

    # when, and what kind: drawn for all, then sorted by time so ids follow time as in production
    n = incidents
    kind = rng.choice(4, n, p=KIND_P)
    t = np.empty(n)
    u = rng.random(n)
    m = kind == 0
    t[m] = start + (voting_opens - start) * np.sqrt(u[m])  # denser towards voting day
    m = kind == 1
    t[m] = start + (voting_opens - start) * u[m]
    m = kind == 2
    t[m] = counting_starts + (at - 1 - counting_starts) * u[m]
    m = kind == 3
    late = rng.random(n) < 0.5
    t[m & ~late] = start + (at - start) * u[m & ~late]
    t[m & late] = voting_opens + (at - 1 - voting_opens) * u[m & late]
    order = np.argsort(t, kind="stable")
    kind, t = kind[order], t[order]

    # where, who
    kec_i = rng.integers(0, len(kec), n)
    level_roll = rng.random(n)
    at_kab = ((kind == 1) | (kind == 3)) & (level_roll < 0.08)
    at_prov = ((kind == 1) | (kind == 3)) & (level_roll >= 0.08) & (level_roll < 0.10)
    region = [kec[i] for i in kec_i.tolist()]
    reporter = (PETUGAS_BASE + kec_i).tolist()
    for i in np.flatnonzero(at_kab | at_prov).tolist():
        k = parent[region[i]]
        if at_prov[i]:
            p = parent[k]
            region[i], reporter[i] = p, KOORD_PROV_BASE + prov_index[p]
        else:
            region[i], reporter[i] = k, KOORD_KAB_BASE + kab_index[k]

    # figures
    item_i = rng.integers(0, len(ITEMS), n)
    planned = plan[kec_i, item_i]
    frac = np.clip((t - start) / (voting_opens - start), 0, 1)
    progress = np.clip(0.55 + 0.5 * frac + rng.normal(0, 0.08, n), 0, 1.02)
    received = np.minimum(np.rint(planned * progress).astype("int64"), 2 * planned)
    damaged = np.where(rng.random(n) < 0.1, rng.integers(1, 4, n), 0)
    damaged = np.minimum(damaged, received)
    shortfall = np.maximum(planned - received, 0)
    log_sev = np.where(shortfall * 10 > planned, 2, np.where((shortfall > 0) | (damaged > 0), 1, 0))
    plan_in_report = rng.random(n) < 0.2
    count_frac = np.clip((t - counting_starts) / (at - counting_starts), 0, 1)
    tps_total = tps[kec_i]
    tps_done = np.minimum(np.rint(tps_total * np.clip(count_frac * rng.uniform(0.8, 1.3, n), 0, 1)), tps_total)
    tps_done = tps_done.astype("int64")
    sirekap = np.rint(tps_done * rng.uniform(0.5, 1.0, n)).astype("int64")
    data_count = rng.integers(1, 60, n)
    ins_sev = rng.choice(4, n, p=INSIDEN_P)
    severity = np.select(
        [kind == 0, kind == 1, kind == 2], [log_sev, np.ones(n, "int64"), np.zeros(n, "int64")], ins_sev
    )
    problem_i = rng.integers(0, len(PROBLEMS), n)
    text_i = rng.integers(0, len(INSIDEN_TEXTS), n)
    tps_no = rng.integers(1, 120, n)

    # lifecycle
    reported = t
    received_at = np.minimum(t + rng.uniform(0.2, 4.0, n), at)  # nothing after the moment: state is as of `at`
    take_mean = np.array([12 * 3600, 6 * 3600, 90 * 60, 30 * 60])[severity]
    taken = received_at + rng.exponential(1.0, n) * take_mean
    never = rng.random(n) < 0.12
    taken[never] = np.inf
    resolve_mean = np.where(severity == 3, 4 * 3600, 8 * 3600)
    resolved = taken + rng.exponential(1.0, n) * resolve_mean
    status = np.where(resolved <= at, 2, np.where(taken <= at, 1, 0))
    # one open incident per kecamatan × item (hitung: kecamatan): every earlier report of a key is
    # closed when the next one arrives, naming it (as migration 0007 closes them)
    stateful = (kind == 0) | (kind == 2)
    key = np.where(kind == 0, kec_i * len(ITEMS) + item_i, len(kec) * len(ITEMS) + kec_i)
    idx = np.flatnonzero(stateful)
    ordered_idx = idx[np.lexsort((idx, t[idx], key[idx]))]
    same_next = key[ordered_idx][1:] == key[ordered_idx][:-1]
    superseded = ordered_idx[:-1][same_next]
    superseded_by = np.zeros(n, "int64")
    superseded_by[superseded] = ordered_idx[1:][same_next] + 1  # the incident id of the next report
    closes_at = np.full(n, np.inf)
    closes_at[superseded] = received_at[ordered_idx[1:][same_next]]
    replaced = (superseded_by > 0) & (closes_at <= at) & (closes_at < resolved)
    resolved = np.where(replaced, closes_at, resolved)
    taken = np.where(replaced & (taken > resolved), np.inf, taken)
    status = np.where(resolved <= at, 2, np.where(taken <= at, 1, 0))
    assignee_tab = np.array([KOORD_KAB_BASE + kab_index[parent[code]] for code in kec])
    assignee = assignee_tab[kec_i]

    conn.execute("BEGIN")
    inserted = 0
    events = 0
    status_names = ("baru", "ditangani", "selesai")
    for lo in range(0, n, CHUNK):
        hi = min(n, lo + CHUNK)
        s = slice(lo, hi)
        rep_s, rec_s = _stamps(reported[s]), _stamps(received_at[s])
        tak_s = _maybe(_stamps(np.where(np.isfinite(taken[s]), taken[s], at)), (status[s] >= 1) & np.isfinite(taken[s]))
        res_s = _maybe(_stamps(np.where(np.isfinite(resolved[s]), resolved[s], at)), status[s] == 2)
        rows, ev = [], []
        for j in range(hi - lo):
            i = lo + j
            incident_id = i + 1
            k = KINDS[kind[i]]
            sev = SEVERITIES[severity[i]]
            st = status_names[status[i]]
            code = region[i]
            who = reporter[i]
            item = received_i = planned_i = damaged_i = count = done = total = sir = None
            description, payload = "", "{}"
            if k == "logistik":
                item, received_i, planned_i, damaged_i = (
                    ITEMS[item_i[i]],
                    int(received[i]),
                    int(planned[i]),
                    int(damaged[i]),
                )
                payload = '{"rencana_dari": "laporan"}' if plan_in_report[i] else '{"rencana_dari": "impor"}'
                if damaged_i:
                    description = "kemasan sobek"
            elif k == "data":
                item, count = PROBLEMS[problem_i[i]], int(data_count[i])
                description = f"temuan pencocokan di desa {tps_no[i]}"
            elif k == "hitung":
                done, total, sir = int(tps_done[i]), int(tps_total[i]), int(sirekap[i])
            else:
                description = f"{INSIDEN_TEXTS[text_i[i]]} {tps_no[i]}"
            # the automatic escalation job, while the report waits untaken
            handling, waiting, esc_n, escalation_events = code, rec_s[j], 0, []
            minutes = AUTO_ESCALATE_MIN.get(int(severity[i]))
            if minutes is not None:
                step, moment = minutes * 60.0, float(received_at[i])
                until = min(float(taken[i]), float(resolved[i]), at)
                while moment + step <= until:
                    moment += step
                    stamp = datetime.fromtimestamp(moment, UTC).isoformat(timespec="microseconds")
                    up = parent.get(handling)
                    if up is None:
                        escalation_events.append((stamp, handling, auto_escalation_note(minutes, True)))
                        waiting = None
                        break
                    handling, waiting, esc_n = up, stamp, esc_n + 1
                    escalation_events.append((stamp, handling, auto_escalation_note(minutes, False)))
            waiting = waiting if st == "baru" else None
            assigned = int(assignee[i]) if st != "baru" and np.isfinite(taken[i]) else None
            rows.append(
                (
                    incident_id,
                    k,
                    sev,
                    st,
                    code,
                    who,
                    item,
                    received_i,
                    planned_i,
                    damaged_i,
                    count,
                    done,
                    total,
                    sir,
                    description,
                    payload,
                    who,
                    incident_id,
                    incident_id,
                    rep_s[j],
                    rec_s[j],
                    handling,
                    esc_n,
                    assigned,
                    tak_s[j],
                    res_s[j],
                    waiting,
                    rep_s[j],
                )
            )
            for stamp, level_code, note in escalation_events:
                ev.append((incident_id, stamp, None, "eskalasi_otomatis", "baru", "baru", level_code, note))
            took = tak_s[j] is not None and np.isfinite(taken[i])
            if st != "baru" and took:
                ev.append((incident_id, tak_s[j], assigned, "tangani", "baru", "ditangani", handling, ""))
            if st == "selesai" and replaced[i]:
                before = "ditangani" if took else "baru"
                ev.append(
                    (
                        incident_id,
                        res_s[j],
                        None,
                        "selesai_otomatis",
                        before,
                        "selesai",
                        handling,
                        f"#{superseded_by[i]}",
                    )
                )
            elif st == "selesai":
                ev.append((incident_id, res_s[j], assigned, "selesai", "ditangani", "selesai", handling, ""))
        conn.executemany(
            "INSERT INTO incidents (id, kind, severity, status, region_code, reporter_id, item, received, planned,"
            " damaged, data_count, tps_done, tps_total, sirekap, description, payload, source_chat_id,"
            " source_message_id, update_id, reported_at, received_at, handling_region, escalations, assignee_id,"
            " taken_at, resolved_at, awaiting_since, last_reported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.executemany(
            "INSERT INTO incident_events (incident_id, at, actor_id, action, from_status, to_status,"
            " region_code, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ev,
        )
        inserted += len(rows)
        events += len(ev) + len(rows)  # the triggers' 'lapor' events
        if inserted % 200_000 == 0 or hi == n:
            conn.execute("COMMIT")
            if hi < n:
                conn.execute("BEGIN")
            print(f"  {inserted:>9,} incidents, {events:,} events, {time.perf_counter() - started:5.1f} s", flush=True)

    conn.execute("DELETE FROM outbox")  # the reports' receipts: delivered long ago (see the docstring)
    checks = verify(conn)
    overdue = conn.execute(
        "SELECT count(*) FROM incidents WHERE status = 'baru' AND ((severity = 'kritis' AND awaiting_since <= ?)"
        " OR (severity = 'tinggi' AND awaiting_since <= ?))",
        tuple(
            datetime.fromtimestamp(at - AUTO_ESCALATE_MIN[k] * 60, UTC).isoformat(timespec="microseconds")
            for k in (3, 2)
        ),
    ).fetchone()[0]
    if overdue:
        raise RuntimeError(f"{overdue} incidents are overdue for automatic escalation at the digest moment")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    os.replace(tmp, path)
    for leftover in (Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    return {"incidents": inserted, "events": events, "seconds": time.perf_counter() - started, **checks}


def verify(conn: sqlite3.Connection) -> dict:
    """The state tables the triggers keep must hold exactly the latest report per key."""
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    out = {
        "logistics_state": one("SELECT count(*) FROM logistics_state"),
        "counting_state": one("SELECT count(*) FROM counting_state"),
        "region_activity": one("SELECT count(*) FROM region_activity"),
    }
    expected = {
        "logistics_state": one(
            "SELECT count(*) FROM (SELECT DISTINCT region_code, item FROM incidents WHERE kind = 'logistik')"
        ),
        "counting_state": one("SELECT count(DISTINCT region_code) FROM incidents WHERE kind = 'hitung'"),
        "region_activity": one("SELECT count(DISTINCT region_code) FROM incidents"),
    }
    if out != expected or not all(out.values()):
        raise RuntimeError(f"state tables do not match the incidents: {out} != {expected}")
    wrong = 0
    sample = conn.execute("SELECT region_code, item, incident_id FROM logistics_state ORDER BY random() LIMIT 200")
    for code, item, incident_id in sample.fetchall():
        latest = conn.execute(
            "SELECT id FROM incidents WHERE kind = 'logistik' AND region_code = ? AND item = ?"
            " ORDER BY reported_at DESC, id DESC LIMIT 1",
            (code, item),
        ).fetchone()[0]
        wrong += latest != incident_id
    sample = conn.execute("SELECT region_code, incident_id FROM counting_state ORDER BY random() LIMIT 200")
    for code, incident_id in sample.fetchall():
        latest = conn.execute(
            "SELECT id FROM incidents WHERE kind = 'hitung' AND region_code = ?"
            " ORDER BY reported_at DESC, id DESC LIMIT 1",
            (code,),
        ).fetchone()[0]
        wrong += latest != incident_id
    if wrong:
        raise RuntimeError(f"{wrong} state rows are not the latest report")
    bad_fk = conn.execute("PRAGMA foreign_key_check").fetchmany(5)
    if bad_fk:
        raise RuntimeError(f"foreign keys violated: {bad_fk}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description="generate the national benchmark database")
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or cache_path(args.incidents, args.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    print(f"generating {args.incidents:,} incidents into {out}", flush=True)
    info = generate(out, args.incidents, args.seed)
    print(
        f"generated in {info['seconds']:.1f} s: {info['incidents']:,} incidents, {info['events']:,} events; state"
        f" tables: logistics {info['logistics_state']:,}, counting {info['counting_state']:,}, activity"
        f" {info['region_activity']:,} rows (checked against the incidents)",
        flush=True,
    )


if __name__ == "__main__":
    main()
