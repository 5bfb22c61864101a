"""Title matching on real posting titles: top-1 / top-3 accuracy of taskshift.match_title against a baseline.

    python bench/titles.py [--db dist/taskshift.db] [--show-misses]

bench/titles.csv holds job titles written as employers write them in postings (seniority words,
acronyms, shifts, locations, work arrangements), at least five from each of the 22 non-military SOC
major groups, each with the O*NET-SOC codes a careful reader would accept (several where the title is
genuinely ambiguous). The script runs, in the same process on the same database:

- taskshift.match_title (the lexical matcher: posting clean-up, exact titles, quoted FTS5), and
- the baseline: the matcher of taskshift 0.1.0 (FTS5 BM25 over titles_fts, all words then any word,
  exact titles first), reproduced below with its terms quoted so that it runs on every title,

and prints top-1 and top-3 accuracy overall and per major group, the time per title, and (with
--show-misses) every title the new matcher gets wrong at top 1.
"""
from __future__ import annotations

import argparse
import csv
import re
import sqlite3
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from taskshift.service import match_title  # noqa: E402
from taskshift.service.index import KIND_ORDER, index_for  # noqa: E402

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def _norm(words):
    return tuple(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)


def baseline(conn, title: str, limit: int = 3) -> list[str]:
    """taskshift 0.1.0's match_title ranking (role codes only)."""
    idx = index_for(conn)
    words = list(dict.fromkeys(_WORD.findall(title.lower())))[:16]
    if not words:
        return []
    target = _norm(words)
    roles: dict[str, dict] = {}
    sql = ("select t.role_code, t.title, t.kind, bm25(titles_fts) from titles_fts join titles t on t.title_id = titles_fts.rowid "
           "where titles_fts match ? order by rank limit 400")
    for all_terms, query in ((True, " ".join(f'"{w}"' for w in words)), (False, " OR ".join(f'"{w}"' for w in words))):
        if not all_terms and (len(words) == 1 or len(roles) >= limit):
            break
        for code, text, kind, rank in conn.execute(sql, (query,)):
            if code not in idx.role_pos:
                continue
            entry = roles.get(code)
            if entry is None:
                entry = roles[code] = {"all_terms": all_terms, "hits": [], "exact": False}
            elif entry["all_terms"] and not all_terms:
                continue
            exact = _norm(_WORD.findall(text.lower())) == target
            entry["exact"] |= exact
            entry["hits"].append((exact, -float(rank), KIND_ORDER.get(kind, 9)))

    def rank_key(item):
        code, e = item
        best = max(e["hits"], key=lambda x: (x[0], x[1], -x[2]))
        return (not e["exact"], not e["all_terms"], -best[1], best[2], -len(e["hits"]), code)

    return [code for code, _ in sorted(roles.items(), key=rank_key)[:limit]]


def current(conn, title: str, limit: int = 3) -> list[str]:
    return [r.role_code for r in match_title(conn, title, limit).matches]


def evaluate(conn, rows, matcher):
    per_group = defaultdict(lambda: [0, 0, 0])
    misses = []
    started = time.perf_counter()
    for r in rows:
        got = matcher(conn, r["title"])
        ok = set(r["acceptable"].split())
        g = per_group[r["major_group"]]
        g[0] += 1
        g[1] += bool(got[:1]) and got[0] in ok
        g[2] += bool(ok & set(got[:3]))
        if not (got[:1] and got[0] in ok):
            misses.append((r["title"], got[:3], sorted(ok)))
    elapsed = time.perf_counter() - started
    n = sum(g[0] for g in per_group.values())
    top1 = sum(g[1] for g in per_group.values()) / n
    top3 = sum(g[2] for g in per_group.values()) / n
    return top1, top3, per_group, misses, elapsed / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=str(REPO / "dist" / "taskshift.db"))
    parser.add_argument("--titles", default=str(REPO / "bench" / "titles.csv"))
    parser.add_argument("--show-misses", action="store_true")
    args = parser.parse_args()
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    rows = list(csv.DictReader(open(args.titles, encoding="utf-8")))
    index_for(conn)
    match_title(conn, "warm up", 3)  # builds the title lexicon once, outside the timing
    print(f"{len(rows)} posting titles, {len({r['major_group'] for r in rows})} SOC major groups")
    results = {}
    for name, matcher in (("baseline (0.1.0)", baseline), ("taskshift.match_title", current)):
        results[name] = evaluate(conn, rows, matcher)
        top1, top3, _g, _m, per = results[name]
        print(f"{name:24s} top-1 {top1:6.1%}  top-3 {top3:6.1%}  {per * 1000:6.2f} ms/title")
    print("\nper major group (top-1 baseline -> new, of n):")
    base_groups, new_groups = results["baseline (0.1.0)"][2], results["taskshift.match_title"][2]
    for g in sorted(new_groups):
        n = new_groups[g][0]
        print(f"  {g}: {base_groups[g][1]:2d} -> {new_groups[g][1]:2d} of {n}")
    if args.show_misses:
        print("\nmisses at top 1 (taskshift.match_title):")
        for title, got, ok in results["taskshift.match_title"][3]:
            print(f"  {title!r}: got {got}, acceptable {ok}")


if __name__ == "__main__":
    main()
