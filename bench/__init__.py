"""Benchmarks of the bot against its targets (issue 6): `python -m bench` (or `make bench`).

One module per benchmark — `bench.ingest`, `bench.digest`, `bench.fanout` — each runnable on its
own (`python -m bench.digest`) and printing a readable table; `python -m bench` runs them one after
the other, each in its own process (so peak RSS and timings of one do not leak into the next), and
writes `bench/results.json` with the keys of issue 6. `--quick` runs everything at tiny sizes (the
smoke test in `tests/e2e/test_bench_smoke.py`).
"""
