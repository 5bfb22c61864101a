#!/usr/bin/env python
"""Benchmark of POST /-/profile and the semantic matcher, every figure measured in this run (< 3 min).

    python bench/profile_bench.py [--db dist/taskshift.db] [--seconds 5] [--build --sources ../shared/sources]

1. nearest_roles of the job postings in bench/profile/postings.yaml (employers' words, with the O*NET-SOC
   codes a labour economist would accept): top-1 and top-3 hit rates when tasks are matched by meaning
   (semantic: cosine of the embeddings), by words (BM25: SQLite FTS5 over tasks_fts, as POST /-/score's
   free text) and by both (hybrid), roles ranked by their mean best task score for all three; then the API's
   own nearest_roles (taskshift.service.profile: hybrid less each role's baseline). The same comparison on
   200 roles described in O*NET's words (8 of their detailed work activities each).
2. The confidence thresholds: a logistic fit of P(right | similarity) on the hand-judged matches of
   bench/profile/judged_matches.yaml, against the constants in taskshift.scoring.
3. Free text of POST /-/score (match_task, FTS5 BM25) against the hybrid matcher, per statement.
4. GET /-/match on bench/profile/titles.yaml: the lexical matcher alone vs with the semantic fallback.
5. Latency: p50 of POST /-/profile for a 10-line posting against the served plugin (taskshift serve
   settings, 127.0.0.1), beside GET /-/score/{code} on the same server as the baseline; the library call.
6. With --build: a full build, the seconds its embeddings step adds, and the build / raw-read ratio.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent / "profile"
sys.path.insert(0, str(Path(__file__).resolve().parent))

TEN_LINES = """Customer Support Specialist
- Answer inbound calls, chats and emails from customers about orders and billing
- Resolve billing complaints and issue refunds within policy
- Walk customers through account setup and troubleshoot login problems
- Log every conversation in the ticketing system and escalate tricky cases
- Process returns and exchanges and update order records
- Explain our products, prices and promotions to new customers
- Follow up with customers by phone to make sure issues are solved
- Spot patterns in customer feedback and share them with the product team
Benefits: health insurance, 401(k), paid time off. We are an equal opportunity employer."""


def load(name: str):
    return yaml.safe_load((HERE / name).read_text(encoding="utf-8"))


# --- 1. nearest roles ------------------------------------------------------------------------------
def fts5_scores(conn, idx, texts: list[str]) -> np.ndarray:
    """FTS5 BM25 of every task for each text (words OR-ed, common words dropped, as match_task), 0 outside the top 200."""
    from taskshift.service import titles

    out = np.zeros((len(texts), len(idx.task_ids)), dtype=np.float32)
    for i, text in enumerate(texts):
        words = titles._words(text, 32)
        if not words:
            continue
        query = " OR ".join(f'"{w}"' for w in words)
        for rowid, rank in conn.execute("select rowid, bm25(tasks_fts) from tasks_fts where tasks_fts match ? "
                                        "order by rank limit 200", (query,)):
            pos = idx.task_pos.get(int(rowid))
            if pos is not None:
                out[i, pos] = -rank
    peak = out.max(axis=1, keepdims=True)
    return np.divide(out, peak, out=np.zeros_like(out), where=peak > 0)


def nearest_roles_benchmark(conn) -> dict:
    from taskshift import scoring, service
    from taskshift.service.postings import split_posting
    from taskshift.service.semantic import match_texts, role_maxima, semantic_index

    idx = service.index_for(conn)
    sidx = semantic_index(conn)
    postings = load("postings.yaml")["postings"]
    methods = ("semantic", "bm25", "hybrid", "served")
    hits = {m: [0, 0] for m in methods}
    misses: dict[str, list] = {m: [] for m in methods}
    statements = 0
    started = time.perf_counter()
    for p in postings:
        split = split_posting(p["text"])
        texts = [s.query for s in split.statements]
        statements += len(texts)
        tm = match_texts(conn, texts)
        scores = {"semantic": tm.cosine, "bm25": fts5_scores(conn, idx, texts), "hybrid": tm.hybrid}
        ok = set(p["acceptable"])
        w = np.asarray(split.shares)
        for name, s in scores.items():
            role_score = (w[:, None] * role_maxima(sidx, s)).sum(axis=0) / w.sum()
            order = np.argsort(-role_score, kind="stable")[:3]
            codes = [idx.codes[int(sidx.role_with_tasks[j])] for j in order]
            _tally(hits, misses, name, p["id"], codes, ok)
        served = service.profile(conn, {"text": p["text"], "roles": 3})
        _tally(hits, misses, "served", p["id"], [r.code for r in served.nearest_roles], ok)
    n = len(postings)
    confidence = _nearest_confidence(conn, postings)
    return {"postings": n, "statements": statements, "seconds": time.perf_counter() - started,
            "top1": {m: hits[m][0] / n for m in methods}, "top3": {m: hits[m][1] / n for m in methods},
            "counts": hits, "misses": misses, "confidence": confidence,
            "groups": len({p["acceptable"][0][:2] for p in postings}), "weight": scoring.HYBRID_LEXICAL_WEIGHT}


def _tally(hits, misses, name, pid, codes, ok) -> None:
    hits[name][0] += bool(codes[:1] and codes[0] in ok)
    hits[name][1] += bool(ok & set(codes[:3]))
    if not ok & set(codes[:3]):
        misses[name].append((pid, codes[:3]))


def _nearest_confidence(conn, postings) -> dict:
    """Top-1 hit rate of the served nearest role by its confidence band."""
    from taskshift import service

    bands: dict[str, list[int]] = {}
    for p in postings:
        top = service.profile(conn, {"text": p["text"], "roles": 3}).nearest_roles[0]
        bands.setdefault(top.confidence, []).append(int(top.code in p["acceptable"]))
    return {b: (len(v), sum(v) / len(v)) for b, v in sorted(bands.items())}


def activities_benchmark(conn, roles: int = 200, per_role: int = 8) -> dict:
    """A larger, less noisy check in O*NET's own words: 200 roles (seeded sample of those with >= 6 detailed work
    activities), each described by 8 of its DWA titles; is the role itself ranked first / in the top 3?"""
    import random

    from taskshift import service
    from taskshift.service.semantic import match_texts, role_maxima, semantic_index

    idx = service.index_for(conn)
    sidx = semantic_index(conn)
    by_role: dict[str, list[str]] = {}
    for code, title in conn.execute("select t.role_code, w.title from task_activities a join tasks t using (task_id) "
                                    "join work_activities w on w.activity_id = a.dwa_id order by t.role_code, w.title"):
        if title not in by_role.setdefault(code, []):
            by_role[code].append(title)
    rng = random.Random(0)
    sample = rng.sample([c for c in sorted(by_role) if len(by_role[c]) >= 6], roles)
    names = ("semantic", "bm25", "hybrid", "served")
    hits = {n: [0, 0] for n in names}
    for code in sample:
        texts = rng.sample(by_role[code], min(per_role, len(by_role[code])))
        tm = match_texts(conn, texts)
        scores = {"semantic": role_maxima(sidx, tm.cosine).mean(axis=0),
                  "bm25": role_maxima(sidx, fts5_scores(conn, idx, texts)).mean(axis=0),
                  "hybrid": role_maxima(sidx, tm.hybrid).mean(axis=0)}
        scores["served"] = scores["hybrid"] - sidx.role_baseline
        for name, s in scores.items():
            top = [idx.codes[int(sidx.role_with_tasks[j])] for j in np.argsort(-s, kind="stable")[:3]]
            hits[name][0] += top[0] == code
            hits[name][1] += code in top
    return {"roles": roles, "per_role": per_role, "counts": hits}


# --- 2. thresholds -----------------------------------------------------------------------------------
def calibrate(conn) -> dict:
    from taskshift import embedding, scoring, service
    from taskshift.service.semantic import match_texts, semantic_index

    idx = service.index_for(conn)
    sidx = semantic_index(conn)
    judged = load("judged_matches.yaml")
    q = embedding.load().encode([j["statement"] for j in judged["judged"]])
    rows = [idx.task_pos[j["task_id"]] for j in judged["judged"]]
    cos = np.einsum("ij,ij->i", q, sidx.task_vectors[rows])
    good = np.asarray([bool(j["good"]) for j in judged["judged"]])
    tm = match_texts(conn, judged["off_topic"])
    off = tm.cosine[np.arange(len(judged["off_topic"])), tm.hybrid.argmax(axis=1)]
    x = np.concatenate([cos, off])
    y = np.concatenate([good, np.zeros(len(off), bool)]).astype(float)
    w = np.zeros(2)
    X = np.stack([np.ones_like(x), x], axis=1)
    for _ in range(100):  # logistic regression, Newton steps
        p = 1 / (1 + np.exp(-X @ w))
        w -= np.linalg.solve(-(X.T * (p * (1 - p))) @ X, X.T @ (y - p))

    def at(prob):
        return (np.log(prob / (1 - prob)) - w[0]) / w[1]

    bands = scoring.match_band(x)
    precision = {b: (int((bands == b).sum()), float(y[bands == b].mean()) if (bands == b).any() else float("nan"))
                 for b in ("high", "medium", "low", "none")}
    return {"judged": len(cos), "good": int(good.sum()), "off_topic": len(off), "fit": w.tolist(),
            "min": at(0.5), "medium": at(0.7), "high": at(0.85), "precision": precision,
            "constants": (scoring.MATCH_MIN_SIMILARITY, scoring.MATCH_MEDIUM_SIMILARITY, scoring.MATCH_HIGH_SIMILARITY)}


# --- 3. free text of POST /-/score ---------------------------------------------------------------------
def free_text(conn) -> dict:
    from taskshift import service
    from taskshift.service.errors import ServiceError
    from taskshift.service.semantic import match_texts

    idx = service.index_for(conn)
    judged = load("judged_matches.yaml")["judged"]
    acceptable = {p["id"]: set(p["acceptable"]) for p in load("postings.yaml")["postings"]}
    good = {(j["statement"], j["task_id"]) for j in judged if j["good"]}
    bad = {(j["statement"], j["task_id"]) for j in judged if not j["good"]}
    texts = [j["statement"] for j in judged]
    tm = match_texts(conn, texts)
    hybrid = [int(idx.task_ids[t]) for t in tm.hybrid.argmax(axis=1)]
    out = {}
    started = time.perf_counter()
    bm25 = []
    for t in texts:
        try:
            bm25.append(service.match_task(conn, t).task_id)
        except ServiceError:
            bm25.append(None)
    bm25_ms = (time.perf_counter() - started) / len(texts) * 1000
    for name, picks in (("bm25", bm25), ("hybrid", hybrid)):
        role_ok = [p is not None and idx.codes[idx.task_role[idx.task_pos[p]]] in acceptable[j["posting"]]
                   for p, j in zip(picks, judged)]
        g = sum((t, p) in good for t, p in zip(texts, picks))
        b = sum((t, p) in bad for t, p in zip(texts, picks))
        out[name] = {"role_ok": float(np.mean(role_ok)), "judged_good": g, "judged_bad": b, "unjudged": len(texts) - g - b}
    out["statements"] = len(texts)
    out["bm25_ms"] = bm25_ms
    return out


# --- 4. titles ---------------------------------------------------------------------------------------
def titles_benchmark(conn) -> dict:
    from taskshift import service
    from taskshift.service import titles

    data = load("titles.yaml")
    out = {}
    for group in ("hard", "easy"):
        counts = {"lexical": [0, 0], "chained": [0, 0]}
        semantic_used = 0
        for t in data[group]:
            ok = set(t["acceptable"])
            lexical = [x.role_code for x in titles.lexical_match(conn, t["title"], 10).matches]
            chained_resp = service.match_title(conn, t["title"], 10)
            chained = [x.role_code for x in chained_resp.matches]
            semantic_used += any(x.method == "semantic" for x in chained_resp.matches)
            for name, codes in (("lexical", lexical), ("chained", chained)):
                counts[name][0] += bool(codes[:1] and codes[0] in ok)
                counts[name][1] += bool(ok & set(codes[:3]))
        out[group] = {"n": len(data[group]), "counts": counts, "semantic_used": semantic_used}
    return out


# --- 5. latency --------------------------------------------------------------------------------------
def latency(db: Path, seconds: int) -> dict:
    from api import free_port, request, run_python, start_server  # bench/api.py

    body = json.dumps({"text": TEN_LINES}).encode()
    port = free_port()
    with tempfile.TemporaryFile() as log:
        proc = start_server(db, port, log)
        try:
            for _ in range(10):
                status, payload = request(port, "POST", "/-/profile", body)
                if status != 200:
                    raise RuntimeError(f"POST /-/profile -> {status}: {payload[:300]!r}")
            statements = len(json.loads(payload)["statements"])
            baseline = run_python(port, "GET", "/-/score/15-1252.00", None, seconds)
            # every request a different text (a cache would hide the work): the posting plus a numbered line
            lat, errors = [], 0
            import http.client
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            end = time.perf_counter() + seconds
            i = 0
            while time.perf_counter() < end:
                started = time.perf_counter()
                text = TEN_LINES + f"\nFile weekly report number {i} for the team lead"
                conn.request("POST", "/-/profile", body=json.dumps({"text": text}).encode(),
                             headers={"content-type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                lat.append((time.perf_counter() - started) * 1000)
                errors += resp.status != 200
                i += 1
            lat.sort()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return {"statements": statements + 1, "p50": statistics.median(lat), "p99": lat[int(0.99 * (len(lat) - 1))],
            "requests": len(lat), "errors": errors, "baseline_p50": baseline["p50"]}


def library_latency(conn) -> dict:
    from taskshift import service

    service.profile(conn, {"text": TEN_LINES})
    runs = []
    for i in range(30):
        started = time.perf_counter()
        service.profile(conn, {"text": TEN_LINES + f"\nFile weekly report number {i} for the team lead"})
        runs.append((time.perf_counter() - started) * 1000)
    return {"p50": statistics.median(runs)}


# --- 6. build ----------------------------------------------------------------------------------------
def build_figures(sources: Path) -> dict:
    from build import read_everything  # bench/build.py
    from taskshift.build.assemble import build

    started = time.perf_counter()
    read_everything(sources)
    read_s = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        ctx = build(sources, Path(tmp) / "taskshift.db", log=lambda *a: None)
        build_s = time.perf_counter() - started
        size = (Path(tmp) / "taskshift.db").stat().st_size
    return {"read": read_s, "build": build_s, "embeddings": sum(ctx.timings[f"taskshift.build.derive.{step}"]
                                                                for step in ("task_embeddings", "title_embeddings")),
            "size_mb": size / 1e6}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=REPO / "dist" / "taskshift.db")
    parser.add_argument("--seconds", type=int, default=5, help="latency run against the server (default 5)")
    parser.add_argument("--build", action="store_true", help="also time a full build (needs --sources)")
    parser.add_argument("--sources", type=Path, default=REPO.parent / "shared" / "sources")
    parser.add_argument("--no-server", action="store_true", help="skip the served latency")
    args = parser.parse_args(argv)
    started = time.monotonic()
    import taskshift
    from taskshift import embedding, service

    db = args.db.resolve()
    if not db.is_file():
        print(f"bench/profile_bench.py: {db} does not exist; build it first", file=sys.stderr)
        return 1
    conn = taskshift.connect(db)
    t = time.perf_counter()
    service.index_for(conn)
    service.warm_up(conn)
    load_s = time.perf_counter() - t

    print(f"\ntaskshift profile benchmark ({db.name}, model {embedding.MODEL_ID}); indexes loaded in {load_s:.1f} s\n")
    nr = nearest_roles_benchmark(conn)
    print(f"1. nearest_roles on {nr['postings']} postings ({nr['groups']} SOC major groups, {nr['statements']} duty statements):")
    for name, label in (("semantic", "semantic (cosine)"), ("bm25", "BM25 (FTS5)"),
                        ("hybrid", f"hybrid (cosine + {nr['weight']:g} x BM25)"),
                        ("served", "served: hybrid - role baseline")):
        a, b = nr["counts"][name]
        print(f"   {label:34} top-1 {a:2d}/{nr['postings']} = {nr['top1'][name]:.0%}   top-3 {b:2d}/{nr['postings']} = "
              f"{nr['top3'][name]:.0%}")
    print(f"   served top-3 misses: {', '.join(f'{pid} -> {codes}' for pid, codes in nr['misses']['served']) or 'none'}")
    print("   served top-1 by its confidence: " + ", ".join(f"{b} {n} postings, {rate:.0%} right" for b, (n, rate) in nr["confidence"].items()))
    print(f"   target top-3 >= 80%: {'PASS' if nr['top3']['served'] >= 0.8 else 'FAIL'}")
    ab = activities_benchmark(conn)
    print(f"   in O*NET's words ({ab['roles']} roles, each as {ab['per_role']} of its work activities): " + ", ".join(
        f"{name} top-1 {a}, top-3 {b}" for name, (a, b) in ab["counts"].items()))

    cal = calibrate(conn)
    c = cal["constants"]
    print(f"\n2. thresholds from {cal['judged']} judged matches ({cal['good']} right) + {cal['off_topic']} off-topic sentences "
          f"(logistic fit of P(right | similarity)):")
    print(f"   P=0.5 at {cal['min']:.3f} (MATCH_MIN_SIMILARITY {c[0]}), P=0.7 at {cal['medium']:.3f} (medium {c[1]}), "
          f"P=0.85 at {cal['high']:.3f} (high {c[2]})")
    print("   observed share right per band: " + ", ".join(f"{b} {n} matches {p:.0%}" for b, (n, p) in cal["precision"].items()))
    drift = max(abs(cal["min"] - c[0]), abs(cal["medium"] - c[1]), abs(cal["high"] - c[2]))
    print(f"   constants within 0.01 of the fit: {'PASS' if drift <= 0.01 else 'FAIL (re-measure)'}")

    ft = free_text(conn)
    print(f"\n3. free text of POST /-/score on the {ft['statements']} judged statements (first task chosen):")
    for name in ("bm25", "hybrid"):
        r = ft[name]
        print(f"   {name:7} role among the posting's acceptable codes {r['role_ok']:.1%}; judged right {r['judged_good']}, "
              f"judged wrong {r['judged_bad']}, not judged {r['unjudged']}")
    print(f"   BM25 match_task {ft['bm25_ms']:.2f} ms per statement")

    tb = titles_benchmark(conn)
    print("\n4. GET /-/match, lexical alone vs with the semantic fallback:")
    for group in ("hard", "easy"):
        g = tb[group]
        (l1, l3), (c1, c3) = g["counts"]["lexical"], g["counts"]["chained"]
        print(f"   {group:4} ({g['n']} titles): lexical top-1 {l1}, top-3 {l3}; with fallback top-1 {c1}, top-3 {c3} "
              f"(semantic matches in {g['semantic_used']} answers)")
    print(f"   easy titles unchanged: {'PASS' if tb['easy']['counts']['chained'] == tb['easy']['counts']['lexical'] else 'FAIL'}")

    lib = library_latency(conn)
    print(f"\n5. latency, 10-line posting: library {lib['p50']:.1f} ms p50")
    if not args.no_server:
        lat = latency(db, args.seconds)
        print(f"   served POST /-/profile ({lat['statements']} duty statements, a different text each request): p50 "
              f"{lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms over {lat['requests']} requests, {lat['errors']} non-200; "
              f"baseline GET /-/score/15-1252.00 p50 {lat['baseline_p50']:.2f} ms")
        print(f"   target p50 <= 50 ms: {'PASS' if lat['p50'] <= 50 else 'FAIL'}")
    if args.build:
        b = build_figures(args.sources)
        print(f"\n6. build: {b['build']:.1f} s ({b['size_mb']:.0f} MB), of which embeddings {b['embeddings']:.1f} s "
              f"({b['embeddings'] / b['build']:.0%}); read + verify every raw file {b['read']:.1f} s; "
              f"ratio build / read {b['build'] / b['read']:.2f}x (target < 4x)")
    print(f"\ntotal {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
