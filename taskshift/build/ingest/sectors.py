"""OEWS May 2024 by NAICS sector -> `sectors` (20 rows) and `sector_roles` (sector x OEWS code).

The workbook stores the combined sectors as the numbers 31, 44 and 48; their NAICS labels 31-33,
44-45 and 48-49 come from the supersector list, where the parts share one title. OEWS sector 99
(government, excluding state and local schools and hospitals and the USPS, which OEWS counts in
61 and 62) has no NAICS sector; it is put in supersector 90 Government, like NAICS 92.
"""
from __future__ import annotations

import pandas as pd

from taskshift.build.ingest.oews import number, tidy_oews

SOURCES = ("bls_natsector_m2024_dl", "taxonomy_bls_supersectors")

GOVERNMENT = "99"  # OEWS designation; placed in the supersector of NAICS 92 Public Administration


def naics_labels(supersectors: pd.DataFrame) -> pd.DataFrame:
    """One row per NAICS sector: first 2-digit code, label ('31-33'), supersector code and title."""
    parts = supersectors.sort_values("naics").groupby(["naics_desc", "supersector", "supersector_desc"])
    out = parts["naics"].agg(["min", "max"]).reset_index()
    out["naics_code"] = out["min"].where(out["min"] == out["max"], out["min"] + "-" + out["max"])
    return out.rename(columns={"min": "first", "supersector": "supersector_code",
                               "supersector_desc": "supersector_title"})


def load(raw) -> dict[str, pd.DataFrame]:
    rows = raw.read("bls_natsector_m2024_dl")
    labels = naics_labels(raw.read("taxonomy_bls_supersectors")).set_index("first")
    labels.loc[GOVERNMENT] = labels.loc[labels["naics_code"] == "92"].iloc[0].to_dict() | {"naics_code": GOVERNMENT}
    missing = set(rows["NAICS"]) - set(labels.index)
    if missing:
        raise ValueError(f"OEWS sectors without a NAICS label: {sorted(missing)}")

    roles = tidy_oews(rows, by="NAICS")  # one row per sector and code, wage flags as in labor_stats
    roles["pct_of_sector"] = number(rows.loc[roles.index, "PCT_TOTAL"])
    roles = roles.assign(naics_code=roles.pop("NAICS").map(labels["naics_code"])).rename(columns={"code": "oews_code"})

    totals = roles[roles["oews_code"] == "00-0000"].set_index("naics_code")["employment"]
    titles = rows.assign(naics_code=rows["NAICS"].map(labels["naics_code"])).groupby("naics_code")["NAICS_TITLE"].first()
    sectors = labels.set_index("naics_code")[["supersector_code", "supersector_title"]]
    sectors = sectors.loc[titles.index].assign(title=titles.str.strip(), employment=totals).reset_index()
    cols = ["naics_code", "oews_code", "o_group", "employment", "employment_rse", "pct_of_sector",
            "mean_wage", "median_wage", "mean_hourly_wage", "median_hourly_wage", "wage_flag"]
    return {
        "sectors": sectors[["naics_code", "title", "supersector_code", "supersector_title", "employment"]],
        "sector_roles": roles[cols].sort_values(["naics_code", "oews_code"], ignore_index=True),
    }
