"""Derive `published_figures`: the papers' headline figures recomputed beside the published values.

The published values, their quotes and sources are curated (`dataset/curated/published_figures.csv`);
this step computes `reproduced_value` (and a rank for top-occupation figures) with the methods of
the `method` column, today's employment (OEWS May 2025 via roles) and the arithmetic of
`taskshift.scoring`. Figures whose measure is not in the build (a release build leaves out
measures that may not be redistributed) are dropped.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from taskshift import scoring
from taskshift.build import curated
from taskshift.build.derive.consensus import role_weights


def reproduce(figures: pd.DataFrame, roles: pd.DataFrame, exposure: pd.DataFrame, task_exposure: pd.DataFrame | None) -> pd.DataFrame:
    weights = role_weights(roles)
    total = float(weights.sum())
    soc = roles.set_index("code")["soc_code"]
    out = figures.copy()
    values, ranks, coverage = [], [], []
    for row in figures.itertuples(index=False):
        scores = exposure.loc[exposure["measure_id"] == row.measure_id].set_index("role_code")["score"].astype("float64")
        value, rank, cov = np.nan, None, np.nan
        if row.method.startswith("worker_share_"):
            w = weights.reindex(scores.index).to_numpy(dtype="float64")
            value, base = scoring.weighted_share(scores.to_numpy(), w, float(row.threshold), row.method.rsplit("_", 1)[1])
            cov = base / total if total > 0 else np.nan
        elif row.method == "task_share_ge" and task_exposure is not None:
            v = task_exposure.loc[task_exposure["measure_id"] == row.measure_id, "value"].to_numpy(dtype="float64")
            value, _ = scoring.weighted_share(v, np.ones(len(v)), float(row.threshold), "ge")
        elif row.method == "occupation_score":
            by_soc = scores.groupby(soc.reindex(scores.index).to_numpy()).mean()
            if row.occupation_code in by_soc.index:
                own = by_soc[row.occupation_code]
                value = own * float(row.multiplier)
                rank = int((by_soc > own).sum()) + 1
        values.append(value)
        ranks.append(rank)
        coverage.append(cov)
    out["reproduced_value"] = values
    out["reproduced_rank"] = pd.array(ranks, dtype="Int64")
    out["employment_coverage"] = coverage
    out["difference"] = out["reproduced_value"] - out["published_value"]
    ok = out["difference"].abs() <= out["tolerance"] + 1e-9
    out["within_tolerance"] = ok.astype("Int64").where(out["difference"].notna())
    return out


def derive(ctx) -> None:
    exposure = ctx.frames.get("role_exposure")
    if exposure is None:
        return
    figures = curated.read("published_figures").reset_index(drop=True)
    built = set(ctx.frames["measures"]["measure_id"])
    figures = figures[figures["measure_id"].isin(built)]
    ctx.frames["published_figures"] = reproduce(figures, ctx.frames["roles"], exposure, ctx.frames.get("task_exposure"))
