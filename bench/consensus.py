"""Benchmark the consensus: the disagreement ranking as a table vs computed per request, and the API blocks.

    python bench/consensus.py [--db dist/taskshift.db] [--repeat 5]

In one run, on one database:
- the canned query `families_disagree` (reads role_consensus through its agreement index) against
  the baseline `measures_disagree` (window functions over every role_exposure row, per request);
- the consensus block of a role, a 50-task custom role and a 50-role workforce from the library
  (the service functions behind the API), and every role's consensus recomputed from the index;
- the consensus derive step on the database's own frames (role_consensus, sector_consensus, pair agreement).
Prints the median time of `--repeat` runs of each.
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", type=Path, default=REPO / "dist" / "taskshift.db")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(REPO))
    import numpy as np
    import pandas as pd
    import yaml

    import taskshift
    from taskshift import scoring, service
    from taskshift.build.derive import consensus as derive
    from taskshift.resources import site_files
    from taskshift.service import consensus as sc

    queries = yaml.safe_load(site_files().joinpath("queries.yaml").read_text("utf-8"))
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    print(f"database: {args.db}")
    base, rows_b = timed(lambda: conn.execute(queries["measures_disagree"]["sql"], {"min_measures": "3"}).fetchall(), args.repeat)
    table, rows_t = timed(lambda: conn.execute(queries["families_disagree"]["sql"], {"min_families": ""}).fetchall(), args.repeat)
    print(f"disagreement ranking, per request (baseline measures_disagree): {base * 1000:8.1f} ms  ({len(rows_b)} rows)")
    print(f"disagreement ranking, from role_consensus (families_disagree):  {table * 1000:8.1f} ms  ({len(rows_t)} rows)"
          f"  -> {base / table:,.0f}x")

    lib = taskshift.connect(args.db)
    idx = service.index_for(lib)
    codes = idx.codes
    sc.families(lib, idx)
    t, _ = timed(lambda: [sc.role_block(lib, idx, p) for p in range(0, len(codes), 10)], args.repeat)
    print(f"consensus block of a role (uncached):                          {t / len(range(0, len(codes), 10)) * 1e6:8.1f} us")
    task_ids = [int(x) for x in idx.task_ids[::max(1, len(idx.task_ids) // 50)][:50]]
    t, _ = timed(lambda: taskshift.score(tasks=[(i, 1.0) for i in task_ids], conn=lib).consensus, args.repeat)
    print(f"custom role of 50 tasks, whole response with consensus:        {t * 1000:8.1f} ms")
    team = {c: 10 + i for i, c in enumerate(codes[::20][:50])}
    t, _ = timed(lambda: taskshift.score_workforce(team, conn=lib).consensus, args.repeat)
    print(f"workforce of 50 roles, whole response with consensus:          {t * 1000:8.1f} ms")
    fam = sc.families(lib, idx)
    t, _ = timed(lambda: scoring.consensus_stats(idx.P[:, fam.cols[fam.counted]]), args.repeat)
    print(f"every role's consensus from the index ({len(codes)} roles):          {t * 1000:8.1f} ms")

    def frame(sql):
        return pd.read_sql_query(sql, conn)

    roles = frame("select code, employment, roles_sharing_labor_code from roles")
    exposure = frame("select role_code, measure_id, score, percentile, native_codes from role_exposure")
    measures = frame("select measure_id, family, consensus_role, evidence from measures")
    pairs = frame("select measure_a, measure_b from measure_correlations")
    choice = derive.family_choice(measures, exposure)
    t, _ = timed(lambda: derive.role_consensus(roles, exposure, choice), args.repeat)
    print(f"build: role_consensus:                                         {t * 1000:8.1f} ms")
    t, _ = timed(lambda: derive.pair_agreement(exposure, pairs), max(1, args.repeat // 2))
    print(f"build: top-decile/quartile agreement of {len(pairs)} pairs:              {t * 1000:8.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
