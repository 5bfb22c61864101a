"""Transitions between roles: the `transitions` table and `rank_transitions`, the ranked pivots from
an exposed role to related, less exposed ones with the reskilling gap of each.

`transitions` (built here, one row per O*NET Related Occupations pair): the O*NET tier and rank,
the detailed work activities (DWAs) the two roles share (through their tasks: tasks ->
task_activities), their Jaccard similarity and the share of the target's DWAs the source already
does, and the change in the headline exposure measure, job zone and median wage.

Headline measure: `eloundou2023_gpt4_beta` (Eloundou et al. GPT-4 beta: core-weighted share of a
role's tasks exposed to LLMs, E1 + 0.5 x E2): published natively on O*NET-SOC 2019 codes (no
crosswalk), covers the 923 roles with O*NET task data, redistributable (MIT), and the measure the
scoring API ranks by. Deltas are target minus source: a negative percentile_delta is a pivot to a
less exposed role.

`taskshift.service.transitions.rank_transitions` ranks the related roles of a role that are
less exposed on a measure (default the headline) and at most `max_job_zone_step` job zones more
demanding, by `scoring.transition_score` = exposure drop x fit (fit = mean of O*NET relatedness and
the share of the target's DWAs the source already does). Each pivot lists the reskilling gap: the
target's DWAs the source role lacks (most frequent in the target's tasks first) and the technology
skills the target uses that the source does not (O*NET Hot Technologies first, then In Demand).
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
                      exposure: pd.DataFrame, measure_id: str = HEADLINE_MEASURE) -> pd.DataFrame:
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
    score = scoring.transition_score(out["percentile_delta"], out["rank"], out["target_overlap"])
    out["pivot_score"] = np.where(out["percentile_delta"].notna(), score, np.nan)
    columns = ["from_code", "to_code", "tier", "rank", "from_dwas", "to_dwas", "shared_dwas", "dwa_jaccard",
               "target_overlap", "measure_id", "from_score", "to_score", "score_delta", "from_percentile",
               "to_percentile", "percentile_delta", "from_job_zone", "to_job_zone", "job_zone_step",
               "from_median_wage", "to_median_wage", "wage_delta", "pivot_score"]
    return out[columns].sort_values(["from_code", "rank"], ignore_index=True)


def derive(ctx) -> None:
    if "role_relations" not in ctx.frames:
        return
    exposure = ctx.frames.get("role_exposure", pd.DataFrame(columns=["role_code", "measure_id", "score", "percentile"]))
    dwas = role_dwas(ctx.frames["tasks"], ctx.frames["task_activities"])
    ctx.frames["transitions"] = transitions_table(ctx.frames["role_relations"], ctx.frames["roles"], dwas, exposure)
    ctx.note("transitions_method", {
        "headline_measure": HEADLINE_MEASURE,
        "dwa_overlap": "DWAs of a role = the DWAs linked to its O*NET 29.3 tasks; dwa_jaccard = shared / union; target_overlap = shared / the target's DWAs",
        "deltas": "target minus source (negative percentile_delta: the target is less exposed)",
        "pivot_score": scoring.transition_score.__doc__.split("\n\n")[1].strip(),
    }, "how the transitions table and rank_transitions compare two related roles")
