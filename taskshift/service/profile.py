"""Profile any job from its posting: duty statements -> O*NET tasks (by meaning) -> nearest roles and exposure.

`profile(conn, request)` (POST /-/profile, `taskshift.profile`, `taskshift profile FILE|-`):

1. the text is split into duty statements (`taskshift.service.postings`: bullets, lines, sentences;
   headings, boilerplate and requirements dropped with their reason; time shares equal unless stated);
2. each statement is matched to the O*NET task statements (`taskshift.service.semantic`): the best
   task by hybrid score (cosine similarity of the embeddings + weighted BM25), with a confidence band
   from its similarity, "none" below the measured threshold (`scoring.MATCH_MIN_SIMILARITY`);
3. nearest_roles: every role scored by the mean (time-share-weighted) of its best hybrid task score over
   the duty statements, less the role's baseline (what it scores for other roles' statements), with the
   share of statements it explains (has a good match for);
4. the matched tasks with the statements' time shares are scored as a custom role
   (`taskshift.service.scores.score_custom`): every measure, consensus and the automation vs
   augmentation profile task by task.

Cost is bounded: at most 20 KB of text and `postings.MAX_STATEMENTS` statements per request.
"""
from __future__ import annotations

import numpy as np

from taskshift import embedding, scoring
from taskshift.service import models as m
from taskshift.service.errors import InvalidInput, NotFound, ServiceError, validate
from taskshift.service.index import _measures, index_for
from taskshift.service.postings import MAX_STATEMENTS, split_posting
from taskshift.service.scores import score_custom
from taskshift.service.semantic import _match, role_maxima, semantic_index

ALTERNATIVES = 2


class TooLarge(ServiceError):
    status = 413


def parse_request(raw: bytes | str | dict | m.ProfileRequest) -> m.ProfileRequest:
    """The request from JSON bytes (the API body), a dict or a model; non-UTF-8 bytes name the field they are in."""
    if isinstance(raw, (bytes, bytearray)):
        try:
            raw = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as err:
            raise InvalidInput(_field_of(bytes(raw), err.start), f"is not valid UTF-8 (byte 0x{raw[err.start]:02x} at "
                               f"offset {err.start}): send the text as UTF-8", "encoding") from None
    return validate(m.ProfileRequest, raw)


def _field_of(raw: bytes, offset: int) -> str:
    """The top-level JSON field whose value holds byte `offset` (text, as a rule); body if none is found."""
    import json
    import re

    head = raw[:offset].decode("utf-8", "replace")
    keys = list(re.finditer(r'"(\w+)"\s*:\s*"?', head))
    if keys:
        name = keys[-1].group(1)
        try:
            if name in json.loads(raw.decode("utf-8", "replace")):
                return name
        except ValueError:
            return name
    return "body"


def text_of(value: bytes | str, field_name: str = "text") -> str:
    """Text from a file or stdin (CLI, library): bytes must be UTF-8 (a BOM is dropped)."""
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8-sig")
        except UnicodeDecodeError as err:
            raise InvalidInput(field_name, f"is not valid UTF-8 (byte 0x{value[err.start]:02x} at offset {err.start})",
                               "encoding") from None
    return value


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """(n, k) column indices of the k largest values of each row, best first (repeated argmax: k is small)."""
    work = scores.copy()
    rows = np.arange(len(work))
    out = np.empty((len(work), k), dtype=np.int64)
    for j in range(k):
        out[:, j] = work.argmax(axis=1)
        work[rows, out[:, j]] = -np.inf
    return out


def profile(conn, request: m.ProfileRequest | dict | bytes | str) -> m.ProfileResponse:
    req = parse_request(request)
    size = len(req.text)
    if size > m.MAX_PROFILE_TEXT_CHARS:
        raise TooLarge("text", f"is {size:,} characters; at most {m.MAX_PROFILE_TEXT_CHARS:,} per request", "too_large")
    # a text in which no duty statement is found profiles to nothing: a 404 (nothing found), as free text that
    # matches no task statement; the OpenAPI description allows any text, so this is not a 400
    if not req.text.strip():
        raise NotFound("text", "is empty: paste a job posting or a list of duties", "empty")
    split = split_posting(req.text)
    if not split.statements:
        reasons = sorted({d.reason.split(":")[0].split(" (")[0] for d in split.dropped})
        raise NotFound("text", "has no duty statements: every line was " + (", ".join(reasons) or "empty")
                       + "; give the duties as lines or sentences, e.g. 'Answer customer calls about billing'",
                       "no_statements")
    idx = index_for(conn)
    _measures(idx, req.measures)  # unknown measures are a 400 even when nothing matches
    return _profile(conn, idx, req, split)  # not memoised: postings rarely repeat and responses are large


def _profile(conn, idx, req: m.ProfileRequest, split) -> m.ProfileResponse:
    sidx = semantic_index(conn)
    texts = [s.query for s in split.statements]
    tm = _match(sidx, texts)
    top = _top(tm.hybrid, ALTERNATIVES + 1)
    best = top[:, 0]
    n = len(texts)
    rows = np.arange(n)
    best_cos = tm.cosine[rows, best]
    bands = scoring.match_band(best_cos)
    matched = bands != "none"

    def hit(i: int, t: int) -> m.TaskHit:
        role = int(idx.task_role[t])
        return m.TaskHit.model_construct(
            task_id=int(idx.task_ids[t]), role_code=idx.codes[role], role_title=idx.titles[role],
            statement=idx.statements[t], similarity=round(float(tm.cosine[i, t]), 6),
            lexical=round(float(tm.lexical[i, t]), 6), score=round(float(tm.hybrid[i, t]), 6))

    shares = np.asarray(split.shares)
    statements = []
    for i, s in enumerate(split.statements):
        statements.append(m.ProfileStatement.model_construct(
            line=s.line, text=s.text, share=float(shares[i]), share_source=split.share_sources[i],
            confidence=str(bands[i]), match=hit(i, int(best[i])) if matched[i] else None,
            alternatives=[hit(i, int(t)) for t in top[i] if t != best[i]][:ALTERNATIVES]))
    dropped = [m.DroppedText.model_construct(line=d.line, text=d.text, reason=d.reason) for d in split.dropped]

    nearest: list[m.NearestRole] = []
    score = None
    if matched.any():
        h = role_maxima(sidx, tm.hybrid)
        c = role_maxima(sidx, tm.cosine)
        mean_best, explained = scoring.role_coverage(h, c, shares)
        role_score = mean_best - sidx.role_baseline
        counts = (c >= scoring.EXPLAIN_MIN_SIMILARITY).sum(axis=0)
        order = np.lexsort((np.arange(len(role_score)), -explained, -role_score))[:req.roles + 1]
        lead = float(role_score[order[0]] - role_score[order[1]]) if len(order) > 1 else float(role_score[order[0]])
        for rank, j in enumerate(order[:req.roles].tolist(), start=1):
            margin = lead if rank == 1 else 0.0  # only the leader can be "high"
            pos = int(sidx.role_with_tasks[j])
            nearest.append(m.NearestRole.model_construct(
                rank=rank, code=idx.codes[pos], title=idx.titles[pos], score=round(float(role_score[j]), 6),
                mean_best=round(float(mean_best[j]), 6), baseline=round(float(sidx.role_baseline[j]), 6),
                share_explained=round(float(explained[j]), 6), statements_explained=int(counts[j]),
                confidence=scoring.nearest_confidence(float(explained[j]), margin)))
        body = {"tasks": [{"task_id": int(idx.task_ids[best[i]]), "share": float(shares[i])} for i in np.flatnonzero(matched)],
                "measures": req.measures}
        score = score_custom(conn, body)
    method = {
        "split": f"lines, bullets and sentences; headings, boilerplate and requirements dropped; at most {MAX_STATEMENTS} statements",
        "match": "best O*NET task by hybrid score = cosine similarity of the embeddings + "
                 f"{scoring.HYBRID_LEXICAL_WEIGHT:g} x BM25 relative to the statement's best task (its {scoring.LEXICAL_TOP} best by BM25)",
        "confidence": f"similarity of the best task: high >= {scoring.MATCH_HIGH_SIMILARITY:g}, medium >= "
                      f"{scoring.MATCH_MEDIUM_SIMILARITY:g}, low >= {scoring.MATCH_MIN_SIMILARITY:g}, else none (no good match)",
        "nearest_roles": "roles ranked by score = the time-share-weighted mean of their best task's hybrid score over the "
                         "duty statements (mean_best) minus the role's baseline (its mean best score for other roles' task "
                         f"statements, every {scoring.BASELINE_STRIDE}th O*NET task); a role explains a statement if a task of it has similarity >= {scoring.EXPLAIN_MIN_SIMILARITY:g}; "
                         f"confidence high if it explains >= {scoring.NEAREST_HIGH_SHARE:g} of the time and leads the next role by "
                         f">= {scoring.NEAREST_HIGH_MARGIN:g}, medium if it explains >= {scoring.NEAREST_MEDIUM_SHARE:g}",
        "score": "the matched tasks with the statements' time shares scored as a custom role (POST /-/score rules)",
        "match_min_similarity": scoring.MATCH_MIN_SIMILARITY,
        "match_medium_similarity": scoring.MATCH_MEDIUM_SIMILARITY,
        "match_high_similarity": scoring.MATCH_HIGH_SIMILARITY,
        "hybrid_lexical_weight": scoring.HYBRID_LEXICAL_WEIGHT,
        "max_statements": MAX_STATEMENTS,
    }
    model = {"model": embedding.MODEL_ID, "weights_sha256": embedding.WEIGHTS_SHA256, "dim": embedding.DIM,
             "task_embeddings_sha256": sidx.info["task_embeddings_sha256"]}
    return m.ProfileResponse(statements=statements, dropped=dropped, matched=int(matched.sum()),
                             unmatched=int((~matched).sum()), nearest_roles=nearest, score=score,
                             method=method, model=model)
