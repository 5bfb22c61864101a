"""Scores of a role, a custom role (tasks with time shares), a workforce, and every role at once.

Every function takes an open sqlite3 connection to a taskshift database and returns a pydantic
model of `taskshift.service.models`; all the arithmetic is in `taskshift.scoring`. The database is
immutable, so each database file is read once into an in-memory `Index` (numpy arrays of role
scores, task values, task labels and weights) and per-role results are memoised.

Rules (also returned in every response under `rules`, and in docs/api.md):

- Role: each measure's score, percentile, coverage and derivation are the role's `role_exposure`
  row. For task-level measures the response also gives `task_basis_score`: the coreweight-weighted
  mean of the task values over the role's O*NET 30.2 tasks.
- Custom role (list of tasks with time shares): for *task-weighted* measures (whose role score is
  the coreweight-weighted mean of task values: Eloundou et al. alpha/beta/gamma and GPT-4
  automation), the time-share-weighted mean of the task values, time shares playing the role of the
  weights; for every other measure (published at role level, or like Microsoft's not a mean of task
  values), the time-share-weighted mean of the scores of the roles the tasks belong to.
- Workforce: headcount-weighted mean of the role scores.
- Percentile of a custom role or a workforce: the percentile the score would have among the roles.
"""
from __future__ import annotations
from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd

from taskshift import scoring
from taskshift.service import models as m
from taskshift.service.errors import InvalidInput, NotFound, validate
from taskshift.service.index import (BASE_ROLE_MATCH_RATIO, DEFAULT_RANK_MEASURE, Index, _f, _measures, _memo,
                                     _role_info, _role_pos, index_for)
from taskshift.service.titles import match_task
from taskshift.service import consensus as _consensus
from taskshift.service import isco as _isco
from taskshift.service import observed as _observed

RULES = {
    "role": "score, percentile, coverage and derivation are the role's row of role_exposure (the published measure put on the role)",
    "task_basis_score": "coreweight-weighted mean (Core 2, Supplemental or unrated 1) of the task values over the role's "
                        "O*NET 30.2 tasks; equals score where the measure's task list is the spine's (Eloundou et al. used O*NET 27.x; see task_lists)",
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
    "outlook": f"limited: exposed_share < {scoring.EXPOSED_SHARE_MIN:g}; elimination: exposed_share >= {scoring.EXPOSED_SHARE_MIN:g}, "
               f"automatable_share >= {scoring.AUTOMATABLE_SHARE_MIN:g} and a projected decline (employment_change_pct <= "
               f"{scoring.DECLINE_MAX_PCT:g}); compression: exposed, not elimination, growth below the all-occupation average "
               "(BLS EP 2024-34); expansion: exposed and growth at or above the average; unknown: no labels. A role's label is "
               "its role_outlook row (built at build time); each test is in profile.evidence",
    "employment_change_pct": "role: BLS EP 2024-34; custom role: the base role's, else the time-share-weighted mean over the tasks' roles; "
                             "workforce: headcount-weighted mean",
    "workforce": "scores: headcount-weighted mean of the role scores; exposed_headcount: headcount in exposed roles (employment-weighted "
                 f"percentile >= {scoring.EXPOSED_PERCENTILE:g} on the measure: more exposed than {scoring.EXPOSED_PERCENTILE:g}% of US workers, "
                 "the same definition on every measure); profile: headcount-weighted role profiles",
    "employment_percentile": "more exposed than this % of US workers: OEWS May 2025 employment of roles with a lower score plus half of "
                             "those with an equal score, each OEWS code's employment split evenly over its roles (a shared code counts once); "
                             "custom role and workforce: the value the score would have",
    "labor": "role.employment is BLS OEWS May 2025 (wage and salary jobs; role.labor_year) of role.labor_code, shared by role.roles_sharing_labor_code roles; "
             "employment_change_pct, ep_employment_2024 and employment_2034 are BLS Employment Projections 2024-34 (includes self-employed)",
    "workforce_isco": "an entry with isco_code (ISCO-08, 1 to 4 digits) is spread over the roles of isco_roles, headcount x weight "
                      "(each role's share of the group's US workers): the workforce of those roles (docs/isco.md); role headcounts "
                      "may then be fractions, and headcounts shown are rounded",
    "consensus": _consensus.RULE,
    "observed_use": "role: usage-weighted shares of the Anthropic Economic Index collaboration patterns over the role's tasks "
                    "(role_collaboration): share_p = sum(usage x p) / sum(usage x (1 - filtered)); automation = directive + "
                    "feedback loop, augmentation = task iteration + validation + learning; beside it GPT-4's predicted automation "
                    "(eloundou2023_gpt4_automation). A task's observed_use is automation if at least "
                    f"{scoring.OBSERVED_AUTOMATION_MIN:g} of its classified conversations are automation patterns",
    "task_lists": "role: its tasks in each task list a measure was built on vs the O*NET 30.2 spine (role_task_changes); "
                  "weight_share_retired = share of the role's weight on the list on tasks whose Task ID the spine no longer has, "
                  "weight_share_removed = on tasks with no successor at all; a measure's weight_share_* are its list's",
    "consensus_votes": "; ".join(f"{k}: {v}" for k, v in _consensus.VOTES.items()),
}


def _profile_fields(idx: Index, es, auto, change) -> dict:
    """Outlook, rule, reason, evidence and thresholds of a profile computed at request time (custom role, workforce)."""
    es, auto, change = _f(es), _f(auto), _f(change)
    avg = _f(idx.average_change)
    ev = scoring.outlook_evidence(np.nan if es is None else es, np.nan if auto is None else auto,
                                  np.nan if change is None else change, np.nan if avg is None else avg)
    rule = str(ev["rule"][0])
    return {"outlook": str(ev["outlook"][0]), "outlook_rule": rule,
            "outlook_reason": scoring.outlook_reason(rule, es, auto, change, avg),
            "evidence": [m.OutlookEvidence(**x) for x in scoring.outlook_items(rule, es, auto, change, avg)],
            "thresholds": m.Thresholds(average_change_pct=avg)}


def _profile(idx: Index, labelled, es, auto, change) -> m.Profile:
    es, auto, change, labelled = _f(es), _f(auto), _f(change), _f(labelled)
    return m.Profile(labelled_share=labelled, exposed_share=es, automatable_share=auto,
                     augmented_share=None if auto is None else 1.0 - auto, employment_change_pct=change,
                     **_profile_fields(idx, es, auto, change))


def _role_profile(idx: Index, pos: int) -> m.Profile:
    """A role's profile and outlook: its role_outlook row and role_outlook_evidence items, as built."""
    a = idx.role_arrays
    auto = _f(a["automatable_share"][pos])
    return m.Profile(labelled_share=_f(a["labelled_share"][pos]), exposed_share=_f(a["exposed_share"][pos]),
                     automatable_share=auto, augmented_share=_f(a["augmented_share"][pos]),
                     employment_change_pct=_f(idx.change[pos]), outlook=str(a["outlook"][pos]),
                     outlook_rule=str(a["rule"][pos]), outlook_reason=str(a["reason"][pos]),
                     evidence=[m.OutlookEvidence(**x) for x in idx.outlook_evidence[pos]],
                     thresholds=m.Thresholds(average_change_pct=_f(idx.average_change)))


def _task_scores(idx: Index, rows: np.ndarray, weights: np.ndarray, value_cols: list[int],
                 matches: list[m.TaskMatch | None] | None = None, conn=None) -> list[m.TaskScore]:
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
        use, use_share, matched_by = ("none", None, None) if conn is None else _observed.task_use(conn, idx, int(idx.task_ids[row]))
        out.append(m.TaskScore.model_construct(  # trusted data from the index: no re-validation
            task_id=int(idx.task_ids[row]), role_code=idx.codes[idx.task_role[row]],
            statement=idx.statements[row], task_type=idx.task_type[row],
            weight=float(weights[k]), share=float(weights[k]) / total if total > 0 else 0.0,
            exposure_label=lab, automation_label=idx.automation_label[row], exposed=exposed, automatable=automatable,
            values=values, match=None if matches is None else matches[k],
            observed_use=use, observed_automation_share=use_share, observed_matched_by=matched_by))
    return out


def _value_cols(idx: Index, requested: list[str] | None, chosen: list[str]) -> list[int]:
    if requested is None:
        return list(range(len(idx.task_measures)))
    return [idx.tcol[mid] for mid in chosen if mid in idx.tcol]


# --- role ----------------------------------------------------------------------------------------
def score_role(conn: sqlite3.Connection, role_code: str, measures: list[str] | None = None) -> m.ScoreResponse:
    """Every measure for one role, its task breakdown and its automation vs augmentation profile."""
    idx = index_for(conn)
    chosen = _measures(idx, measures)
    pos = _role_pos(idx, role_code, "role_code", conn)
    key = ("role", role_code, None if measures is None else tuple(chosen))
    return _memo(idx, key, lambda: _score_role(idx, pos, chosen, measures, conn))


def _score_role(idx: Index, pos: int, chosen: list[str], requested, conn=None) -> m.ScoreResponse:
    basis = idx.role_arrays["basis"][pos]
    tw = {mid: j for j, mid in enumerate(idx.task_weighted)}
    lists = [] if conn is None else _observed.task_lists(conn, idx, pos)
    by_list = {t.list_id: t for t in lists}
    entries = []
    for mid in chosen:
        j = idx.col[mid]
        info = idx.minfo[mid]
        tl = by_list.get(_observed.measure_list(mid))
        entries.append(m.MeasureScore(
            measure_id=mid, title=info["title"], scale=info["scale"], direction=info["direction"],
            score=_f(idx.R[pos, j]), percentile=_f(idx.P[pos, j]), employment_percentile=_f(idx.EP[pos, j]),
            coverage=_f(idx.C[pos, j]), derivation=idx.D[pos, j],
            weight_share_retired=None if tl is None else tl.weight_share_retired,
            weight_share_removed=None if tl is None else tl.weight_share_removed,
            task_basis_score=_f(basis[tw[mid]]) if mid in tw else None))
    rows = idx.role_tasks[pos]
    profile = _role_profile(idx, pos)
    tasks = _task_scores(idx, rows, idx.task_weight[rows], _value_cols(idx, requested, chosen), conn=conn)
    return m.ScoreResponse(kind="role", role=_role_info(idx, pos), base_role=None, measures=entries,
                           profile=profile, tasks=tasks, rules=RULES,
                           consensus=None if conn is None else _consensus.role_block(conn, idx, pos),
                           observed_use=None if conn is None else _observed.role_block(conn, idx, pos),
                           task_lists=lists)


# --- custom role ---------------------------------------------------------------------------------

def score_custom(conn: sqlite3.Connection, request: m.CustomRoleRequest | dict | bytes | str) -> m.ScoreResponse:
    """A custom role (tasks with time shares): the same output as score_role."""
    req = validate(m.CustomRoleRequest, request)
    idx = index_for(conn)
    chosen = _measures(idx, req.measures)
    base = None if req.base_role is None else _role_pos(idx, req.base_role, "base_role", conn)
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
    profile = _profile(idx, prof["labelled_share"][0], prof["exposed_share"][0], prof["automatable_share"][0], change)
    tasks = _task_scores(idx, rows, w, _value_cols(idx, req.measures, chosen), matches, conn=conn)
    fam = _consensus.families(conn, idx)
    block = None
    if fam is not None:  # the consensus uses every family's measure, whichever measures were asked for
        extra = [mid for mid in idx.scorable if mid in set(fam.measure) and mid not in set(chosen)]
        pct = {e.measure_id: e.percentile for e in entries}
        pct.update({e.measure_id: e.percentile for e in _bundle_measures(idx, rows, w, extra, base)} if extra else {})
        block = _consensus.custom_block(conn, idx, pct)
    return m.ScoreResponse(kind="custom", role=None, base_role=None if base is None else _role_info(idx, base),
                           measures=entries, profile=profile, tasks=tasks, rules=RULES, consensus=block)


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
        emp_pct = scoring.employment_percentile_of(score, idx.ref_emp[j])[0]
        out.append(m.MeasureScore.model_construct(
            measure_id=mid, title=info["title"], scale=info["scale"], direction=info["direction"],
            score=_f(score), percentile=_f(pct), employment_percentile=_f(emp_pct), coverage=_f(coverage),
            derivation=how, task_basis_score=None,
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
    heads: dict[int, float] = {}
    isco_used = []
    for i, e in enumerate(req.roles):
        if e.isco_code is not None:  # an ISCO-08 group: its roles, headcount x weight (taskshift.service.isco)
            rows, counts, used = _isco.headcounts(conn, idx, e.isco_code, e.headcount, f"roles.{i}.isco_code")
            isco_used.append(used)
            for p, n in zip(rows.tolist(), counts.tolist()):
                heads[p] = heads.get(p, 0) + n
            continue
        pos = _role_pos(idx, e.role_code, f"roles.{i}.role_code", conn)
        heads[pos] = heads.get(pos, 0) + e.headcount
    pos = np.fromiter(heads, dtype="int64")
    h = np.fromiter(heads.values(), dtype="float64")
    cols = [idx.col[x] for x in chosen]
    s, c = scoring.grouped_weighted_mean(idx.R[np.ix_(pos, cols)], h)
    pcts = scoring.percentile_of_each(s[0], [idx.ref_sorted[j] for j in cols])
    entries = []
    for k, mid in enumerate(chosen):
        j = idx.col[mid]
        emp_pct = idx.EP[pos, j]
        scored = ~np.isnan(idx.R[pos, j])
        exposed = int(round(h[scored & (emp_pct >= scoring.EXPOSED_PERCENTILE)].sum()))
        base = h[scored].sum()
        entries.append(m.WorkforceMeasure(
            measure_id=mid, title=idx.minfo[mid]["title"], score=_f(s[0, k]),
            percentile=_f(pcts[k]), employment_percentile=_f(scoring.employment_percentile_of(s[0, k], idx.ref_emp[j])[0]),
            coverage=_f(c[0, k]),
            exposed_headcount=exposed, exposed_share=_f(exposed / base) if base > 0 else None))
    a = idx.role_arrays
    es_roles, auto_roles = a["exposed_share"][pos], a["automatable_share"][pos]
    es = scoring.grouped_weighted_mean(es_roles, h)[0][0]
    auto = scoring.grouped_weighted_mean(auto_roles, h * np.nan_to_num(es_roles))[0][0]
    change = scoring.grouped_weighted_mean(idx.change[pos], h)[0][0]
    by_outlook = {o: 0.0 for o in scoring.OUTLOOKS}
    for o, n in zip(a["outlook"][pos], h):
        by_outlook[o] += n
    by_outlook = {o: int(round(n)) for o, n in by_outlook.items()}
    es_f, auto_f, change_f = _f(es), _f(auto), _f(change)
    profile = m.WorkforceProfile(exposed_share=es_f, automatable_share=auto_f,
                                 augmented_share=None if auto_f is None else 1.0 - auto_f,
                                 employment_change_pct=change_f, headcount_by_outlook=by_outlook,
                                 **_profile_fields(idx, es_f, auto_f, change_f))
    j = idx.col[rank_by]
    pct = idx.P[pos, j]
    order = sorted(range(len(pos)), key=lambda k: (np.isnan(pct[k]), -np.nan_to_num(pct[k]), -h[k], idx.codes[pos[k]]))
    top = [m.WorkforceRole(role_code=idx.codes[pos[k]], title=idx.titles[pos[k]], headcount=int(round(h[k])),
                           score=_f(idx.R[pos[k], j]), percentile=_f(pct[k]), exposed_share=_f(es_roles[k]),
                           automatable_share=_f(auto_roles[k]), outlook=a["outlook"][pos[k]])
           for k in order[:req.top]]
    return m.WorkforceResponse(headcount=sum(e.headcount for e in req.roles), roles=len(pos), rank_by=rank_by, measures=entries,
                               profile=profile, most_exposed=top, rules=RULES,
                               consensus=_consensus.workforce_block(conn, idx, pos, h), isco=isco_used)


# --- every role at once (the library's vectorised path) --------------------------------------------
def score_all(conn: sqlite3.Connection, measures: list[str] | None = None) -> pd.DataFrame:
    """Every role on every measure in one long frame, computed vectorised (no per-role loop).

    Columns: role_code, measure_id, score, percentile, employment_percentile, coverage, derivation, task_basis_score and the
    role's profile (labelled_share, exposed_share, automatable_share, augmented_share,
    employment_change_pct, outlook). The numbers are those of score_role.
    """
    idx = index_for(conn)
    chosen = _measures(idx, measures)
    arrays = idx.role_arrays
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
        "employment_percentile": idx.EP[:, cols].ravel(),
        "coverage": idx.C[:, cols].ravel(),
        "derivation": idx.D[:, cols].ravel(),
        "task_basis_score": basis.ravel(),
    })
    for name in ("labelled_share", "exposed_share", "automatable_share", "augmented_share", "outlook"):
        frame[name] = np.repeat(arrays[name], k)
    frame["outlook_rule"] = np.repeat(arrays["rule"], k)
    frame["employment_change_pct"] = np.repeat(idx.change, k)
    return frame


