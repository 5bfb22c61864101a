"""Benchmark the role page against Datasette's own row page for the same role, side by side, one server.

    python bench/pages.py [--db dist/taskshift.db] [--requests 300] [--cold 200]

Starts the server as `taskshift serve` does (datasette serve -i DB --inspect-file ..., the same settings)
on 127.0.0.1 and a free port, then measures with one connection over loopback (the figures are server
time plus a loopback round trip, the same for both):

1. warm: `--requests` GETs (>= 200) of /role/15-1252.00 and of Datasette's row page
   /taskshift/roles/15-1252~2E00, interleaved; p50 and p99 of each.
2. cold: the first request of the role page of `--cold` distinct roles (>= 200; nothing cached for them
   yet) against the row page of the same roles (which Datasette never caches); p50 and p99 of each, and
   the pivots section that the role page fetches after it loads (/role/{code}/section/pivots), cold.

PASS when the role page's p50 is at most the row page's p50, warm and cold.
"""
from __future__ import annotations

import argparse
import http.client
import importlib.util
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_api", REPO / "bench" / "api.py")
bench_api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_api)

ROLE = "15-1252.00"
HOST = "127.0.0.1"


def row_path(code: str) -> str:
    return f"/taskshift/roles/{code.replace('.', '~2E')}"


def timed_get(conn: http.client.HTTPConnection, path: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    return (time.perf_counter() - started) * 1000, resp.status, len(body)


def summary(ms: list[float]) -> dict:
    s = sorted(ms)
    return {"n": len(s), "p50": statistics.median(s), "p99": s[int(0.99 * (len(s) - 1))], "mean": statistics.fmean(s)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=REPO / "dist" / "taskshift.db")
    parser.add_argument("--requests", type=int, default=300, help="warm requests per page (>= 200)")
    parser.add_argument("--cold", type=int, default=200, help="distinct roles for the cold run (>= 200)")
    args = parser.parse_args(argv)
    if args.requests < 200 or args.cold < 200:
        parser.error("--requests and --cold must be at least 200")
    db = args.db.resolve()
    if not db.is_file():
        print(f"bench/pages.py: {db} does not exist; build it first", file=sys.stderr)
        return 1
    started = time.monotonic()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        codes = [r[0] for r in c.execute("select code from roles where code != ? order by code", (ROLE,))]
    step = max(1, len(codes) // args.cold)
    cold_codes = codes[::step][:args.cold]
    port = bench_api.free_port()
    bad = []
    with tempfile.TemporaryFile() as log:
        proc = bench_api.start_server(db, port, log)
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=30)
            for path in (f"/role/{ROLE}", row_path(ROLE)):      # warm both (first render, templates)
                for _ in range(10):
                    _, status, _ = timed_get(conn, path)
                    if status != 200:
                        raise RuntimeError(f"GET {path} -> {status}")
            warm = {"page": [], "row": []}
            sizes = {}
            for _ in range(args.requests):
                for key, path in (("page", f"/role/{ROLE}"), ("row", row_path(ROLE))):
                    ms, status, size = timed_get(conn, path)
                    warm[key].append(ms)
                    sizes[key] = size
                    if status != 200:
                        bad.append((path, status))
            cold = {"page": [], "row": [], "pivots": []}
            for code in cold_codes:
                for key, path in (("page", f"/role/{code}"), ("row", row_path(code)), ("pivots", f"/role/{code}/section/pivots")):
                    ms, status, _ = timed_get(conn, path)
                    cold[key].append(ms)
                    if status != 200:
                        bad.append((path, status))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except Exception:
                proc.kill()
    w = {k: summary(v) for k, v in warm.items()}
    k = {key: summary(v) for key, v in cold.items()}
    print(f"\ntaskshift role page vs Datasette's row page (one connection, loopback, {db.name})\n")
    print(f"{'run':52} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    rows = [(f"warm  /role/{ROLE} ({sizes['page']:,} bytes)", w["page"]),
            (f"warm  {row_path(ROLE)} ({sizes['row']:,} bytes)", w["row"]),
            (f"cold  /role/{{code}}, {len(cold_codes)} roles", k["page"]),
            (f"cold  /taskshift/roles/{{code}}, same roles", k["row"]),
            ("cold  /role/{code}/section/pivots (after the page)", k["pivots"])]
    for name, s in rows:
        print(f"{name:52} {s['n']:9d} {s['p50']:8.2f} {s['p99']:8.2f} {s['mean']:8.2f}")
    ok_warm = w["page"]["p50"] <= w["row"]["p50"]
    ok_cold = k["page"]["p50"] <= k["row"]["p50"]
    print()
    print(f"warm: role page p50 {w['page']['p50']:.2f} ms vs row page {w['row']['p50']:.2f} ms "
          f"({w['row']['p50'] / w['page']['p50']:.1f}x faster; {'PASS' if ok_warm else 'FAIL'}: at most the row page)")
    print(f"cold: role page p50 {k['page']['p50']:.2f} ms vs row page {k['row']['p50']:.2f} ms "
          f"({'PASS' if ok_cold else 'FAIL'}: at most the row page)")
    if bad:
        print(f"non-200 answers: {bad[:5]} ({len(bad)} in all)")
    print(f"total {time.monotonic() - started:.0f} s")
    return 0 if ok_warm and ok_cold and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
