"""Pivots: related, less exposed roles to move to from a role, each with its reskilling gap.

Reads the `transitions` table that `taskshift.build.derive.pathways` builds; the ranking formula is
`taskshift.scoring.transition_score`.
"""
from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd

from taskshift import scoring
from taskshift.scoring import HEADLINE_MEASURE
from taskshift.service import models as m
from taskshift.service.errors import InvalidInput, NotFound, validate
from taskshift.service.models import ActivityGap, Pivot, TechnologyGap, Transitions

DEFAULT_LIMIT = 10
GAP_LIMIT = 10  # DWAs and technologies listed per pivot (the totals are always given)


def transitions(conn: sqlite3.Connection, role_code: str, measure: str | None = None,
                max_job_zone_step: int = 1, limit: int = 10):
    """Related, less exposed roles to move to from `role_code`, with the reskilling gap
    (`rank_transitions`); errors name the field, as everywhere in the API."""
    from taskshift.service.suggest import check_role_code, unknown_measures

    q = validate(m.TransitionsQuery, {"measure": measure, "max_job_zone_step": max_job_zone_step, "limit": limit})
    check_role_code(conn, role_code, "role_code")  # the same errors and suggestions as the score endpoints
    if q.measure is not None:
        known = _measures(conn)
        if q.measure not in known:
            raise unknown_measures("measure", [q.measure], known)
    try:
        return rank_transitions(conn, role_code, measure=q.measure, max_job_zone_step=q.max_job_zone_step, limit=q.limit)
    except LookupError as err:
        raise NotFound("role_code", str(err), "unknown_role") from None
    except ValueError as err:
        raise InvalidInput("measure", str(err), "unknown_measure") from None



def _measures(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("select distinct measure_id from role_exposure order by 1")]


def rank_transitions(conn: sqlite3.Connection, role_code: str, measure: str | None = None,
                     max_job_zone_step: int | None = 1, limit: int = DEFAULT_LIMIT,
                     less_exposed_only: bool = True, gap_limit: int = GAP_LIMIT) -> Transitions:
    """Rank the O*NET related roles of `role_code` as pivots to less exposed work.

    measure: a measure_id with role scores (default `HEADLINE_MEASURE`); max_job_zone_step: keep
    targets at most this many job zones above the source (None: no limit; targets without a job
    zone are kept only when None); limit: pivots returned; less_exposed_only: keep only targets
    whose percentile is lower than the source's. Raises LookupError for an unknown role and
    ValueError for an unknown measure or a bad argument.
    """
    measure = measure or HEADLINE_MEASURE
    if limit < 1 or gap_limit < 0:
        raise ValueError("limit must be >= 1 and gap_limit >= 0")
    role = conn.execute("select code, title, job_zone, median_wage from roles where code = ?", (role_code,)).fetchone()
    if role is None:
        raise LookupError(f"unknown role {role_code!r}: not an O*NET-SOC 2019 code of the roles table (e.g. 43-4051.00)")
    known = _measures(conn)
    if measure not in known:
        raise ValueError(f"unknown measure {measure!r}: measures with role scores are {', '.join(known)}")
    own = conn.execute("select score, percentile from role_exposure where role_code = ? and measure_id = ?",
                       (role_code, measure)).fetchone()
    rows = pd.read_sql_query(
        """select t.to_code, r.title as to_title, t.tier, t.rank as related_rank, t.shared_dwas, t.dwa_jaccard,
                  t.target_overlap, r.job_zone, r.median_wage, e.score, e.percentile
           from transitions t join roles r on r.code = t.to_code
           left join role_exposure e on e.role_code = t.to_code and e.measure_id = ?
           where t.from_code = ? order by t.rank""", conn, params=(measure, role_code))
    related = len(rows)
    score, pct = (own if own else (None, None))
    method = (f"pivot_score = exposure drop x fit on {measure}: drop = -percentile_delta/100, fit = "
              "(relatedness + target_overlap)/2, relatedness = (21 - O*NET rank)/20; "
              "gaps: target DWAs and technologies the source lacks (hot technologies first)")
    if own is None:
        rows = rows.iloc[0:0]
    rows = rows[rows["score"].notna()].copy()
    rows["percentile_delta"] = rows["percentile"] - pct if own else np.nan
    rows["score_delta"] = rows["score"] - score if own else np.nan
    rows["job_zone_step"] = (rows["job_zone"] - role[2]) if role[2] is not None else np.nan
    if max_job_zone_step is not None:
        rows = rows[rows["job_zone_step"].notna() & (rows["job_zone_step"] <= max_job_zone_step)]
    if less_exposed_only:
        rows = rows[rows["percentile_delta"] < 0]
    rows["pivot_score"] = scoring.transition_score(rows["percentile_delta"], rows["related_rank"], rows["target_overlap"])
    rows = rows.sort_values(["pivot_score", "related_rank", "to_code"], ascending=[False, True, True], kind="stable")
    candidates = len(rows)
    pivots = []
    for i, r in enumerate(rows.head(limit).itertuples(index=False), start=1):
        dwa_total, dwas = activity_gap(conn, role_code, r.to_code, gap_limit)
        tech_total, tech = technology_gap(conn, role_code, r.to_code, gap_limit)
        pivots.append(Pivot(
            rank=i, to_code=r.to_code, to_title=r.to_title, tier=r.tier, related_rank=int(r.related_rank),
            pivot_score=float(r.pivot_score), score=float(r.score), percentile=float(r.percentile),
            score_delta=float(r.score_delta), percentile_delta=float(r.percentile_delta),
            job_zone=_int(r.job_zone), job_zone_step=_int(r.job_zone_step), median_wage=_int(r.median_wage),
            wage_delta=_int(r.median_wage - role[3]) if role[3] is not None and not pd.isna(r.median_wage) else None,
            shared_dwas=int(r.shared_dwas), dwa_jaccard=_float(r.dwa_jaccard), target_overlap=_float(r.target_overlap),
            missing_dwas_total=dwa_total, missing_dwas=dwas, missing_technologies_total=tech_total, missing_technologies=tech))
    return Transitions(role_code=role[0], role_title=role[1], measure_id=measure, score=score, percentile=pct,
                       job_zone=role[2], median_wage=role[3], max_job_zone_step=max_job_zone_step,
                       related_roles=related, candidates=candidates, method=method, pivots=pivots)


def activity_gap(conn: sqlite3.Connection, source: str, target: str, limit: int = GAP_LIMIT) -> tuple[int, list[ActivityGap]]:
    """DWAs of the target role's tasks that none of the source role's tasks involve, most used first."""
    rows = conn.execute(
        """select ta.dwa_id, wa.title, count(distinct t.task_id) as n
           from tasks t join task_activities ta on ta.task_id = t.task_id
           join work_activities wa on wa.activity_id = ta.dwa_id
           where t.role_code = ? and ta.dwa_id not in (
               select ta2.dwa_id from tasks t2 join task_activities ta2 on ta2.task_id = t2.task_id where t2.role_code = ?)
           group by ta.dwa_id, wa.title order by n desc, wa.title, ta.dwa_id""", (target, source)).fetchall()
    return len(rows), [ActivityGap(dwa_id=d, title=t, target_tasks=n) for d, t, n in rows[:limit]]


def technology_gap(conn: sqlite3.Connection, source: str, target: str, limit: int = GAP_LIMIT) -> tuple[int, list[TechnologyGap]]:
    """Technology skills (products) of the target role that the source role does not list: hot first."""
    rows = conn.execute(
        """select example, commodity_title, hot_technology, in_demand from technology_skills
           where role_code = ? and example not in (select example from technology_skills where role_code = ?)
           order by hot_technology desc, in_demand desc, example""", (target, source)).fetchall()
    return len(rows), [TechnologyGap(example=e, commodity_title=c, hot_technology=bool(h), in_demand=bool(d))
                       for e, c, h, d in rows[:limit]]


def _int(v):
    return None if v is None or pd.isna(v) else int(v)


def _float(v):
    return None if v is None or pd.isna(v) else float(v)
