"""Transitions between roles: the `transitions` table, one row per O*NET Related Occupations pair, with
everything that decides whether and where the pair is offered as a pivot.

Per pair: the O*NET tier and rank; the detailed work activities (DWAs) the two roles share through
their tasks (tasks -> task_activities), their Jaccard similarity and the share of the target's DWAs
the source already does (`target_overlap`); the change in the headline exposure measure, job zone and
median wage; the BLS EP 2024-34 employment change of both roles and the target's outlook
(`role_outlook`); then the verdict: `excluded_by` (why the pair is never offered: the target is not
less exposed, is labelled elimination, or BLS projects it to shrink faster than the source; null if
it may be), `priority` (1 = target not projected to shrink and shares work activities .. 4) and
`pivot_score` = fit x (1 + exposure drop) / 2 (`scoring.transition_score`; fit = mean of O*NET
relatedness and target_overlap, so the work a worker already does comes first).

Headline measure: `eloundou2023_gpt4_beta` (Eloundou et al. GPT-4 beta), native on O*NET-SOC 2019
codes, covering the 923 roles with O*NET task data. Deltas are target minus source.

`taskshift.service.transitions.rank_transitions` applies the same rules on any measure with role
scores, adds the job-zone limit of the request, orders by (priority, pivot_score) and lists the
reskilling gap: the target's DWAs the source lacks (most frequent in the target's tasks first) and
the technologies the target's workers use that the source's do not (O*NET In Demand and Hot
Technologies first, then the most widely used).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from taskshift import scoring

from taskshift.scoring import HEADLINE_MEASURE


# --- the table (a derive step of the build) ---------------------------------------------------------
def role_dwas(tasks: pd.DataFrame, task_activities: pd.DataFrame) -> pd.DataFrame:
    """Distinct (role_code, dwa_id) pairs: the DWAs of a role's tasks."""
    links = task_activities.merge(tasks[["task_id", "role_code"]], on="task_id")
    return links[["role_code", "dwa_id"]].drop_duplicates()


def transitions_table(relations: pd.DataFrame, roles: pd.DataFrame, dwas: pd.DataFrame,
                      exposure: pd.DataFrame, outlook: pd.DataFrame | None = None,
                      measure_id: str = HEADLINE_MEASURE) -> pd.DataFrame:
    out = relations.rename(columns={"role_code": "from_code", "related_code": "to_code"})[
        ["from_code", "to_code", "tier", "rank"]].copy()
    size = dwas.groupby("role_code").size()
    shared = (dwas.rename(columns={"role_code": "from_code"})
              .merge(dwas.rename(columns={"role_code": "to_code"}), on="dwa_id")
              .groupby(["from_code", "to_code"]).size().rename("shared_dwas").reset_index())
    out = out.merge(shared, on=["from_code", "to_code"], how="left")
    out["shared_dwas"] = out["shared_dwas"].fillna(0).astype(int)
    out["from_dwas"] = out["from_code"].map(size).fillna(0).astype(int)
    out["to_dwas"] = out["to_code"].map(size).fillna(0).astype(int)
    out["dwa_jaccard"] = scoring.jaccard(out["shared_dwas"], out["from_dwas"], out["to_dwas"])
    with np.errstate(invalid="ignore", divide="ignore"):
        out["target_overlap"] = np.where(out["to_dwas"] > 0, out["shared_dwas"] / out["to_dwas"].where(out["to_dwas"] > 0, 1), np.nan)

    head = exposure[exposure["measure_id"] == measure_id].set_index("role_code")
    out["measure_id"] = measure_id
    for side in ("from", "to"):
        out[f"{side}_score"] = out[f"{side}_code"].map(head["score"])
        out[f"{side}_percentile"] = out[f"{side}_code"].map(head["percentile"])
    out["score_delta"] = out["to_score"] - out["from_score"]
    out["percentile_delta"] = out["to_percentile"] - out["from_percentile"]

    info = roles.set_index("code")
    for side in ("from", "to"):
        out[f"{side}_job_zone"] = out[f"{side}_code"].map(info["job_zone"]).astype("Int64")
        out[f"{side}_median_wage"] = out[f"{side}_code"].map(info["median_wage"]).astype("Int64")
    out["job_zone_step"] = (out["to_job_zone"] - out["from_job_zone"]).astype("Int64")
    out["wage_delta"] = (out["to_median_wage"] - out["from_median_wage"]).astype("Int64")
    for side in ("from", "to"):
        out[f"{side}_change_pct"] = out[f"{side}_code"].map(info["employment_change_pct"]).astype("float64")
    out["change_delta"] = out["to_change_pct"] - out["from_change_pct"]
    out["to_outlook"] = out["to_code"].map(outlook.set_index("role_code")["outlook"]) if outlook is not None else None
    out["excluded_by"] = scoring.pivot_exclusion(out["percentile_delta"], out["to_outlook"], out["from_change_pct"],
                                                 out["to_change_pct"])
    out["priority"] = pd.array(np.where(out["excluded_by"].isna(), scoring.pivot_priority(out["to_change_pct"],
                                                                                          out["shared_dwas"],
                                                                                          out["percentile_delta"]), None),
                               dtype="Int64")
    out["fit"] = scoring.pivot_fit(out["rank"], out["target_overlap"])
    score = scoring.transition_score(out["percentile_delta"], out["rank"], out["target_overlap"])
    out["pivot_score"] = np.where(out["percentile_delta"].notna(), score, np.nan)
    columns = ["from_code", "to_code", "tier", "rank", "from_dwas", "to_dwas", "shared_dwas", "dwa_jaccard",
               "target_overlap", "measure_id", "from_score", "to_score", "score_delta", "from_percentile",
               "to_percentile", "percentile_delta", "from_job_zone", "to_job_zone", "job_zone_step",
               "from_median_wage", "to_median_wage", "wage_delta", "from_change_pct", "to_change_pct", "change_delta",
               "to_outlook", "excluded_by", "priority", "fit", "pivot_score"]
    return out[columns].sort_values(["from_code", "rank"], ignore_index=True)


def derive(ctx) -> None:
    if "role_relations" not in ctx.frames:
        return
    exposure = ctx.frames.get("role_exposure", pd.DataFrame(columns=["role_code", "measure_id", "score", "percentile"]))
    dwas = role_dwas(ctx.frames["tasks"], ctx.frames["task_activities"])
    table = transitions_table(ctx.frames["role_relations"], ctx.frames["roles"], dwas, exposure,
                              ctx.frames.get("role_outlook"))
    ctx.frames["transitions"] = table
    ctx.note("transitions_method", {
        "headline_measure": HEADLINE_MEASURE,
        "dwa_overlap": "DWAs of a role = the DWAs linked to its O*NET 30.2 tasks; dwa_jaccard = shared / union; target_overlap = shared / the target's DWAs",
        "deltas": "target minus source (negative percentile_delta: the target is less exposed)",
        "fit": scoring.pivot_fit.__doc__.split("\n\n")[1].strip(),
        "pivot_score": scoring.transition_score.__doc__.split("\n\n")[1].strip(),
        "excluded_by": scoring.PIVOT_EXCLUSIONS,
        "shrinking": f"BLS EP 2024-34 employment change <= {scoring.DECLINE_MAX_PCT:g}%",
        "clearly_less_exposed_pct_points": scoring.PIVOT_MIN_DROP,
        "priority": {str(k): v for k, v in scoring.PIVOT_PRIORITIES.items()},
        "counts": {"pairs": int(len(table)),
                   "offered": int(table["excluded_by"].isna().sum()),
                   **{k: int((table["excluded_by"] == k).sum()) for k in scoring.PIVOT_EXCLUSIONS}},
    }, "how the transitions table and rank_transitions compare two related roles and which pairs are offered as pivots")
