"""Matching text to the database: a job title to roles, a free-text task to an O*NET task statement."""
from __future__ import annotations

import re
import sqlite3

from taskshift.service import models as m
from taskshift.service.errors import InvalidInput, NotFound, validate
from taskshift.service.index import BASE_ROLE_MATCH_RATIO, KIND_ORDER, Index, _memo, _q, index_for

STOPWORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of on or that the their them these this those to "
    "with within about over under per via your you our we i my etc".split())
_WORD = re.compile(r"[^\W_]+", re.UNICODE)



def _words(text: str, limit: int) -> list[str]:
    words = list(dict.fromkeys(_WORD.findall(text.lower())))
    kept = [w for w in words if w not in STOPWORDS] or words
    return kept[:limit]


def match_task(conn: sqlite3.Connection, text: str, base_role: str | None = None, field_name: str = "text") -> m.TaskMatch:
    """The O*NET task statement that best matches free text (FTS5 BM25 over tasks_fts)."""
    idx = index_for(conn)
    words = _words(text, 32)
    if not words:
        raise InvalidInput(field_name, "has no words to match", "no_words")
    key = ("task_text", tuple(words), base_role)
    hit = idx.cache.get(key)
    if hit is None:
        hit = _memo(idx, key, lambda: _match_task(conn, idx, words, base_role))
    if hit is False:
        raise NotFound(field_name, f"no O*NET task statement matches {text[:80]!r}", "no_match")
    return hit.model_copy(update={"query": text})


def _match_task(conn, idx: Index, words: list[str], base_role: str | None):
    query = " OR ".join(f'"{w}"' for w in words)
    rows = _q(conn, "select rowid, bm25(tasks_fts) from tasks_fts where tasks_fts match ? order by rank limit 4",
                        (query,)).fetchall()
    if not rows:
        return False
    best = rows[0]
    in_base = False
    if base_role is not None:
        mine = _q(conn,
            "select rowid, bm25(tasks_fts) from tasks_fts where tasks_fts match ? and rowid in "
            "(select task_id from tasks where role_code = ?) order by rank limit 1", (query, base_role)).fetchall()
        if mine and -mine[0][1] >= BASE_ROLE_MATCH_RATIO * -best[1]:
            best, in_base = mine[0], True

    def cand(row) -> m.TaskCandidate:
        pos = idx.task_pos[int(row[0])]
        return m.TaskCandidate(task_id=int(row[0]), role_code=idx.codes[idx.task_role[pos]],
                               statement=idx.statements[pos], relevance=-float(row[1]))

    top = cand(best)
    alternatives = [cand(r) for r in rows if int(r[0]) != top.task_id][:3]
    return m.TaskMatch(query="", task_id=top.task_id, role_code=top.role_code, statement=top.statement,
                       relevance=top.relevance, in_base_role=in_base, alternatives=alternatives)


# --- title matching ------------------------------------------------------------------------------
def _norm(words: list[str]) -> tuple[str, ...]:
    return tuple(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words)


def match_title(conn: sqlite3.Connection, title: str, limit: int = 10) -> m.MatchResponse:
    """Roles ranked for a job title, over every title kind of the titles table (FTS5 BM25 on titles_fts)."""
    q = validate(m.MatchQuery, {"title": title, "limit": limit})
    idx = index_for(conn)
    words = list(dict.fromkeys(_WORD.findall(q.title.lower())))[:16]
    if not words:
        raise InvalidInput("title", "has no words to match", "no_words")
    key = ("title", tuple(words), q.limit)
    return _memo(idx, key, lambda: _match_title(conn, idx, q.title, words, q.limit))


def _match_title(conn, idx: Index, title: str, words: list[str], limit: int) -> m.MatchResponse:
    target = _norm(words)
    roles: dict[str, dict] = {}
    sql = ("select t.role_code, t.title, t.kind, bm25(titles_fts) from titles_fts join titles t on t.title_id = titles_fts.rowid "
           "where titles_fts match ? order by rank limit 400")
    for all_terms, query in ((True, " ".join(f'"{w}"' for w in words)), (False, " OR ".join(f'"{w}"' for w in words))):
        if not all_terms and (len(words) == 1 or len(roles) >= limit):
            break
        for code, text, kind, rank in _q(conn, sql, (query,)):
            if code not in idx.role_pos:
                continue
            entry = roles.get(code)
            if entry is None:
                entry = roles[code] = {"all_terms": all_terms, "hits": [], "seen": set(), "exact": False}
            elif entry["all_terms"] and not all_terms:
                continue
            exact = _norm(_WORD.findall(text.lower())) == target
            entry["exact"] |= exact
            if (text, kind) not in entry["seen"]:
                entry["seen"].add((text, kind))
                entry["hits"].append((exact, -float(rank), KIND_ORDER.get(kind, 9), text, kind))

    def rank_key(item):
        code, e = item
        best = max(e["hits"], key=lambda x: (x[0], x[1], -x[2]))
        return (not e["exact"], not e["all_terms"], -best[1], best[2], -len(e["hits"]), code)

    ranked = sorted(roles.items(), key=rank_key)[:limit]
    out = []
    for code, e in ranked:
        hits = sorted(e["hits"], key=lambda x: (not x[0], -x[1], x[2], x[3]))
        best = hits[0]
        pos = idx.role_pos[code]
        out.append(m.RoleMatch(
            role_code=code, role_title=idx.titles[pos], relevance=best[1], exact=e["exact"],
            all_terms=e["all_terms"], matched_title=best[3], matched_kind=best[4], matching_titles=len(hits),
            titles=[m.TitleHit(title=x[3], kind=x[4], relevance=x[1]) for x in hits[:3]]))
    return m.MatchResponse(query=title, matches=out)


