"""The scoring service: one set of functions behind the Datasette plugin, the library and the CLI.

Every function takes an open sqlite3 connection to a taskshift database and returns a pydantic
model of `taskshift.models`; all the arithmetic is in `taskshift.scoring`. The database is
immutable, so each database file is read once into an in-memory `Index` (numpy arrays of role
scores, task values, task labels and weights) and per-role results are memoised.

Rules (also returned in every response under `rules`, and in docs/api.md):

- Role: each measure's score, percentile, coverage and derivation are the role's `role_exposure`
  row. For task-level measures the response also gives `task_basis_score`: the coreweight-weighted
  mean of the task values over the role's O*NET 29.3 tasks.
- Custom role (list of tasks with time shares): for *task-weighted* measures (whose role score is
  the coreweight-weighted mean of task values: Eloundou et al. alpha/beta/gamma and GPT-4
  automation), the time-share-weighted mean of the task values, time shares playing the role of the
  weights; for every other measure (published at role level, or like Microsoft's not a mean of task
  values), the time-share-weighted mean of the scores of the roles the tasks belong to.
- Workforce: headcount-weighted mean of the role scores.
- Percentile of a custom role or a workforce: the percentile the score would have among the roles.
"""
from __future__ import annotations

import gc
import os
import re
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from . import models as m
from . import scoring

#: Families whose role score is the coreweight-weighted mean of the task values in task_exposure.
TASK_WEIGHTED_FAMILIES = ("eloundou",)
#: Task labels behind the automation vs augmentation profile.
PROFILE_EXPOSURE_MEASURE = "eloundou2023_gpt4_beta"     # its label column holds the GPT-4 E0/E1/E2 label
PROFILE_AUTOMATION_MEASURE = "eloundou2023_gpt4_automation"  # value 0..1 and label T0..T4
#: Default measure that ranks the most exposed roles of a workforce.
DEFAULT_RANK_MEASURE = "eloundou2023_gpt4_beta"
#: With base_role, a free-text task matches the base role's best task if that is at least this
#: fraction as relevant (BM25) as the best task of any role.
BASE_ROLE_MATCH_RATIO = 0.5
#: Title kinds in order of preference when two titles match equally well.
KIND_ORDER = {"occupation": 0, "emerging": 1, "alternate": 1, "short": 2, "reported": 3}

RULES = {
    "role": "score, percentile, coverage and derivation are the role's row of role_exposure (the published measure put on the role)",
    "task_basis_score": "coreweight-weighted mean (Core 2, Supplemental or unrated 1) of the task values over the role's "
                        "O*NET 29.3 tasks; equals score where the measure's task list is O*NET 29.3's (Eloundou et al. used O*NET 27.x)",
    "task_weighted": "custom role, measures whose role score is the coreweight-weighted mean of task values (Eloundou et al. "
                     "alpha/beta/gamma, GPT-4 automation): time-share-weighted mean of the task values (task_exposure); "
                     "coverage = time share with a value",
    "role_mixture": "custom role, every other measure (published at role level; Microsoft's role score is not a mean of task values): "
                    "time-share-weighted mean of the scores of the roles the tasks belong to; coverage = time share whose role has a score",
    "shares": "time shares (or headcounts) are weights: any non-negative scale, normalised to sum to 1; not all zero",
    "percentile": "role: role_exposure.percentile; custom role and workforce: the percentile the score would have among the roles "
                  "(ties averaged, as in role_exposure)",
    "free_text": "free text is matched to the O*NET task statement with the best FTS5 BM25 rank (words OR-ed, common words dropped); "
                 f"with base_role, the base role's best task wins if at least {BASE_ROLE_MATCH_RATIO:g} x as relevant",
    "profile": "from the Eloundou et al. GPT-4 task labels, weighted like the scores: exposed = E1/E2; of the exposed weight, "
               f"automatable = automation >= {scoring.AUTOMATABLE_MIN:g} (T3/T4), augmented = the rest",
    "outlook": f"elimination: exposed_share >= {scoring.EXPOSED_SHARE_MIN:g} and automatable_share >= {scoring.AUTOMATABLE_SHARE_MIN:g}; "
               f"compression: exposed_share >= {scoring.EXPOSED_SHARE_MIN:g}, mostly augmented; expansion: exposed_share < "
               f"{scoring.EXPOSED_SHARE_MIN:g} and employment projected to grow (> {scoring.GROWTH_MIN_PCT:g}%); limited: otherwise",
    "employment_change_pct": "role: BLS EP 2024-34; custom role: the base role's, else the time-share-weighted mean over the tasks' roles; "
                             "workforce: headcount-weighted mean",
    "workforce": "scores: headcount-weighted mean of the role scores; exposed_headcount: headcount in roles at or above percentile "
                 f"{scoring.EXPOSED_PERCENTILE:g} on the measure; profile: headcount-weighted role profiles",
}

STOPWORDS = frozenset(
    "a an and are as at be by for from has have in into is it its of on or that the their them these this those to "
    "with within about over under per via your you our we i my etc".split())
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


# --- errors --------------------------------------------------------------------------------------
class ServiceError(Exception):
    """A request the service cannot answer; `status` is the HTTP status the API gives it."""
    status = 400

    def __init__(self, field: str, problem: str, kind: str | None = None, errors: list[dict] | None = None):
        self.errors = errors or [{"field": field, "problem": problem, "type": kind}]
        super().__init__("; ".join(f"{e['field']}: {e['problem']}" for e in self.errors))


class InvalidInput(ServiceError, ValueError):
    status = 400

    @classmethod
    def from_validation(cls, err: ValidationError) -> "InvalidInput":
        errors = []
        for e in err.errors(include_url=False):
            loc = ".".join(str(p) for p in e.get("loc", ()))
            msg = e.get("msg", "invalid")
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, "):]
            errors.append({"field": loc or "body", "problem": msg, "type": e.get("type")})
        return cls("body", "invalid", errors=errors)


class NotFound(ServiceError, LookupError):
    status = 404


def validate(model: type[BaseModel], data) -> BaseModel:
    """`model` from a dict, JSON bytes/str or an instance; InvalidInput naming each bad field."""
    if isinstance(data, model):
        return data
    try:
        if isinstance(data, (bytes, bytearray, str)):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as err:
        raise InvalidInput.from_validation(err) from None


# --- the in-memory index of one database --------------------------------------------------------
@dataclass
class Index:
    key: tuple
    roles: pd.DataFrame
    role_pos: dict[str, int]
    measures: pd.DataFrame                      # registry, indexed by measure_id
    scorable: tuple[str, ...]                   # measures with role scores (columns of R, P, C, D)
    col: dict[str, int]
    R: np.ndarray
    P: np.ndarray
    C: np.ndarray
    D: np.ndarray
    ref_sorted: list[np.ndarray]
    task_weighted: tuple[str, ...]
    task_measures: tuple[str, ...]              # measures with task values (columns of TV)
    tcol: dict[str, int]
    task_ids: np.ndarray
    task_pos: dict[int, int]
    task_role: np.ndarray
    task_type: np.ndarray
    task_weight: np.ndarray
    statements: np.ndarray
    TV: np.ndarray
    exposure_label: np.ndarray
    automation_label: np.ndarray
    automation_value: np.ndarray
    role_tasks: list[np.ndarray]
    change: np.ndarray
    role_arrays: dict[str, np.ndarray]
    codes: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    minfo: dict[str, dict] = field(default_factory=dict)
    role_infos: dict[int, m.RoleInfo] = field(default_factory=dict)
    cache: OrderedDict = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def measure_info(self, mid: str) -> pd.Series:
        return self.measures.loc[mid]


_INDEXES: dict[tuple, Index] = {}
_INDEX_LOCK = threading.Lock()
CACHE_SIZE = 4096


def _db_key(conn: sqlite3.Connection) -> tuple:
    rows = _q(conn, "pragma database_list").fetchall()
    file = next((r[2] for r in rows if r[1] == "main"), "")
    if file and os.path.exists(file):
        st = os.stat(file)
        return (os.path.realpath(file), st.st_mtime_ns, st.st_size)
    return ("memory", id(conn))


def index_for(conn: sqlite3.Connection) -> Index:
    """The Index of the database behind `conn`, loaded once per database file."""
    key = _db_key(conn)
    idx = _INDEXES.get(key)
    if idx is None:
        with _INDEX_LOCK:
            idx = _INDEXES.get(key)
            if idx is None:
                idx = _INDEXES[key] = _load(conn, key)
                # the index lives as long as the process: keep its objects out of the cyclic GC's
                # scans (a full collection over them was the API's worst-case latency)
                gc.collect()
                gc.freeze()
    return idx


def _q(conn: sqlite3.Connection, sql: str, params=()) -> sqlite3.Cursor:
    """Execute with plain tuples for rows, whatever the connection's row_factory (Datasette's is sqlite3.Row)."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur.execute(sql, params)


def _sql(conn, sql: str, params=()) -> pd.DataFrame:
    cur = _q(conn, sql, params)
    return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])


def _load(conn: sqlite3.Connection, key: tuple) -> Index:
    roles = _sql(conn, "select code, title, soc_code, major_group, job_zone, employment, employment_change_pct, task_count "
                       "from roles order by code")
    role_pos = {c: i for i, c in enumerate(roles["code"])}
    n_roles = len(roles)
    measures = _sql(conn, "select measure_id, family, title, scale, direction, level from measures order by measure_id")
    measures = measures.set_index("measure_id")
    re_ = _sql(conn, "select role_code, measure_id, score, percentile, coverage, derivation from role_exposure")
    scorable = tuple(sorted(re_["measure_id"].unique()))
    col = {mid: j for j, mid in enumerate(scorable)}
    R = np.full((n_roles, len(scorable)), np.nan)
    P, C = R.copy(), R.copy()
    D = np.full(R.shape, None, dtype=object)
    ri = re_["role_code"].map(role_pos).to_numpy()
    ci = re_["measure_id"].map(col).to_numpy()
    R[ri, ci] = re_["score"].to_numpy(dtype="float64")
    P[ri, ci] = re_["percentile"].to_numpy(dtype="float64")
    C[ri, ci] = pd.to_numeric(re_["coverage"], errors="coerce").to_numpy(dtype="float64")
    D[ri, ci] = re_["derivation"].to_numpy(dtype=object)
    ref_sorted = [np.sort(R[~np.isnan(R[:, j]), j]) for j in range(len(scorable))]

    tasks = _sql(conn, "select task_id, role_code, statement, task_type from tasks order by role_code, "
                       "case task_type when 'Core' then 0 when 'Supplemental' then 1 else 2 end, task_id")
    task_ids = tasks["task_id"].to_numpy(dtype="int64")
    task_pos = {int(t): i for i, t in enumerate(task_ids)}
    task_role = tasks["role_code"].map(role_pos).to_numpy(dtype="int64")
    te = _sql(conn, "select task_id, measure_id, value, label from task_exposure")
    task_measures = tuple(sorted(te["measure_id"].unique()))
    tcol = {mid: j for j, mid in enumerate(task_measures)}
    TV = np.full((len(tasks), len(task_measures)), np.nan)
    ti = te["task_id"].map(task_pos)
    ok = ti.notna().to_numpy()
    TV[ti[ok].astype("int64").to_numpy(), te.loc[ok, "measure_id"].map(tcol).to_numpy()] = te.loc[ok, "value"].to_numpy(dtype="float64")

    def labels(mid: str) -> tuple[np.ndarray, np.ndarray]:
        sub = te[te["measure_id"] == mid]
        lab = np.full(len(tasks), None, dtype=object)
        val = np.full(len(tasks), np.nan)
        pos = sub["task_id"].map(task_pos)
        keep = pos.notna().to_numpy()
        lab[pos[keep].astype("int64").to_numpy()] = sub.loc[keep, "label"].to_numpy(dtype=object)
        val[pos[keep].astype("int64").to_numpy()] = sub.loc[keep, "value"].to_numpy(dtype="float64")
        return lab, val

    exposure_label, _ = labels(PROFILE_EXPOSURE_MEASURE)
    automation_label, automation_value = labels(PROFILE_AUTOMATION_MEASURE)
    task_weighted = tuple(mid for mid in scorable
                          if mid in tcol and measures.loc[mid, "family"] in TASK_WEIGHTED_FAMILIES)
    bounds = np.searchsorted(task_role, np.arange(n_roles + 1))
    role_tasks = [np.arange(bounds[i], bounds[i + 1]) for i in range(n_roles)]
    idx = Index(
        key=key, roles=roles, role_pos=role_pos, measures=measures, scorable=scorable, col=col, R=R, P=P, C=C, D=D,
        ref_sorted=ref_sorted, task_weighted=task_weighted, task_measures=task_measures, tcol=tcol,
        task_ids=task_ids, task_pos=task_pos, task_role=task_role, task_type=tasks["task_type"].to_numpy(dtype=object),
        task_weight=scoring.core_weight(tasks["task_type"]), statements=tasks["statement"].to_numpy(dtype=object),
        TV=TV, exposure_label=exposure_label, automation_label=automation_label, automation_value=automation_value,
        role_tasks=role_tasks, change=pd.to_numeric(roles["employment_change_pct"], errors="coerce").to_numpy(dtype="float64"),
        role_arrays={},
    )
    idx.role_arrays = role_arrays(idx)
    idx.codes = roles["code"].astype(str).tolist()
    idx.titles = roles["title"].astype(str).tolist()
    idx.minfo = {mid: {k: (None if pd.isna(v) else str(v)) for k, v in row.items()}
                 for mid, row in measures.to_dict("index").items()}
    idx.task_type = np.asarray([None if pd.isna(x) else str(x) for x in idx.task_type], dtype=object)
    idx.statements = np.asarray([str(x) for x in idx.statements], dtype=object)
    return idx


def role_arrays(idx: Index) -> dict[str, np.ndarray]:
    """Per-role task-basis scores and profiles for every role at once (vectorised over all tasks)."""
    n = len(idx.roles)
    tw = [idx.tcol[mid] for mid in idx.task_weighted]
    basis, _ = scoring.grouped_weighted_mean(idx.TV[:, tw], idx.task_weight, idx.task_role, n)
    prof = scoring.task_profile(idx.exposure_label, idx.automation_value, idx.task_weight, idx.task_role, n)
    prof["outlook"] = scoring.outlook(prof["exposed_share"], prof["automatable_share"], idx.change)
    return {"basis": basis, **prof}


# --- helpers -------------------------------------------------------------------------------------
def _f(x) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if np.isnan(x) else x


def _measures(idx: Index, requested: list[str] | None, field_name: str = "measures") -> list[str]:
    if requested is None:
        return list(idx.scorable)
    wanted = []
    for item in requested:
        wanted += [p.strip() for p in str(item).split(",") if p.strip()]
    if not wanted:
        raise InvalidInput(field_name, "no measure given", "empty")
    unknown = [w for w in wanted if w not in idx.col]
    if unknown:
        bad = []
        for w in unknown:
            if w in idx.measures.index:
                bad.append(f"{w} has no role-level scores (level {idx.measures.loc[w, 'level']})")
            else:
                bad.append(f"unknown measure {w!r}")
        raise InvalidInput(field_name, "; ".join(bad) + " (see /taskshift/measures)", "unknown_measure")
    return [mid for mid in idx.scorable if mid in set(wanted)]


def _role_info(idx: Index, pos: int) -> m.RoleInfo:
    hit = idx.role_infos.get(pos)
    if hit is None:
        hit = idx.role_infos[pos] = _make_role_info(idx, pos)
    return hit


def _make_role_info(idx: Index, pos: int) -> m.RoleInfo:
    r = idx.roles.iloc[pos]
    return m.RoleInfo(code=r["code"], title=r["title"], soc_code=r["soc_code"], major_group=r["major_group"],
                      job_zone=None if pd.isna(r["job_zone"]) else int(r["job_zone"]),
                      employment=None if pd.isna(r["employment"]) else int(r["employment"]),
                      employment_change_pct=_f(r["employment_change_pct"]), task_count=int(r["task_count"]))


def _role_pos(idx: Index, code: str, field_name: str) -> int:
    if not isinstance(code, str) or not re.fullmatch(m.ROLE_CODE_PATTERN.strip("^$"), code):
        raise InvalidInput(field_name, f"{code!r} is not an O*NET-SOC 2019 code like 15-1252.00", "pattern")
    pos = idx.role_pos.get(code)
    if pos is None:
        raise NotFound(field_name, f"unknown role {code!r}", "not_found")
    return pos


def _reason(es, auto, change, outlook: str) -> str:
    if outlook == "unknown":
        return "no task carries a GPT-4 exposure label"
    es_s = f"exposed share {es:.2f}"
    if outlook in ("elimination", "compression"):
        a = "n/a" if auto is None else f"{auto:.2f}"
        if outlook == "elimination":
            return (f"{es_s} >= {scoring.EXPOSED_SHARE_MIN:g} and automatable share of exposed work {a} >= "
                    f"{scoring.AUTOMATABLE_SHARE_MIN:g}: exposed work is mostly automatable (elimination pressure)")
        return (f"{es_s} >= {scoring.EXPOSED_SHARE_MIN:g} and automatable share of exposed work {a} < "
                f"{scoring.AUTOMATABLE_SHARE_MIN:g}: AI mostly assists, fewer people may do the same work (compression pressure)")
    ch = "unknown" if change is None else f"{change:+.1f}%"
    if outlook == "expansion":
        return (f"{es_s} < {scoring.EXPOSED_SHARE_MIN:g} and employment projected to grow ({ch} 2024-34): "
                "expansion pressure")
    return f"{es_s} < {scoring.EXPOSED_SHARE_MIN:g} and projected employment change {ch} not above {scoring.GROWTH_MIN_PCT:g}%: limited pressure"


def _profile(labelled, es, auto, change, outlook) -> m.Profile:
    es, auto, change, labelled = _f(es), _f(auto), _f(change), _f(labelled)
    return m.Profile(labelled_share=labelled, exposed_share=es, automatable_share=auto,
                     augmented_share=None if auto is None else 1.0 - auto, employment_change_pct=change,
                     outlook=str(outlook), outlook_reason=_reason(es, auto, change, str(outlook)))


def _task_scores(idx: Index, rows: np.ndarray, weights: np.ndarray, value_cols: list[int],
                 matches: list[m.TaskMatch | None] | None = None) -> list[m.TaskScore]:
    total = float(weights.sum())
    names = [idx.task_measures[j] for j in value_cols]
    sub = (idx.TV[np.ix_(rows, value_cols)] if len(value_cols) else np.empty((len(rows), 0))).tolist()
    out = []
    for k, row in enumerate(rows.tolist()):
        lab = idx.exposure_label[row]
        auto = idx.automation_value[row]
        exposed = None if lab is None else lab in scoring.EXPOSED_LABELS
        automatable = None if (not exposed or np.isnan(auto)) else bool(auto >= scoring.AUTOMATABLE_MIN)
        values = {name: v for name, v in zip(names, sub[k]) if v == v}  # v == v: not NaN
        out.append(m.TaskScore.model_construct(  # trusted data from the index: no re-validation
            task_id=int(idx.task_ids[row]), role_code=idx.codes[idx.task_role[row]],
            statement=idx.statements[row], task_type=idx.task_type[row],
            weight=float(weights[k]), share=float(weights[k]) / total if total > 0 else 0.0,
            exposure_label=lab, automation_label=idx.automation_label[row], exposed=exposed, automatable=automatable,
            values=values, match=None if matches is None else matches[k]))
    return out


def _value_cols(idx: Index, requested: list[str] | None, chosen: list[str]) -> list[int]:
    if requested is None:
        return list(range(len(idx.task_measures)))
    return [idx.tcol[mid] for mid in chosen if mid in idx.tcol]


def _memo(idx: Index, key, make):
    with idx.lock:
        hit = idx.cache.get(key)
        if hit is not None:
            idx.cache.move_to_end(key)
            return hit
    value = make()
    with idx.lock:
        idx.cache[key] = value
        if len(idx.cache) > CACHE_SIZE:
            idx.cache.popitem(last=False)
    return value


# --- role ----------------------------------------------------------------------------------------
def score_role(conn: sqlite3.Connection, role_code: str, measures: list[str] | None = None) -> m.ScoreResponse:
    """Every measure for one role, its task breakdown and its automation vs augmentation profile."""
    idx = index_for(conn)
    chosen = _measures(idx, measures)
    pos = _role_pos(idx, role_code, "role_code")
    key = ("role", role_code, None if measures is None else tuple(chosen))
    return _memo(idx, key, lambda: _score_role(idx, pos, chosen, measures))


def _score_role(idx: Index, pos: int, chosen: list[str], requested) -> m.ScoreResponse:
    basis = idx.role_arrays["basis"][pos]
    tw = {mid: j for j, mid in enumerate(idx.task_weighted)}
    entries = []
    for mid in chosen:
        j = idx.col[mid]
        info = idx.minfo[mid]
        entries.append(m.MeasureScore(
            measure_id=mid, title=info["title"], scale=info["scale"], direction=info["direction"],
            score=_f(idx.R[pos, j]), percentile=_f(idx.P[pos, j]), coverage=_f(idx.C[pos, j]), derivation=idx.D[pos, j],
            task_basis_score=_f(basis[tw[mid]]) if mid in tw else None))
    rows = idx.role_tasks[pos]
    a = idx.role_arrays
    profile = _profile(a["labelled_share"][pos], a["exposed_share"][pos], a["automatable_share"][pos],
                       idx.change[pos], a["outlook"][pos])
    tasks = _task_scores(idx, rows, idx.task_weight[rows], _value_cols(idx, requested, chosen))
    return m.ScoreResponse(kind="role", role=_role_info(idx, pos), base_role=None, measures=entries,
                           profile=profile, tasks=tasks, rules=RULES)


# --- custom role ---------------------------------------------------------------------------------
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


def score_custom(conn: sqlite3.Connection, request: m.CustomRoleRequest | dict | bytes | str) -> m.ScoreResponse:
    """A custom role (tasks with time shares): the same output as score_role."""
    req = validate(m.CustomRoleRequest, request)
    idx = index_for(conn)
    chosen = _measures(idx, req.measures)
    base = None if req.base_role is None else _role_pos(idx, req.base_role, "base_role")
    rows, matches = [], []
    for i, t in enumerate(req.tasks):
        if t.task_id is not None:
            row = idx.task_pos.get(t.task_id)
            if row is None:
                raise NotFound(f"tasks.{i}.task_id", f"unknown O*NET task id {t.task_id}", "not_found")
            rows.append(row)
            matches.append(None)
        else:
            match = match_task(conn, t.text, req.base_role, field_name=f"tasks.{i}.text")
            rows.append(idx.task_pos[match.task_id])
            matches.append(match)
    rows = np.asarray(rows, dtype="int64")
    w = np.asarray([float(t.share) for t in req.tasks])
    entries = _bundle_measures(idx, rows, w, chosen, base)
    prof = scoring.task_profile(idx.exposure_label[rows], idx.automation_value[rows], w)
    if base is not None:
        change = idx.change[base]
    else:
        change = scoring.grouped_weighted_mean(idx.change[idx.task_role[rows]], w)[0][0]
    outlook = scoring.outlook(prof["exposed_share"], prof["automatable_share"], change)[0]
    profile = _profile(prof["labelled_share"][0], prof["exposed_share"][0], prof["automatable_share"][0], change, outlook)
    tasks = _task_scores(idx, rows, w, _value_cols(idx, req.measures, chosen), matches)
    return m.ScoreResponse(kind="custom", role=None, base_role=None if base is None else _role_info(idx, base),
                           measures=entries, profile=profile, tasks=tasks, rules=RULES)


def _bundle_measures(idx: Index, rows: np.ndarray, w: np.ndarray, chosen: list[str], base: int | None) -> list[m.MeasureScore]:
    tw = [mid for mid in chosen if mid in idx.task_weighted]
    mix = [mid for mid in chosen if mid not in idx.task_weighted]
    scores: dict[str, tuple[float, float, str]] = {}
    if tw:
        s, c = scoring.grouped_weighted_mean(idx.TV[np.ix_(rows, [idx.tcol[x] for x in tw])], w)
        scores.update({mid: (s[0, k], c[0, k], "task_weighted") for k, mid in enumerate(tw)})
    if mix:
        s, c = scoring.grouped_weighted_mean(idx.R[np.ix_(idx.task_role[rows], [idx.col[x] for x in mix])], w)
        scores.update({mid: (s[0, k], c[0, k], "role_mixture") for k, mid in enumerate(mix)})
    pcts = scoring.percentile_of_each([scores[mid][0] for mid in chosen], [idx.ref_sorted[idx.col[mid]] for mid in chosen])
    out = []
    for mid, pct in zip(chosen, pcts.tolist()):
        j = idx.col[mid]
        score, coverage, how = scores[mid]
        info = idx.minfo[mid]
        out.append(m.MeasureScore.model_construct(
            measure_id=mid, title=info["title"], scale=info["scale"], direction=info["direction"],
            score=_f(score), percentile=_f(pct), coverage=_f(coverage), derivation=how, task_basis_score=None,
            base_role_score=None if base is None else _f(idx.R[base, j])))
    return out


# --- workforce -----------------------------------------------------------------------------------
def score_workforce(conn: sqlite3.Connection, request: m.WorkforceRequest | dict | bytes | str) -> m.WorkforceResponse:
    """A team or a company (roles with headcounts): headcount-weighted exposure, exposed headcount, most exposed roles."""
    req = validate(m.WorkforceRequest, request)
    idx = index_for(conn)
    chosen = _measures(idx, req.measures)
    rank_by = req.rank_by or (DEFAULT_RANK_MEASURE if DEFAULT_RANK_MEASURE in idx.col else chosen[0])
    if rank_by not in idx.col:
        _measures(idx, [rank_by], "rank_by")
    heads: dict[int, int] = {}
    for i, e in enumerate(req.roles):
        pos = _role_pos(idx, e.role_code, f"roles.{i}.role_code")
        heads[pos] = heads.get(pos, 0) + e.headcount
    pos = np.fromiter(heads, dtype="int64")
    h = np.fromiter(heads.values(), dtype="float64")
    cols = [idx.col[x] for x in chosen]
    s, c = scoring.grouped_weighted_mean(idx.R[np.ix_(pos, cols)], h)
    pcts = scoring.percentile_of_each(s[0], [idx.ref_sorted[j] for j in cols])
    entries = []
    for k, mid in enumerate(chosen):
        j = idx.col[mid]
        pct = idx.P[pos, j]
        scored = ~np.isnan(pct)
        exposed = int(h[scored & (pct >= scoring.EXPOSED_PERCENTILE)].sum())
        base = h[scored].sum()
        entries.append(m.WorkforceMeasure(
            measure_id=mid, title=idx.minfo[mid]["title"], score=_f(s[0, k]),
            percentile=_f(pcts[k]), coverage=_f(c[0, k]),
            exposed_headcount=exposed, exposed_share=_f(exposed / base) if base > 0 else None))
    a = idx.role_arrays
    es_roles, auto_roles = a["exposed_share"][pos], a["automatable_share"][pos]
    es = scoring.grouped_weighted_mean(es_roles, h)[0][0]
    auto = scoring.grouped_weighted_mean(auto_roles, h * np.nan_to_num(es_roles))[0][0]
    change = scoring.grouped_weighted_mean(idx.change[pos], h)[0][0]
    outlook = scoring.outlook(es, auto, change)[0]
    by_outlook = {o: 0 for o in scoring.OUTLOOKS}
    for o, n in zip(a["outlook"][pos], h):
        by_outlook[o] += int(n)
    es_f, auto_f, change_f = _f(es), _f(auto), _f(change)
    profile = m.WorkforceProfile(exposed_share=es_f, automatable_share=auto_f,
                                 augmented_share=None if auto_f is None else 1.0 - auto_f,
                                 employment_change_pct=change_f, outlook=outlook,
                                 outlook_reason=_reason(es_f, auto_f, change_f, outlook), headcount_by_outlook=by_outlook)
    j = idx.col[rank_by]
    pct = idx.P[pos, j]
    order = sorted(range(len(pos)), key=lambda k: (np.isnan(pct[k]), -np.nan_to_num(pct[k]), -h[k], idx.codes[pos[k]]))
    top = [m.WorkforceRole(role_code=idx.codes[pos[k]], title=idx.titles[pos[k]], headcount=int(h[k]),
                           score=_f(idx.R[pos[k], j]), percentile=_f(pct[k]), exposed_share=_f(es_roles[k]),
                           automatable_share=_f(auto_roles[k]), outlook=a["outlook"][pos[k]])
           for k in order[:req.top]]
    return m.WorkforceResponse(headcount=int(h.sum()), roles=len(pos), rank_by=rank_by, measures=entries, profile=profile,
                               most_exposed=top, rules=RULES)


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


# --- every role at once (the library's vectorised path) --------------------------------------------
def score_all(conn: sqlite3.Connection, measures: list[str] | None = None) -> pd.DataFrame:
    """Every role on every measure in one long frame, computed vectorised (no per-role loop).

    Columns: role_code, measure_id, score, percentile, coverage, derivation, task_basis_score and the
    role's profile (labelled_share, exposed_share, automatable_share, augmented_share,
    employment_change_pct, outlook). The numbers are those of score_role.
    """
    idx = index_for(conn)
    chosen = _measures(idx, measures)
    arrays = role_arrays(idx)
    n = len(idx.roles)
    cols = np.asarray([idx.col[x] for x in chosen], dtype="int64")
    k = len(cols)
    basis = np.full((n, k), np.nan)
    for out_j, mid in enumerate(chosen):
        if mid in idx.task_weighted:
            basis[:, out_j] = arrays["basis"][:, idx.task_weighted.index(mid)]
    frame = pd.DataFrame({
        "role_code": np.repeat(idx.roles["code"].to_numpy(dtype=object), k),
        "measure_id": np.tile(np.asarray(chosen, dtype=object), n),
        "score": idx.R[:, cols].ravel(),
        "percentile": idx.P[:, cols].ravel(),
        "coverage": idx.C[:, cols].ravel(),
        "derivation": idx.D[:, cols].ravel(),
        "task_basis_score": basis.ravel(),
    })
    for name in ("labelled_share", "exposed_share", "automatable_share", "augmented_share", "outlook"):
        frame[name] = np.repeat(arrays[name], k)
    frame["employment_change_pct"] = np.repeat(idx.change, k)
    return frame


def transitions(conn: sqlite3.Connection, role_code: str, measure: str | None = None,
                max_job_zone_step: int = 1, limit: int = 10):
    """Related, less exposed roles to move to from `role_code`, with the reskilling gap
    (`taskshift.pathways.rank_transitions`); errors name the field, as everywhere in the API."""
    from .pathways import rank_transitions

    q = validate(m.TransitionsQuery, {"measure": measure, "max_job_zone_step": max_job_zone_step, "limit": limit})
    try:
        return rank_transitions(conn, role_code, measure=q.measure, max_job_zone_step=q.max_job_zone_step, limit=q.limit)
    except LookupError as err:
        raise NotFound("role_code", str(err), "unknown_role") from None
    except ValueError as err:
        raise InvalidInput("measure", str(err), "unknown_measure") from None
