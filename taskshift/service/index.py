"""The in-memory index of one taskshift database, and the helpers every service module shares.

The database is immutable, so each database file is read once into an `Index` (numpy arrays of role
scores, task values, task labels and weights); per-request results are memoised on it.
"""
from __future__ import annotations

import gc
import os
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from taskshift import scoring
from taskshift.service import models as m
from taskshift.service.errors import InvalidInput

#: Families whose role score is the coreweight-weighted mean of the task values in task_exposure.
TASK_WEIGHTED_FAMILIES = ("eloundou",)
#: Task labels behind the automation vs augmentation profile.
PROFILE_EXPOSURE_MEASURE = scoring.PROFILE_EXPOSURE_MEASURE        # its label column holds the GPT-4 E0/E1/E2 label
PROFILE_AUTOMATION_MEASURE = scoring.PROFILE_AUTOMATION_MEASURE    # value 0..1 and label T0..T4
#: Default measure that ranks the most exposed roles of a workforce.
DEFAULT_RANK_MEASURE = scoring.HEADLINE_MEASURE
#: With base_role, a free-text task matches the base role's best task if that is at least this
#: fraction as relevant (BM25) as the best task of any role.
BASE_ROLE_MATCH_RATIO = 0.5
#: Title kinds in order of preference when two titles match equally well.
KIND_ORDER = {"occupation": 0, "emerging": 1, "alternate": 1, "short": 2, "reported": 3}


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
    outlook_table: pd.DataFrame | None = None
    average_change: float = float("nan")                # EP all-occupation projected change, % (role_outlook)
    outlook_evidence: list[list[dict]] = field(default_factory=list)  # per role: role_outlook_evidence items
    EP: np.ndarray | None = None                # employment-weighted percentile (role_exposure.employment_percentile)
    ref_emp: list = field(default_factory=list)  # per measure: scoring.employment_reference of the roles
    codes: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    minfo: dict[str, dict] = field(default_factory=dict)
    role_infos: dict[int, m.RoleInfo] = field(default_factory=dict)
    cache: dict = field(default_factory=dict)  # kind -> OrderedDict (see _memo)
    extras: dict = field(default_factory=dict)  # per-database lookup tables built on first use (title lexicon)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def measure_info(self, mid: str) -> pd.Series:
        return self.measures.loc[mid]


_INDEXES: dict[tuple, Index] = {}
_INDEX_LOCK = threading.Lock()
#: Memoised results per kind (the first item of the key), least recently used dropped first. The keys
#: are validated input (role codes, measure ids, words), and each kind has its own bound, so no
#: request pattern grows memory past about (entries x largest result) of each kind. The bounds also
#: keep the objects the garbage collector walks few (a role's result is ~2,000 objects, a title
#: match ~80): a full collection stops every thread of a server.
CACHE_SIZE = 1024
CACHE_LIMITS = {"role": 64, "title": 256, "task_text": 2048}


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
    roles = _sql(conn, "select code, title, soc_code, major_group, job_zone, employment, employment_change_pct, task_count, "
                       "labor_code, roles_sharing_labor_code, employment_allocated, ep_employment_2024, employment_2034, labor_year "
                       "from roles order by code")
    role_pos = {c: i for i, c in enumerate(roles["code"])}
    n_roles = len(roles)
    measures = _sql(conn, "select measure_id, family, title, scale, direction, level from measures order by measure_id")
    measures = measures.set_index("measure_id")
    re_ = _sql(conn, "select role_code, measure_id, score, percentile, coverage, derivation, employment_percentile from role_exposure")
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
    EP = np.full(R.shape, np.nan)
    EP[ri, ci] = pd.to_numeric(re_["employment_percentile"], errors="coerce").to_numpy(dtype="float64")
    ref_sorted = [np.sort(R[~np.isnan(R[:, j]), j]) for j in range(len(scorable))]
    allocated = pd.to_numeric(roles["employment_allocated"], errors="coerce").to_numpy(dtype="float64")
    ref_emp = [scoring.employment_reference(R[:, j], allocated) for j in range(len(scorable))]

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
        role_arrays={}, EP=EP, ref_emp=ref_emp,
    )
    outlook = _sql(conn, "select role_code, outlook, rule, reason, labelled_share, exposed_share, automatable_share, "
                         "augmented_share, average_change_pct from role_outlook order by role_code")
    if outlook["role_code"].tolist() != roles["code"].tolist():
        raise RuntimeError("role_outlook does not list exactly the roles of the roles table")
    idx.outlook_table = outlook
    idx.average_change = float(outlook["average_change_pct"].dropna().iloc[0]) if outlook["average_change_pct"].notna().any() else float("nan")
    items = _sql(conn, "select role_code, evidence, value, test, threshold, holds, decided, source from role_outlook_evidence "
                       "order by role_code, position")
    grouped: dict[str, list[dict]] = {}
    for r in items.itertuples(index=False):
        grouped.setdefault(r.role_code, []).append({
            "evidence": r.evidence, "value": None if pd.isna(r.value) else float(r.value), "test": r.test,
            "threshold": None if pd.isna(r.threshold) else float(r.threshold),
            "holds": None if pd.isna(r.holds) else bool(r.holds), "decided": bool(r.decided), "source": r.source})
    idx.outlook_evidence = [grouped.get(code, []) for code in roles["code"]]
    idx.role_arrays = role_arrays(idx)
    idx.codes = roles["code"].astype(str).tolist()
    idx.titles = roles["title"].astype(str).tolist()
    idx.minfo = {mid: {k: (None if pd.isna(v) else str(v)) for k, v in row.items()}
                 for mid, row in measures.to_dict("index").items()}
    idx.task_type = np.asarray([None if pd.isna(x) else str(x) for x in idx.task_type], dtype=object)
    idx.statements = np.asarray([str(x) for x in idx.statements], dtype=object)
    return idx


def role_arrays(idx: Index) -> dict[str, np.ndarray]:
    """Per-role task-basis scores (vectorised over all tasks) and the role_outlook table's profile and outlook."""
    n = len(idx.roles)
    tw = [idx.tcol[mid] for mid in idx.task_weighted]
    basis, _ = scoring.grouped_weighted_mean(idx.TV[:, tw], idx.task_weight, idx.task_role, n)
    o = idx.outlook_table
    out = {"basis": basis}
    for name in ("labelled_share", "exposed_share", "automatable_share", "augmented_share"):
        out[name] = pd.to_numeric(o[name], errors="coerce").to_numpy(dtype="float64")
    for name in ("outlook", "rule", "reason"):
        out[name] = o[name].to_numpy(dtype=object)
    return out


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
        from taskshift.service.suggest import unknown_measures

        levels = {w: str(idx.measures.loc[w, "level"]) for w in unknown if w in idx.measures.index}
        raise unknown_measures(field_name, unknown, idx.scorable, levels)
    return [mid for mid in idx.scorable if mid in set(wanted)]


def _role_info(idx: Index, pos: int) -> m.RoleInfo:
    hit = idx.role_infos.get(pos)
    if hit is None:
        hit = idx.role_infos[pos] = _make_role_info(idx, pos)
    return hit


def _make_role_info(idx: Index, pos: int) -> m.RoleInfo:
    r = idx.roles.iloc[pos]
    def _i(x):
        return None if pd.isna(x) else int(x)

    return m.RoleInfo(code=r["code"], title=r["title"], soc_code=r["soc_code"], major_group=r["major_group"],
                      job_zone=_i(r["job_zone"]), employment=_i(r["employment"]),
                      employment_change_pct=_f(r["employment_change_pct"]), task_count=int(r["task_count"]),
                      labor_code=None if pd.isna(r["labor_code"]) else str(r["labor_code"]),
                      roles_sharing_labor_code=_i(r["roles_sharing_labor_code"]),
                      employment_allocated=_f(r["employment_allocated"]),
                      ep_employment_2024=_i(r["ep_employment_2024"]), employment_2034=_i(r["employment_2034"]),
                      labor_year=_i(r["labor_year"]))


def _role_pos(idx: Index, code: str, field_name: str, conn: sqlite3.Connection | None = None) -> int:
    """The row of `code` in the index; else the error with what to do next (taskshift.service.suggest)."""
    pos = idx.role_pos.get(code) if isinstance(code, str) else None
    if pos is None:
        from taskshift.service.suggest import Directory, role_code_error

        by_soc: dict[str, list[str]] = {}
        for c in idx.codes:
            by_soc.setdefault(c[:7], []).append(c)
        raise role_code_error(conn, code, field_name, Directory(dict(zip(idx.codes, idx.titles)), by_soc))
    return pos


def _rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    """The rows of a query as dicts (column name -> value)."""
    cur = _q(conn, sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


class PerDatabase:
    """One value per database (`Index.key`), loaded once under a lock by `load(conn, idx)` and kept for the
    life of the process (a database's tables never change). None is a value: a database built without
    the tables the value needs."""

    def __init__(self, load):
        self._load = load
        self._values: dict[tuple, object] = {}
        self._lock = threading.Lock()

    def __call__(self, conn: sqlite3.Connection, idx: Index):
        if idx.key in self._values:
            return self._values[idx.key]
        with self._lock:
            if idx.key not in self._values:
                self._values[idx.key] = self._load(conn, idx)
        return self._values[idx.key]


def _memo(idx: Index, key, make):
    kind = key[0] if isinstance(key, tuple) and key else None
    with idx.lock:
        cache = idx.cache.get(kind)
        if cache is None:
            cache = idx.cache[kind] = OrderedDict()
        hit = cache.get(key)
        if hit is not None:
            cache.move_to_end(key)
            return hit
    value = make()
    with idx.lock:
        cache[key] = value
        while len(cache) > CACHE_LIMITS.get(kind, CACHE_SIZE):
            cache.popitem(last=False)
    return value


