"""DAIOE, Dynamic AI Occupational Exposure (Engberg, Lodefalk et al.): frozen 2010-2023 vintage.

Raw: one row per O*NET-SOC 2010 occupation (966, 8-digit `11-1011.00`) and year (2010-2023), with
cumulative exposure levels `daioe_<app>` for nine AI applications and two composites, and their
within-year percentile ranks `pctl_rank_<app>` (0-100). An application's cells are empty in the years
before its first admitted benchmark: empty means "not yet measured", not zero, and is dropped here.

- `exposure_by_year`: the whole panel, tidy: one row per (measure, occupation, year) with a value
  (titles of O*NET-SOC 2010 codes are in the O*NET 2010->2019 crosswalk, not repeated here).
- `native_scores`: the 2023 level of the two composites. `daioe2024_allapps` (raw sum over all nine
  applications) is the headline: the upstream documentation calls it "the replication object behind
  the published estimates". `daioe2024_genai` (language modelling + image generation) is the
  generative composite. Levels are unstandardised cumulative sums (allapps 0.12-56.8 in 2023);
  compare by rank or percentile.
"""
from __future__ import annotations

import pandas as pd

SOURCES = ("daioe_onetsoc2010",)
FAMILY = "daioe2024"
#: Application or composite suffix as in the raw columns; the first two are composites.
APPS = ("allapps", "genai", "stratgames", "videogames", "imgrec", "imgcompr", "imggen", "readcompr",
        "lngmod", "translat", "speechrec")
HEADLINE = ("allapps", "genai")  # the composites published as role-level scores
LATEST_YEAR = 2023


def measure_id(app: str) -> str:
    return f"{FAMILY}_{app}"


def load(raw) -> dict[str, pd.DataFrame]:
    df = raw.read("daioe_onetsoc2010")
    code = df["occ_code_onetsoc2010"].astype(str).str.strip()
    frames = []
    for app in APPS:
        frames.append(pd.DataFrame({
            "measure_id": measure_id(app),
            "code_system": "onetsoc2010",
            "native_code": code,
            "year": df["year"].astype("Int64"),
            "score": df[f"daioe_{app}"].astype("float64"),
            "pctl_rank": df[f"pctl_rank_{app}"].astype("float64"),
        }))
    panel = pd.concat(frames, ignore_index=True)
    panel = panel[panel["score"].notna()]
    panel = panel.sort_values(["measure_id", "native_code", "year"], ignore_index=True)

    latest = panel[(panel["year"] == LATEST_YEAR) & panel["measure_id"].isin([measure_id(a) for a in HEADLINE])]
    native = pd.DataFrame({
        "measure_id": latest["measure_id"],
        "code_system": "onetsoc2010",
        "native_code": latest["native_code"],
        "score": latest["score"],
        "coverage": None,
    }).reset_index(drop=True)
    return {"native_scores": native, "exposure_by_year": panel}
