"""Matching text by meaning: free text to O*NET task statements, job titles to roles.

Semantic: the query is embedded with the pinned model (`taskshift.embedding`) and compared (cosine
similarity) with the task and title vectors the build stored (`task_embeddings`, `title_embeddings`).
Lexical: Okapi BM25 over the task statements (Porter stems, the FTS5 defaults k1 = 1.2, b = 0.75),
computed in numpy from an index built when the database is first used. The hybrid score that ranks
tasks is `scoring.hybrid_score`: cosine + HYBRID_LEXICAL_WEIGHT x BM25 / the statement's best BM25
(over its LEXICAL_TOP best tasks). Thresholds and bands are constants of `taskshift.scoring`,
measured by bench/profile_bench.py on hand-judged matches.

The vectors are checked once per database: the model recorded in the metadata must be the pinned one
(same weights sha256) and the blobs must have the recorded sha256, else the service answers 503.

- `semantic_index(conn)`: the loaded vectors and lexical index of one database (once per file)
- `match_texts(conn, texts)`: per text, the best tasks (cosine, lexical, hybrid) and the hybrid scores
  of every task (for role aggregation in `taskshift.service.profile`)
- `semantic_titles(conn, title, limit)` and `with_semantic_fallback(conn, lexical, limit)`: the
  fallback of title matching, chained after the lexical matcher of `taskshift.service.titles`
"""
from __future__ import annotations

import json
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from taskshift import embedding, scoring
from taskshift.service import models as m
from taskshift.service.errors import ServiceError
from taskshift.service.index import Index, _db_key, _q, index_for

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)
#: Words the lexical score ignores (as in free-text task matching).
STOPWORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of on or that the their them these this those to "
    "with within about over under per via your you our we i my etc will all any each".split())


class Unavailable(ServiceError):
    """The database has no (or mismatched) embeddings: semantic matching cannot answer."""
    status = 503


@lru_cache(maxsize=1)
def _stemmer():
    import snowballstemmer
    return snowballstemmer.stemmer("porter")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def lexical_terms(text: str) -> list[str]:
    """Lower case, accents removed, split on non-alphanumerics, Porter stems (as FTS5's porter tokenizer)."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return [_stem(w) for w in _TOKEN.findall(text)]


@dataclass
class LexicalIndex:
    """Okapi BM25 weights of every (term, task) pair, grouped by term (tasks in Index order)."""
    vocab: dict[str, int]
    starts: np.ndarray
    docs: np.ndarray
    weights: np.ndarray
    n_docs: int

    @classmethod
    def build(cls, statements, k1: float = 1.2, b: float = 0.75) -> "LexicalIndex":
        vocab: dict[str, int] = {}
        term_ids, doc_ids, tfs, lengths = [], [], [], []
        for d, text in enumerate(statements):
            terms = lexical_terms(str(text))
            lengths.append(len(terms))
            counts: dict[int, int] = {}
            for t in terms:
                j = vocab.setdefault(t, len(vocab))
                counts[j] = counts.get(j, 0) + 1
            term_ids += counts.keys()
            doc_ids += [d] * len(counts)
            tfs += counts.values()
        term_ids = np.asarray(term_ids, dtype=np.int64)
        doc_ids = np.asarray(doc_ids, dtype=np.int64)
        tf = np.asarray(tfs, dtype=np.float64)
        dl = np.asarray(lengths, dtype=np.float64)
        n = len(dl)
        df = np.bincount(term_ids, minlength=len(vocab)).astype(np.float64)
        idf = np.maximum(np.log((n - df + 0.5) / (df + 0.5)), 1e-6)
        w = idf[term_ids] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl[doc_ids] / max(dl.mean(), 1e-9)))
        order = np.argsort(term_ids, kind="stable")
        starts = np.searchsorted(term_ids[order], np.arange(len(vocab) + 1))
        return cls(vocab, starts, doc_ids[order], w[order].astype(np.float32), n)

    def scores(self, text: str) -> np.ndarray:
        out = np.zeros(self.n_docs, dtype=np.float32)
        for t in dict.fromkeys(lexical_terms(text)):
            j = self.vocab.get(t)
            if j is None or t in _STOP_STEMS:
                continue
            a, z = self.starts[j], self.starts[j + 1]
            out[self.docs[a:z]] += self.weights[a:z]
        return out


_STOP_STEMS = frozenset(_stem(w) for w in STOPWORDS)


@dataclass
class SemanticIndex:
    key: tuple
    model: dict
    task_vectors: np.ndarray                    # (tasks, DIM) float32, rows in Index task order
    task_vectors_t: np.ndarray                  # its transpose, contiguous (the per-request product is faster)
    lexical: LexicalIndex
    role_starts: np.ndarray                     # first task row of each role that has tasks
    role_with_tasks: np.ndarray                 # Index role positions of those roles
    role_baseline: np.ndarray                   # per role with tasks: mean best hybrid score for other roles' statements
    title_keys: list[str]
    title_vectors: np.ndarray                   # (titles, TITLE_DIM) float32
    title_rows: list[list[tuple[str, str, str]]]  # per title key: (role_code, title, kind) rows of `titles`
    info: dict = field(default_factory=dict)


_SEMANTIC: dict[tuple, SemanticIndex] = {}
_LOCK = threading.Lock()


def semantic_index(conn) -> SemanticIndex:
    """The SemanticIndex of the database behind `conn` (loaded once per database file)."""
    key = _db_key(conn)
    hit = _SEMANTIC.get(key)
    if hit is None:
        with _LOCK:
            hit = _SEMANTIC.get(key)
            if hit is None:
                hit = _SEMANTIC[key] = _load(conn, key, index_for(conn))
    return hit


def warm_up(conn) -> None:
    """Load the embeddings of the database and the model now (the plugin's startup), so that the first
    request is fast; a database without embeddings is left alone (semantic requests then answer 503)."""
    try:
        semantic_index(conn)
        embedding.load()
    except Unavailable:
        pass


def _metadata(conn, name: str):
    row = _q(conn, "select value from metadata where key = ?", (name,)).fetchone()
    return None if row is None else json.loads(row[0])


def _load(conn, key: tuple, idx: Index) -> SemanticIndex:
    tables = {r[0] for r in _q(conn, "select name from sqlite_master where type = 'table'")}
    if not {"task_embeddings", "title_embeddings"} <= tables:
        raise Unavailable("database", "this database has no task_embeddings/title_embeddings tables: "
                          "rebuild it with taskshift >= 0.1 to use semantic matching", "no_embeddings")
    model = _metadata(conn, "embedding_model") or {}
    if model.get("weights_sha256") != embedding.WEIGHTS_SHA256:
        raise Unavailable("database", f"the database's vectors were made with {model.get('model', 'an unknown model')} "
                          f"(weights {model.get('weights_sha256')}), not the installed {embedding.MODEL_ID}: "
                          "rebuild the database or install the pinned model", "model_mismatch")
    rows = _q(conn, "select task_id, vector from task_embeddings order by task_id").fetchall()
    task_sha = recorded = (_metadata(conn, "task_embeddings") or {}).get("sha256")
    if embedding.checksum(r[1] for r in rows) != recorded:
        raise Unavailable("database", "task_embeddings do not have the sha256 recorded in metadata", "checksum")
    vectors = embedding.from_blobs([r[1] for r in rows])
    tv = np.zeros((len(idx.task_ids), embedding.DIM), dtype=np.float32)
    pos = np.asarray([idx.task_pos.get(int(r[0]), -1) for r in rows])
    tv[pos[pos >= 0]] = vectors[pos >= 0]
    trows = _q(conn, "select title, vector from title_embeddings order by title").fetchall()
    recorded = (_metadata(conn, "title_embeddings") or {}).get("sha256")
    if embedding.checksum(r[1] for r in trows) != recorded:
        raise Unavailable("database", "title_embeddings do not have the sha256 recorded in metadata", "checksum")
    title_meta = _metadata(conn, "title_embeddings") or {}
    title_keys = [r[0] for r in trows]
    title_vectors = embedding.from_blobs([r[1] for r in trows], dim=int(title_meta.get("dim", 128)))
    kpos = {k: i for i, k in enumerate(title_keys)}
    title_rows: list[list[tuple[str, str, str]]] = [[] for _ in title_keys]
    for code, title, kind in _q(conn, "select role_code, title, kind from titles order by title_id"):
        i = kpos.get(" ".join(str(title).lower().split()))
        if i is not None and code in idx.role_pos:
            title_rows[i].append((code, title, kind))
    counts = np.asarray([len(t) for t in idx.role_tasks])
    with_tasks = np.flatnonzero(counts > 0)
    starts = np.asarray([idx.role_tasks[i][0] for i in with_tasks], dtype=np.int64)
    sidx = SemanticIndex(key=key, model=model, task_vectors=tv, task_vectors_t=np.ascontiguousarray(tv.T),
                         lexical=LexicalIndex.build(idx.statements), role_starts=starts, role_with_tasks=with_tasks,
                         role_baseline=np.zeros(len(with_tasks)), title_keys=title_keys, title_vectors=title_vectors,
                         title_rows=title_rows, info={"task_dim": embedding.DIM, "title_dim": title_vectors.shape[1],
                                                      "task_embeddings_sha256": task_sha})
    sidx.role_baseline = _role_baseline(sidx, idx)
    return sidx


def _role_baseline(sidx: "SemanticIndex", idx: Index) -> np.ndarray:
    """Each role's mean best hybrid score for statements that are not its own: every BASELINE_STRIDE-th task
    statement of the database (Index order) matched against the tasks of every other role. A role with many or
    broad tasks scores high for anything; nearest_roles ranks by the lift over this baseline."""
    rows = np.arange(0, len(idx.statements), scoring.BASELINE_STRIDE)
    texts = [str(idx.statements[r]) for r in rows]
    hybrid = _match(sidx, texts).hybrid
    best = role_maxima(sidx, hybrid)
    own = np.searchsorted(sidx.role_with_tasks, idx.task_role[rows])
    best[np.arange(len(rows)), own] = np.nan
    return np.nanmean(best, axis=0)


# --- tasks -----------------------------------------------------------------------------------------
@dataclass
class TextMatches:
    """Scores of n texts against every task (rows in Index task order)."""
    cosine: np.ndarray      # (n, tasks) cosine similarity
    lexical: np.ndarray     # (n, tasks) BM25 / the text's best BM25, 0 outside its LEXICAL_TOP best tasks
    hybrid: np.ndarray      # (n, tasks) scoring.hybrid_score


def match_texts(conn, texts: list[str]) -> TextMatches:
    return _match(semantic_index(conn), texts)


def _match(sidx: SemanticIndex, texts: list[str]) -> TextMatches:
    encoder = embedding.load()
    q = encoder.encode(texts)
    cosine = q @ sidx.task_vectors_t
    lexical = scoring.normalise_lexical(np.stack([sidx.lexical.scores(t) for t in texts]) if texts
                                        else np.zeros((0, cosine.shape[1]), dtype=np.float32))
    return TextMatches(cosine, lexical, scoring.hybrid_score(cosine, lexical))


def role_maxima(sidx: SemanticIndex, scores: np.ndarray) -> np.ndarray:
    """(n, roles with tasks): the best score of each role's tasks, per row of `scores` (tasks in Index order)."""
    return np.maximum.reduceat(scores, sidx.role_starts, axis=1)


# --- titles ----------------------------------------------------------------------------------------
def semantic_titles(conn, title: str, limit: int = 10) -> list[m.RoleMatch]:
    """Roles whose titles are nearest in meaning to `title` (cosine >= scoring.TITLE_MIN_SIMILARITY), best first."""
    sidx = semantic_index(conn)
    idx = index_for(conn)
    dim = sidx.title_vectors.shape[1]
    v = embedding.normalise(embedding.load().encode([title])[:, :dim])[0]
    sims = sidx.title_vectors @ v
    k = min(len(sims), 400)
    top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
    top = top[np.argsort(-sims[top], kind="stable")]
    roles: dict[str, list] = {}
    for i in top.tolist():
        s = float(sims[i])
        if s < scoring.TITLE_MIN_SIMILARITY:
            break
        for code, text, kind in sidx.title_rows[i]:
            hits = roles.setdefault(code, [])
            if len(hits) < 3 and all(h[0] != text for h in hits):
                hits.append((text, kind, s))
        if len(roles) >= limit and all(len(h) for h in roles.values()):
            break
    out = []
    for code, hits in sorted(roles.items(), key=lambda kv: (-kv[1][0][2], kv[0]))[:limit]:
        best = hits[0]
        out.append(m.RoleMatch(
            role_code=code, role_title=idx.titles[idx.role_pos[code]], relevance=round(best[2], 6), exact=False,
            all_terms=False, matched_title=best[0], matched_kind=best[1], matching_titles=len(hits),
            titles=[m.TitleHit(title=t, kind=k, relevance=round(s, 6)) for t, k, s in hits],
            method="semantic", similarity=round(best[2], 6)))
    return out


#: Lexical match methods that mean the words worked (a title equals the query or contains all its words).
WORDS_WORKED = frozenset({"exact", "exact_normalized", "fts_all_terms"})


def with_semantic_fallback(conn, lexical: m.MatchResponse, limit: int) -> m.MatchResponse:
    """Chain the semantic matcher after the lexical one: where words worked (a title equal to the query, or
    one containing all its words) the lexical answer stands; where they failed, the roles nearest in meaning
    to the title part of the query are fused with the lexical partial matches by reciprocal rank
    (1 / (scoring.TITLE_FUSION_K + rank) from each list, summed; ties keep the lexical order first)."""
    if any(x.exact or x.all_terms or x.method in WORDS_WORKED for x in lexical.matches):
        return lexical
    try:
        semantic = semantic_titles(conn, getattr(lexical, "title", None) or lexical.query, limit)
    except Unavailable:
        return lexical
    if not semantic:
        return lexical
    k = scoring.TITLE_FUSION_K
    fused: dict[str, list] = {}
    for source, matches in ((0, lexical.matches), (1, semantic)):
        for rank, x in enumerate(matches):
            entry = fused.setdefault(x.role_code, [0.0, source, rank, x])
            entry[0] += 1.0 / (k + rank)
    order = sorted(fused.values(), key=lambda e: (-e[0], e[1], e[2]))
    merged = [e[3] for e in order][:limit]
    method = merged[0].method if merged else lexical.method
    return lexical.model_copy(update={"matches": merged, "method": method})
