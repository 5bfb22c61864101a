"""Derive `roles`: one row per O*NET-SOC occupation with its SOC 2018 groups and labour figures.

Labour figures are published per OEWS code (a SOC 2018 detailed code, or an aggregate of several):
roles.soc_code -> oews_codes -> labor_stats. They belong to that code and are repeated on every role
under it; `roles_sharing_labor_code` says how many roles share them, so nobody sums them by mistake.
"""
from __future__ import annotations

import pandas as pd

LABOR_COLUMNS = {
    "employment": "employment",
    "mean_wage": "mean_wage",
    "median_wage": "median_wage",
    "wage_flag": "wage_flag",
    "ep_employment_2034": "employment_2034",
    "ep_change_pct": "employment_change_pct",
    "ep_openings": "annual_openings",
    "education": "typical_education",
}


def soc_parents(soc_groups: pd.DataFrame) -> pd.DataFrame:
    """For each detailed SOC code: its broad, minor and major group, from the official hierarchy."""
    parent = soc_groups.set_index("code")["parent_code"]
    detailed = soc_groups.loc[soc_groups["level"] == "detailed", ["code"]].rename(columns={"code": "soc_code"})
    detailed["broad_group"] = detailed["soc_code"].map(parent)
    detailed["minor_group"] = detailed["broad_group"].map(parent)
    detailed["major_group"] = detailed["minor_group"].map(parent)
    return detailed


def derive(ctx) -> None:
    roles = ctx.frames.pop("onet_roles")
    roles = roles.merge(soc_parents(ctx.frames["soc_groups"]), on="soc_code", how="left")
    codes = ctx.frames["oews_codes"][["soc_code", "oews_code", "is_aggregate"]]
    roles = roles.merge(codes.rename(columns={"oews_code": "labor_code", "is_aggregate": "labor_is_aggregate"}),
                        on="soc_code", how="left")
    labor = ctx.frames["labor_stats"].set_index("code")
    for source, target in LABOR_COLUMNS.items():
        roles[target] = roles["labor_code"].map(labor[source])
    sharing = roles.groupby("labor_code")["code"].transform("size")
    roles["roles_sharing_labor_code"] = sharing.where(roles["labor_code"].notna()).astype("Int64")
    ctx.frames["roles"] = roles.sort_values("code", ignore_index=True)
