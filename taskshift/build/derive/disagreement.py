"""Derive `role_disagreement`: per role, how far apart its AI-exposure measures put it.

One row per role with a score on at least one measure: how many measures (and measure families)
cover it, the measure that ranks it most exposed and the one that ranks it least exposed, with their
percentiles, and the spread between them (`scoring.percentile_spread`). Precomputed here so the
site's "Where the measures disagree most" query (`measures_disagree`) reads 1,000 rows instead of
ranking 20,000 with window functions under Datasette's time limit.
"""
from __future__ import annotations

from taskshift import scoring


def derive(ctx) -> None:
    exposure = ctx.frames["role_exposure"]
    out = scoring.percentile_spread(exposure)
    families = ctx.frames["measures"].set_index("measure_id")["family"]
    per_role = exposure.assign(family=exposure["measure_id"].map(families)).groupby("role_code")["family"].nunique()
    out["families"] = out["role_code"].map(per_role).fillna(0).astype(int)
    out["measures"] = out["measures"].astype(int)
    ctx.frames["role_disagreement"] = out[["role_code", "measures", "families", "spread", "high_percentile",
                                           "high_measure_id", "low_percentile", "low_measure_id"]]
