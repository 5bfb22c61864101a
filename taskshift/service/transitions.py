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

    Never into a role labelled elimination or one BLS projects to shrink faster than the source
    (`scoring.pivot_exclusion`); with less_exposed_only (default) only to roles less exposed on
    `measure` (default `HEADLINE_MEASURE`); at most `max_job_zone_step` job zones more demanding
    (None: no limit; targets without a job zone are kept only when None). Ordered by
    `scoring.pivot_priority` (targets not projected to shrink and sharing work activities first),
    then `scoring.transition_score` (fit first: O*NET relatedness and the share of the target's
    activities the worker already does; the exposure drop scales it by 0.5..1). Raises LookupError
    for an unknown role and ValueError for an unknown measure or a bad argument.
    """
    measure = measure or HEADLINE_MEASURE
    if limit < 1 or gap_limit < 0:
        raise ValueError("limit must be >= 1 and gap_limit >= 0")
    role = conn.execute("select r.code, r.title, r.job_zone, r.median_wage, r.employment_change_pct, o.outlook "
                        "from roles r left join role_outlook o on o.role_code = r.code where r.code = ?",
                        (role_code,)).fetchone()
    if role is None:
        raise LookupError(f"unknown role {role_code!r}: not an O*NET-SOC 2019 code of the roles table (e.g. 43-4051.00)")
    known = _measures(conn)
    if measure not in known:
        raise ValueError(f"unknown measure {measure!r}: measures with role scores are {', '.join(known)}")
    own = conn.execute("select score, percentile from role_exposure where role_code = ? and measure_id = ?",
                       (role_code, measure)).fetchone()
    rows = pd.read_sql_query(
        """select t.to_code, r.title as to_title, t.tier, t.rank as related_rank, t.shared_dwas, t.dwa_jaccard,
                  t.target_overlap, r.job_zone, r.median_wage, r.employment_change_pct as to_change_pct,
                  o.outlook as to_outlook, e.score, e.percentile
           from transitions t join roles r on r.code = t.to_code
           left join role_outlook o on o.role_code = t.to_code
           left join role_exposure e on e.role_code = t.to_code and e.measure_id = ?
           where t.from_code = ? order by t.rank""", conn, params=(measure, role_code))
    related = len(rows)
    score, pct = (own if own else (None, None))
    from_change = role[4]
    method = (f"never into a role labelled elimination or projected (BLS EP 2024-34) to shrink faster than the source "
              f"(change <= {scoring.DECLINE_MAX_PCT:g}% and below the source's); only to roles less exposed on {measure}; "
              "ordered by priority (1 target not projected to shrink and sharing work activities, 2 not shrinking, no "
              f"shared activity, 3 and 4 the same for targets shrinking slower than the source, 5 less exposed by under "
              f"{scoring.PIVOT_MIN_DROP:g} percentile points), then pivot_score = fit x "
              "(1 + exposure drop)/2, fit = (relatedness + target_overlap)/2, relatedness = (21 - O*NET rank)/20, "
              "drop = -percentile_delta/100; gaps: target DWAs the source lacks (most frequent in the target's tasks first) "
              "and technologies (O*NET In Demand, then Hot, then the most widely used)")
    rows["percentile_delta"] = rows["percentile"] - pct if own else np.nan
    rows["score_delta"] = rows["score"] - score if own else np.nan
    rows["job_zone_step"] = (rows["job_zone"] - role[2]) if role[2] is not None else np.nan
    from_change_arr = np.full(len(rows), np.nan if from_change is None else float(from_change))
    rows["excluded_by"] = scoring.pivot_exclusion(rows["percentile_delta"], rows["to_outlook"], from_change_arr,
                                                  rows["to_change_pct"]) if len(rows) else pd.Series([], dtype=object)
    if not less_exposed_only:  # keep targets that are not less exposed (still never elimination or shrinking faster)
        rows.loc[rows["excluded_by"] == "not_less_exposed", "excluded_by"] = None
    excluded = {k: int((rows["excluded_by"] == k).sum()) for k in scoring.PIVOT_EXCLUSIONS}
    rows = rows[rows["excluded_by"].isna()].copy()
    if max_job_zone_step is not None:
        keep = rows["job_zone_step"].notna() & (rows["job_zone_step"] <= max_job_zone_step)
        excluded["job_zone_step"] = int((~keep).sum())
        rows = rows[keep]
    rows["priority"] = (scoring.pivot_priority(rows["to_change_pct"], rows["shared_dwas"],
                                               rows["percentile_delta"] if less_exposed_only else None)
                        if len(rows) else [])
    rows["fit"] = scoring.pivot_fit(rows["related_rank"], rows["target_overlap"]) if len(rows) else []
    rows["pivot_score"] = (scoring.transition_score(rows["percentile_delta"], rows["related_rank"], rows["target_overlap"])
                           if len(rows) else [])
    rows = rows.sort_values(["priority", "pivot_score", "related_rank", "to_code"], ascending=[True, False, True, True],
                            kind="stable")
    candidates = len(rows)
    pivots = []
    for i, r in enumerate(rows.head(limit).itertuples(index=False), start=1):
        dwa_total, dwas = activity_gap(conn, role_code, r.to_code, gap_limit)
        tech_total, tech = technology_gap(conn, role_code, r.to_code, gap_limit)
        pivots.append(Pivot(
            rank=i, to_code=r.to_code, to_title=r.to_title, tier=r.tier, related_rank=int(r.related_rank),
            priority=int(r.priority), priority_reason=scoring.PIVOT_PRIORITIES[int(r.priority)],
            pivot_score=float(r.pivot_score), fit=float(r.fit), score=float(r.score), percentile=float(r.percentile),
            score_delta=float(r.score_delta), percentile_delta=float(r.percentile_delta),
            job_zone=_int(r.job_zone), job_zone_step=_int(r.job_zone_step), median_wage=_int(r.median_wage),
            wage_delta=_int(r.median_wage - role[3]) if role[3] is not None and not pd.isna(r.median_wage) else None,
            employment_change_pct=_float(r.to_change_pct),
            change_delta=_float(r.to_change_pct - from_change) if from_change is not None else None,
            outlook=r.to_outlook, checks=_checks(r, measure, pct, from_change, max_job_zone_step),
            shared_dwas=int(r.shared_dwas), dwa_jaccard=_float(r.dwa_jaccard), target_overlap=_float(r.target_overlap),
            missing_dwas_total=dwa_total, missing_dwas=dwas, missing_technologies_total=tech_total, missing_technologies=tech))
    return Transitions(role_code=role[0], role_title=role[1], measure_id=measure, score=score, percentile=pct,
                       job_zone=role[2], median_wage=role[3], employment_change_pct=_float(from_change), outlook=role[5],
                       max_job_zone_step=max_job_zone_step, related_roles=related, candidates=candidates,
                       excluded=excluded, method=method, pivots=pivots)


def _checks(r, measure: str, pct, from_change, max_step) -> list[str]:
    """Why a pivot passed the filters, in words with the figures."""
    out = [f"less exposed on {measure}: percentile {r.percentile:.0f} vs {pct:.0f} ({r.percentile_delta:+.0f})"
           if r.percentile_delta < 0 else f"not less exposed on {measure} ({r.percentile_delta:+.0f}), kept on request"]
    out.append(f"target outlook {r.to_outlook}, not elimination")
    change = "no projection" if pd.isna(r.to_change_pct) else f"{r.to_change_pct:+.1f}%"
    src = "no projection" if from_change is None else f"{from_change:+.1f}%"
    if pd.isna(r.to_change_pct) or r.to_change_pct > scoring.DECLINE_MAX_PCT:
        out.append(f"target not projected to shrink: {change} (source {src}, BLS EP 2024-34)")
    else:
        out.append(f"target projected to shrink {change}, but not faster than the source ({src})")
    if max_step is not None:
        out.append(f"job zone step {_int(r.job_zone_step):+d} <= {max_step}")
    out.append(f"O*NET related rank {int(r.related_rank)} ({r.tier}); shares {int(r.shared_dwas)} work activities "
               f"({0 if pd.isna(r.target_overlap) else r.target_overlap:.0%} of the target's)")
    return out


def activity_gap(conn: sqlite3.Connection, source: str, target: str, limit: int = GAP_LIMIT) -> tuple[int, list[ActivityGap]]:
    """DWAs of the target role's tasks that none of the source role's tasks involve, most used first
    (tasks involving it; Core tasks count twice in the tie-break)."""
    rows = conn.execute(
        """select ta.dwa_id, wa.title, count(distinct t.task_id) as n,
                  sum(case t.task_type when 'Core' then 2 else 1 end) as w
           from tasks t join task_activities ta on ta.task_id = t.task_id
           join work_activities wa on wa.activity_id = ta.dwa_id
           where t.role_code = ? and ta.dwa_id not in (
               select ta2.dwa_id from tasks t2 join task_activities ta2 on ta2.task_id = t2.task_id where t2.role_code = ?)
           group by ta.dwa_id, wa.title order by n desc, w desc, wa.title, ta.dwa_id""", (target, source)).fetchall()
    return len(rows), [ActivityGap(dwa_id=d, title=t, target_tasks=n) for d, t, n, _w in rows[:limit]]


def _products_roles(conn: sqlite3.Connection) -> dict[str, int]:
    """How many O*NET roles list each technology product (read once per database)."""
    from taskshift.service.index import _memo, _q, index_for

    idx = index_for(conn)
    return _memo(idx, ("technology_roles",), lambda: dict(
        _q(conn, "select example, count(distinct role_code) from technology_skills group by example").fetchall()))


def technology_gap(conn: sqlite3.Connection, source: str, target: str, limit: int = GAP_LIMIT) -> tuple[int, list[TechnologyGap]]:
    """Technologies the target role's workers use that the source role does not list.

    What the target's people commonly use first: O*NET In Demand (frequent in the target
    occupation's job postings), then Hot Technologies (frequent across postings), then products of a
    kind the source does not use at all (a new commodity class), then the most widely used (the number
    of O*NET roles that list the product), then the name.
    """
    src = conn.execute("select example, commodity_code from technology_skills where role_code = ?", (source,)).fetchall()
    have = {e for e, _ in src}
    kinds = {c for _, c in src}
    n_roles = _products_roles(conn)
    rows = [(e, t, c, bool(h), bool(d)) for e, t, c, h, d in conn.execute(
        "select example, commodity_title, commodity_code, hot_technology, in_demand from technology_skills where role_code = ?",
        (target,)) if e not in have]
    rows.sort(key=lambda r: (not r[4], not r[3], r[2] in kinds, -n_roles.get(r[0], 0), r[0]))
    return len(rows), [TechnologyGap(example=e, commodity_title=t, hot_technology=h, in_demand=d,
                                     roles_listing=n_roles.get(e, 0), new_kind=c not in kinds)
                       for e, t, c, h, d in rows[:limit]]


def _int(v):
    return None if v is None or pd.isna(v) else int(v)


def _float(v):
    return None if v is None or pd.isna(v) else float(v)
