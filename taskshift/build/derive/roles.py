"""Derive `roles`: one row per O*NET-SOC occupation with its SOC 2018 groups and labour figures.

Labour figures are published per OEWS code (a SOC 2018 detailed code, or an aggregate of several):
roles.soc_code -> oews_codes -> labor_stats. They belong to that code and are repeated on every role
under it; `roles_sharing_labor_code` says how many roles share them, so nobody sums them by mistake.

Two programs, two bases (never mixed in one figure):
- `employment`, wages: OEWS May 2025 (`labor_year`; May 2024 for the one code May 2025 does not
  publish, 11-1031 Legislators), wage and salary jobs (no self-employed);
- `ep_employment_2024`, `employment_2034`, `employment_change_pct`, `annual_openings`: BLS Employment
  Projections 2024-34, whose base includes the self-employed. A projection is compared with EP's own
  2024 figure, never with OEWS (Writers and Authors: OEWS 47,800 jobs, EP 2024 135,400 -> 2034 140,300).
`employment_allocated` = employment / roles_sharing_labor_code: the role's even share of its code's
OEWS employment (O*NET publishes no employment below the OEWS code). It sums to the OEWS total over
roles without counting a shared code twice; every aggregate over roles uses it.
"""
from __future__ import annotations

import pandas as pd

LABOR_COLUMNS = {
    "employment": "employment",
    "mean_wage": "mean_wage",
    "median_wage": "median_wage",
    "wage_flag": "wage_flag",
    "ep_employment_2024": "ep_employment_2024",
    "ep_employment_2034": "employment_2034",
    "ep_change_pct": "employment_change_pct",
    "ep_openings": "annual_openings",
    "education": "typical_education",
    "oews_year": "labor_year",
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
    roles["employment_allocated"] = (roles["employment"].astype("float64") / roles["roles_sharing_labor_code"].astype("float64"))
    ctx.frames["roles"] = roles.sort_values("code", ignore_index=True)
    counted = roles.drop_duplicates("labor_code")
    ctx.note("labor_figures", LABOR_FIGURES, "program and year of every labour figure of roles (and the API's role)")
    ctx.note("employment_total", {
        "oews_may_2025_all_occupations": _int(ctx.frames["labor_stats"].set_index("code")["employment"].get("00-0000")),
        "roles_labor_codes_counted_once": _int(counted["employment"].sum()),
        "roles_employment_allocated_sum": _int(roles["employment_allocated"].sum()),
        "roles_employment_summed_naively": _int(roles["employment"].sum()),
    }, "OEWS May 2025 employment (May 2024 for 11-1031 Legislators, which May 2025 does not publish): the published total, the roles' labour codes counted once, the sum of employment_allocated "
       "(the same), and the naive sum of roles.employment (counts a shared code once per role: do not use)")


def _int(x) -> int | None:
    return None if pd.isna(x) else int(round(float(x)))


LABOR_FIGURES = {
    "employment": "BLS OEWS May 2025 national estimates: wage and salary jobs of labor_code (no self-employed); "
                  "May 2024 where labor_year = 2024 (11-1031 Legislators, not published in May 2025)",
    "employment_allocated": "employment / roles_sharing_labor_code: OEWS May 2025 (labor_year), the role's even share of labor_code",
    "mean_wage": "BLS OEWS May 2025 (labor_year), annual mean wage of labor_code",
    "median_wage": "BLS OEWS May 2025 (labor_year), annual median wage of labor_code",
    "labor_year": "OEWS vintage of employment and wages: 2025, or 2024 for codes OEWS May 2025 does not publish",
    "sector figures": "BLS OEWS May 2024 by NAICS sector (no May 2025 by-sector file): sectors, sector_roles, sector_exposure",
    "ep_employment_2024": "BLS Employment Projections 2024-34, 2024 base employment of labor_code (includes self-employed)",
    "employment_2034": "BLS Employment Projections 2024-34, projected 2034 employment of labor_code (includes self-employed)",
    "employment_change_pct": "BLS Employment Projections 2024-34: (employment_2034 / ep_employment_2024 - 1) x 100, as published",
    "annual_openings": "BLS Employment Projections 2024-34, average annual openings",
    "typical_education": "BLS Employment Projections 2024-34, typical education needed for entry",
}
