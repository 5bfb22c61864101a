"""Benchmark the scoring API against Datasette's own row JSON, on one server, in one run (< 90 s).

    python bench/api.py [--db dist/taskshift.db] [--seconds 5]

Starts `taskshift serve` (Datasette under uvicorn, immutable, the inspect file, the same settings and
connection limits) on 127.0.0.1 and a free port, then measures with `wrk` (Python client if wrk is missing),
one connection, `--seconds` per endpoint:

- GET  /-/score/15-1252.00                  (score a role)
- GET  /taskshift/roles/15-1252~2E00.json   (the baseline: Datasette's row JSON for the same role)
- POST /-/score with 50 O*NET task ids      (a custom role)
- POST /-/score/workforce with 50 roles
- GET  /-/score/state/DC and GET /-/rank/states?measure=felten2021_aioe (a state; the states ranked)

and prints requests/s, p50 and p99 latency, then the library figures: every role on every measure
scored from Python (`taskshift.score_all()`, vectorised), a 50-task custom role, and free-text
matching (FTS5 BM25, uncached). Loopback only.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
ROLE = "15-1252.00"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(db: Path, port: int, log) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("taskshift")  # `taskshift serve`: Datasette under uvicorn, with its limits
    command = [str(exe) if exe.exists() else "taskshift", "serve", str(db), "--host", HOST, "--port", str(port)]
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 240  # the first answer loads the index and the embeddings: slow on a busy machine
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {' '.join(command)}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", f"/-/score/{ROLE}")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError("server did not answer within 240 s")


def request(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    conn.request(method, path, body=body, headers={"content-type": "application/json"} if body else {})
    resp = conn.getresponse()
    return resp.status, resp.read()


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip()).groups()
    return float(value) * _UNITS[unit]


def run_wrk(port: int, method: str, path: str, body: bytes | None, seconds: int, connections: int = 1) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(f'wrk.method = "{method}"\n')
        if body is not None:
            script.write(f"wrk.body = {json.dumps(body.decode())}\n")
            script.write('wrk.headers["Content-Type"] = "application/json"\n')
    try:
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name,
                              f"http://{HOST}:{port}{path}"], capture_output=True, text=True, timeout=seconds + 20).stdout
    finally:
        os.unlink(script.name)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),
        "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "errors": int(bad.group(1)) if bad else 0,
    }


def run_python(port: int, method: str, path: str, body: bytes | None, seconds: int) -> dict:
    conn = http.client.HTTPConnection(HOST, port, timeout=10)
    headers = {"content-type": "application/json"} if body else {}
    latencies, errors = [], 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        resp.read()
        latencies.append((time.perf_counter() - started) * 1000)
        errors += resp.status != 200
    latencies.sort()
    return {"rps": len(latencies) / seconds, "p50": statistics.median(latencies),
            "p99": latencies[int(0.99 * (len(latencies) - 1))], "requests": len(latencies), "errors": errors}


def library_figures(db: Path) -> dict:
    import taskshift
    from taskshift import service
    from taskshift.service import titles

    conn = taskshift.connect(db)
    taskshift.score_all(conn=conn)  # loads the index (once per database file)
    runs = []
    for _ in range(7):
        started = time.perf_counter()
        frame = taskshift.score_all(conn=conn)
        runs.append(time.perf_counter() - started)
    idx = service.index_for(conn)
    ids = [int(t) for t in idx.task_ids[:: max(1, len(idx.task_ids) // 50)][:50]]
    body = {"tasks": [{"task_id": t, "share": 1.0} for t in ids]}
    custom = []
    for _ in range(50):
        started = time.perf_counter()
        service.score_custom(conn, body)
        custom.append(time.perf_counter() - started)
    statements = [str(s) for s in idx.statements[7::370][:50]]
    words = [titles._words(s.lower().replace("e", "a", 1), 32) for s in statements]  # perturbed: not the stored text
    started = time.perf_counter()
    for w in words:
        titles._match_task(conn, idx, w, None)
    free_text = (time.perf_counter() - started) / len(words)
    return {"score_all_ms": statistics.median(runs) * 1000, "cells": len(frame), "roles": frame["role_code"].nunique(),
            "measures": frame["measure_id"].nunique(), "custom50_ms": statistics.median(custom) * 1000,
            "free_text_ms": free_text * 1000}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=REPO / "dist" / "taskshift.db")
    parser.add_argument("--seconds", type=int, default=5, help="per endpoint (default 5)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    db = args.db.resolve()
    if not db.is_file():
        print(f"bench/api.py: {db} does not exist; build it first", file=sys.stderr)
        return 1
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        step = conn.execute("select count(*) from tasks").fetchone()[0] // 50
        task_ids = [r[0] for r in conn.execute("select task_id from tasks order by task_id")][::step][:50]
        roles = [r[0] for r in conn.execute("select code from roles where task_count > 0 order by code")][::15][:50]
    custom = json.dumps({"tasks": [{"task_id": t, "share": 1 + i % 3} for i, t in enumerate(task_ids)]}).encode()
    workforce = json.dumps({"roles": [{"role_code": c, "headcount": 10 + i} for i, c in enumerate(roles)]}).encode()
    endpoints = [
        ("GET /-/score/{code}", "GET", f"/-/score/{ROLE}", None),
        ("GET row JSON (baseline)", "GET", "/taskshift/roles/15-1252~2E00.json", None),
        ("POST /-/score, 50 tasks", "POST", "/-/score", custom),
        ("POST /-/score/workforce, 50 roles", "POST", "/-/score/workforce", workforce),
        ("GET /-/score/state/{code}", "GET", "/-/score/state/DC", None),
        ("GET /-/rank/states?measure=", "GET", "/-/rank/states?measure=felten2021_aioe", None),
    ]
    use_wrk = shutil.which("wrk") is not None
    port = free_port()
    with tempfile.TemporaryFile() as log:
        proc = start_server(db, port, log)
        try:
            for _, method, path, body in endpoints:  # warm up and check every endpoint answers 200
                for _ in range(20):
                    status, payload = request(port, method, path, body)
                    if status != 200:
                        raise RuntimeError(f"{method} {path} -> {status}: {payload[:200]!r}")
            results = []
            for name, method, path, body in endpoints:
                run = run_wrk(port, method, path, body, args.seconds) if use_wrk else run_python(port, method, path, body, args.seconds)
                results.append((name, run))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    lib = library_figures(db)

    client = "wrk -t1 -c1" if use_wrk else "Python http.client, one connection"
    print(f"\ntaskshift API benchmark ({client}, {args.seconds} s per endpoint, {db.name})\n")
    print(f"{'endpoint':38} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'non-200':>8}")
    for name, r in results:
        print(f"{name:38} {r['rps']:9.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['requests']:9d} {r['errors']:8d}")
    score, row, post = results[0][1], results[1][1], results[2][1]
    print()
    print(f"score GET vs row JSON baseline: {score['rps'] / row['rps']:.2f}x requests/s "
          f"({'PASS' if score['rps'] >= row['rps'] else 'FAIL'}: at least the baseline)")
    print(f"POST 50 tasks p50: {post['p50']:.2f} ms ({'PASS' if post['p50'] < 5 else 'FAIL'}: under 5 ms)")
    print(f"library: every role on every measure ({lib['roles']} roles x {lib['measures']} measures = {lib['cells']} scores) "
          f"in {lib['score_all_ms']:.1f} ms ({'PASS' if lib['score_all_ms'] < 50 else 'FAIL'}: under 50 ms), "
          f"{lib['cells'] / lib['score_all_ms'] * 1000:,.0f} scores/s")
    print(f"library: custom role of 50 task ids {lib['custom50_ms']:.2f} ms; "
          f"free-text match (FTS5 BM25, uncached) {lib['free_text_ms']:.2f} ms per task")
    print(f"total {time.monotonic() - started:.0f} s")
    failed = any(r["errors"] for _, r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
