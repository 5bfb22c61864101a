"""Benchmark the ISCO-08 answers (docs/isco.md), in process, against baselines measured in the same run.

    python bench/isco.py [--db dist/taskshift.db] [--repeat 200]

- `score_isco` for every unit group, uncached (the memo cleared) and cached, against `score_role` of
  every role uncached (the baseline: the same response machinery for a role);
- a workforce given as the nine ISCO-08 major groups (Statistics Norway 2015, docs/isco.md), against
  the same workforce given as its ~1,000 roles with the role headcounts it expands to (the baseline:
  the expansion is the only extra work);
- the build step (`taskshift.build.derive.isco`) is timed by `python bench/build.py` (every step).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

NORWAY_2015 = {"1": 203, "2": 710, "3": 452, "4": 157, "5": 528, "6": 50, "7": 246, "8": 164, "9": 140}  # 1 000 persons


def timed(fn, repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1e3)
    times.sort()
    return statistics.median(times), times[int(0.99 * (len(times) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default=str(REPO / "dist" / "taskshift.db"))
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()

    import taskshift
    from taskshift import service
    from taskshift.service.isco import data_for

    conn = taskshift.connect(args.db)
    started = time.perf_counter()
    idx = service.index_for(conn)
    index_s = time.perf_counter() - started
    started = time.perf_counter()
    data = data_for(conn, idx)
    isco_s = time.perf_counter() - started
    print(f"index load {index_s * 1e3:.0f} ms; ISCO tables load {isco_s * 1e3:.0f} ms (once per database file)")

    units = [c for c, g in data.groups.items() if g["digits"] == 4]
    roles = list(idx.codes)

    def each(fn, codes):
        started = time.perf_counter()
        for c in codes:
            idx.cache.clear()
            fn(conn, c)
        return (time.perf_counter() - started) * 1e3 / len(codes)

    role_ms = each(service.score_role, roles)
    isco_ms = each(service.score_isco, units)
    service.score_isco(conn, "2512")
    cached = timed(lambda: service.score_isco(conn, "2512"), args.repeat)
    print(f"score_role, every role, uncached (baseline): {role_ms:.2f} ms per role ({len(roles)} roles)")
    print(f"score_isco, every unit group, uncached:      {isco_ms:.2f} ms per group ({len(units)} groups)")
    print(f"score_isco 2512, cached: p50 {cached[0] * 1e3:.1f} us, p99 {cached[1] * 1e3:.1f} us")

    isco = {k: v * 1000 for k, v in NORWAY_2015.items()}
    wf = service.score_workforce(conn, {"roles": [{"isco_code": k, "headcount": v} for k, v in isco.items()]})
    heads: dict[str, float] = {}
    for code, n in isco.items():
        link = data.links[code]
        for p, w in zip(link.pos, link.weight):
            if w > 0:
                heads[idx.codes[p]] = heads.get(idx.codes[p], 0.0) + n * w
    as_roles = {"roles": [{"role_code": r, "headcount": max(1, int(round(h)))} for r, h in heads.items()]}
    base = timed(lambda: service.score_workforce(conn, as_roles), max(10, args.repeat // 10))
    mine = timed(lambda: service.score_workforce(conn, {"roles": [{"isco_code": k, "headcount": v} for k, v in isco.items()]}),
                 max(10, args.repeat // 10))
    print(f"workforce as {len(as_roles['roles'])} roles (baseline):      p50 {base[0]:.1f} ms, p99 {base[1]:.1f} ms")
    print(f"workforce as 9 ISCO-08 major groups:       p50 {mine[0]:.1f} ms, p99 {mine[1]:.1f} ms "
          f"(consensus {wf.consensus.centre:.1f}, {wf.roles} roles)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
