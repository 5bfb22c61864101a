"""Brynjolfsson, Mitchell & Rock (2018): suitability for machine learning (SML).

`bmr2018_sml` = `mSML`, the mean SML rating (1-5 rubric) of an occupation's tasks, for 951
O*NET-SOC 2010 occupations (8-digit `11-1011.03`; all are in the O*NET-SOC 2010 taxonomy and
map to O*NET-SOC 2019 through the O*NET 2010->2019 crosswalk). Pre-LLM measure.
"""
from __future__ import annotations

import pandas as pd

SOURCES = ("sml_scores",)
MEASURE_ID = "bmr2018_sml"


def load(raw) -> dict[str, pd.DataFrame]:
    df = raw.read("sml_scores")
    out = pd.DataFrame({
        "measure_id": MEASURE_ID,
        "code_system": "onetsoc2010",
        "native_code": df["occ_code"].astype(str).str.strip(),
        "score": df["mSML"].astype("float64"),
        "coverage": None,
    })
    return {"native_scores": out.sort_values("native_code", ignore_index=True)}
